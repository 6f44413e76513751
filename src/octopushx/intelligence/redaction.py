"""Find and redact payment cards, CVVs, expiry dates, bank details, NI numbers, emails, phones and postcodes.

Works on recognised words (with times), so every finding has an audio span that
:func:`octopushx.intelligence.redact_audio` can silence. Numbers are understood however they
were transcribed or spoken: "4916 3827", "4-9-1-6", "four nine one six", "double five",
"twenty eight", and the homophones speech recognisers write for digits inside a number
("for" = 4, "to" = 2, "oh" = 0). Each speaker's words are read as one stream (a number read
across two segments is still one number), and so are all the words of the call in time order (on
a mono recording the speaker labels can cut a number in two); the words around a number, from
both speakers, give its context ("sort code", "security code", "expires"…). A finding's span
starts up to 0.75 s before its first word, in the pause before it: recognisers time the first
word after a pause late.

Tags: ``[CARD]`` (13–19 digits passing the Luhn check, 12 or more digits right after the word
"card", any run longer than 19 digits, or 14 or more not named as another kind of number such as
an order number: a card with a misheard digit; a card read straight on into its expiry and code
is cut into ``[CARD]``, ``[EXPIRY]`` and ``[CVV]`` where the words were), ``[CVV]`` and
``[EXPIRY]`` (3–4 digits named as such, or said by the card's reader straight after the card;
after a security-code cue, every digit-like word up to the end of the sentence, homophones
included: "the code is 41 too"; an expiry takes its month word, "April 2027"), ``[ACCOUNT]``
(6–10 digits named as an account number, or 8 digits after a sort code; IBANs), ``[SORT_CODE]``
(6 digits named as a sort code or grouped 2-2-2), ``[NI]`` (two letters, six digits, a letter
A–D; or six digits named as a national insurance number), ``[EMAIL]`` (written or spoken: "john
dot smith at example dot com"), ``[PHONE]`` (10–13 digit numbers, "+44…", or 7+ digits named as a
phone number) and ``[POSTCODE]`` (a UK postcode written "SW1A 1AA", or after the word postcode
also spelled out: "S W one A, one A A").

What is not card data (issue 16): numbers with a currency word or sign before or after them
("600 pounds", "£82", "82 pounds 50", "$1,200") or a unit or count word after them ("two to three
days", "500 megabits", "2 engineers"); 3–4 digits after a card that are neither asked for nor read
on at once by the card's reader (a year, a time, an amount the agent repeats); numbers named as an
order, ticket, case or booking reference (unless they pass as a card).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from octopushx.intelligence.results import Redaction, RedactionSpan, Utterance, Word

UNITS = {
    "zero": "0",
    "oh": "0",
    "o": "0",
    "nought": "0",
    "nil": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}
TEENS = {
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "thirteen": "13",
    "fourteen": "14",
    "fifteen": "15",
    "sixteen": "16",
    "seventeen": "17",
    "eighteen": "18",
    "nineteen": "19",
}
TENS = {
    "twenty": "2",
    "thirty": "3",
    "forty": "4",
    "fifty": "5",
    "sixty": "6",
    "seventy": "7",
    "eighty": "8",
    "ninety": "9",
}
# Words a recogniser writes for a digit; read as digits only inside a number.
HOMOPHONES = {"to": "2", "too": "2", "for": "4", "fore": "4", "won": "1", "ate": "8", "free": "3", "tree": "3"}
MULTIPLIERS = {"double": 2, "triple": 3}
CONNECTORS = {"and", "dash", "hyphen", "then", "uh", "um", "er", "erm", "space", "slash", "is"}
LEAD_INS = {"is", "was", "code", "number", "it's", "its", "are", "on", "at", "be", "me"}
MAX_GAP = 2.0  # seconds between two words of one spoken number

TLDS = {
    "com",
    "org",
    "net",
    "co",
    "uk",
    "io",
    "ie",
    "de",
    "fr",
    "gov",
    "edu",
    "info",
    "biz",
    "me",
    "us",
    "ca",
    "au",
    "nz",
    "eu",
    "ac",
    "ltd",
    "email",
}
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
DOMAIN = re.compile(r"^[\w-]+(?:\.[\w-]+)*\.(?:" + "|".join(sorted(TLDS)) + r")$", re.IGNORECASE)
IBAN = re.compile(r"^[a-z]{2}\d{2}[a-z0-9]{10,30}$", re.IGNORECASE)

CONTEXT = {
    "CARD": re.compile(r"\b(card|visa|mastercard|amex|long number|card number)\b"),
    "CVV": re.compile(r"\b(security (code|number)|cvv|cvc|cv2|three digits|last three|on the back|back of the card)\b"),
    "EXPIRY": re.compile(
        r"\b(expir\w*|valid (until|to|thru|through)|end date|date on the card|month and (the )?year)\b"
    ),
    "SORT_CODE": re.compile(r"\b(sort|short|thought|sought)\s*codes?\b"),
    "ACCOUNT": re.compile(r"\b(account|count)\s*(number|no)\b|\baccount\b"),
    "NI": re.compile(r"\b(national insurance|insurance number|n i number|ni number|nino)\b"),
    "PHONE": re.compile(r"\b(phone|mobile|landline|telephone|call me|reach me|ring me|contact number|cell)\b"),
}


# Long numbers that are not card numbers when they are named so.
OTHER_NUMBERS = re.compile(
    r"\b(order|reference|ref|tracking|invoice|policy|booking|customer|member|membership|serial|parcel|"
    r"ticket|case|meter|confirmation|transaction)\s+(number|no|id|code)\b"
    r"|\b(booking|order|case|ticket|tracking|confirmation|your|the)\s+(reference|ref)\b"
)


# A cue from the other speaker that a new number starts: a card's digits stop there.
NEW_NUMBER = re.compile(
    r"\b(expir\w*|valid|end date|security|cvv|cvc|cv2|code|digits|sort|short|account|phone|mobile|"
    r"postcode|post code|insurance|email)\b"
)
FILLERS = {"and", "the", "then", "um", "uh", "er", "erm", "so", "yes", "yeah", "it's", "its", "is", "oh"}
MONTHS = {
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
}
CARD_FOLLOW_SECONDS = 20.0  # a code or expiry read straight on after the card, within this time


def _month_before(words: Sequence[Word], first: int) -> bool:
    return first > 0 and _clean(words[first - 1].text) in MONTHS


@dataclass
class _Token:
    word: int
    kind: str  # "digit", "letters", "other"
    value: str
    tens: bool = False  # "twenty" waiting for a unit
    last_word: int = -1  # the last word this token covers ("twenty eight" is one token)

    def __post_init__(self) -> None:
        if self.last_word < 0:
            self.last_word = self.word


@dataclass
class _Run:
    digits: str
    groups: list[int]
    first: int  # word index
    last: int
    letters_before: str = ""
    letters_after: str = ""
    letters_first: int | None = None
    letters_last: int | None = None
    parts: list[tuple[int, int, int]] = field(default_factory=list)  # (digits, first word, last word)


@dataclass
class _Finding:
    kind: str
    first: int
    last: int


@dataclass
class _Stream:
    speaker: str
    words: list[Word] = field(default_factory=list)
    places: list[tuple[int, int]] = field(default_factory=list)  # (utterance, word) of each word
    speakers: list[str] = field(default_factory=list)  # who said each word


def _clean(text: str) -> str:
    return text.lower().strip(" ,.;:!?\"'()[]{}-")


def _tokens(word_index: int, raw: str) -> list[_Token]:
    low = _clean(raw)
    if not low:
        return [_Token(word_index, "other", "")]
    if re.fullmatch(r"\+?\d[\d\-/.,]*", low):
        digits = re.sub(r"\D", "", low)
        # Keep the spoken grouping ("20-45-77") as separate tokens.
        parts = [p for p in re.split(r"[-/.,]", low.lstrip("+")) if p]
        if len(parts) > 1 and all(p.isdigit() for p in parts):
            return [_Token(word_index, "digit", p) for p in parts]
        return [_Token(word_index, "digit", digits)]
    mixed = re.fullmatch(r"([a-z]{1,2})?(\d+)([a-z])?", low)
    if mixed and (mixed.group(1) or mixed.group(3)):
        tokens = []
        if mixed.group(1):
            tokens.append(_Token(word_index, "letters", mixed.group(1).upper()))
        tokens.append(_Token(word_index, "digit", mixed.group(2)))
        if mixed.group(3):
            tokens.append(_Token(word_index, "letters", mixed.group(3).upper()))
        return tokens
    if low in UNITS:
        return [_Token(word_index, "digit", UNITS[low])]
    if low in TEENS:
        return [_Token(word_index, "digit", TEENS[low])]
    if low in TENS:
        return [_Token(word_index, "digit", TENS[low], tens=True)]
    if "-" in low and all(part in UNITS for part in low.split("-")):
        return [_Token(word_index, "digit", "".join(UNITS[p] for p in low.split("-")))]
    if low in MULTIPLIERS:
        return [_Token(word_index, "multiplier", str(MULTIPLIERS[low]))]
    if low in HOMOPHONES:
        return [_Token(word_index, "homophone", HOMOPHONES[low])]
    stripped = raw.strip(" ,.;:!?\"'()")
    if re.fullmatch(r"[A-Za-z]", stripped) or re.fullmatch(r"[A-Z]{2}", stripped):
        return [_Token(word_index, "letters", stripped.upper())]
    return [_Token(word_index, "other", low)]


def _tokenise(words: Sequence[Word]) -> list[_Token]:
    tokens: list[_Token] = []
    for index, word in enumerate(words):
        tokens.extend(_tokens(index, word.text))
    # "twenty" + "eight" -> "28"; a lone "twenty" -> "20".
    merged: list[_Token] = []
    for token in tokens:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and previous.tens
            and token.kind == "digit"
            and not token.tens
            and len(token.value) == 1
            and token.value != "0"
        ):
            previous.value += token.value
            previous.tens = False
            previous.last_word = token.last_word
            continue
        if previous is not None and previous.tens:
            previous.value += "0"
            previous.tens = False
        merged.append(token)
    if merged and merged[-1].tens:
        merged[-1].value += "0"
        merged[-1].tens = False
    # "double five" -> "55"
    for index, token in enumerate(merged):
        if token.kind == "multiplier":
            following = merged[index + 1] if index + 1 < len(merged) else None
            if following is not None and following.kind == "digit" and len(following.value) == 1:
                following.value *= int(token.value)
                following.word = token.word
            token.kind, token.value = "other", ""
    # homophones count as digits only inside a number, or right before one after "is"/"code"
    for index, token in enumerate(merged):
        if token.kind != "homophone":
            continue
        before = merged[index - 1] if index else None
        if before is not None and before.value in CONNECTORS and index >= 2 and merged[index - 2].kind == "digit":
            before = merged[index - 2]  # "545 and to 484": the digit before the "and"
        after = merged[index + 1] if index + 1 < len(merged) else None
        after_digit = after is not None and after.kind == "digit"
        if (
            after_digit
            and before is not None
            and (before.kind == "digit" or before.kind == "letters" or before.value in LEAD_INS)
        ):
            token.kind = "digit"
        else:
            token.kind, token.value = "other", _clean(words[token.word].text)
    return merged


def _runs(tokens: Sequence[_Token], words: Sequence[Word], context: _Context | None = None) -> list[_Run]:
    runs: list[_Run] = []
    current: _Run | None = None
    skipped = 0
    for index, token in enumerate(tokens):
        if token.kind == "digit":
            gap_ok = current is not None and words[token.word].start - words[current.last].end <= MAX_GAP
            if gap_ok and context is not None:
                # the other speaker asked for another number in between: "Expiry?" after a card
                between = context.between(words[current.last].end, words[token.word].start)
                gap_ok = not NEW_NUMBER.search(between)
            if current is not None and gap_ok:
                current.digits += token.value
                current.groups.append(len(token.value))
                current.parts.append((len(token.value), token.word, token.last_word))
                current.last = token.last_word
            else:
                if current is not None:
                    runs.append(current)
                current = _Run(token.value, [len(token.value)], token.word, token.last_word)
                current.parts.append((len(token.value), token.word, token.last_word))
                letters, first = _letters_before(tokens, index)
                current.letters_before, current.letters_first = letters, first
            skipped = 0
            continue
        if current is not None and token.kind == "other" and not re.search(r"\w", token.value):
            continue  # a dash or an ellipsis written as its own word: "4 - 5 - 5 …"
        if current is not None and token.kind == "other" and token.value in CONNECTORS and skipped == 0:
            skipped += 1
            continue
        if current is not None:
            if token.kind == "letters":
                current.letters_after, current.letters_last = token.value, token.word
            runs.append(current)
            current = None
        skipped = 0
    if current is not None:
        runs.append(current)
    return runs


def _letters_before(tokens: Sequence[_Token], index: int) -> tuple[str, int | None]:
    letters, first = "", None
    position = index - 1
    while position >= 0 and tokens[position].kind == "letters" and len(letters) < 2:
        letters = tokens[position].value + letters
        first = tokens[position].word
        position -= 1
    return letters, first


def luhn(digits: str) -> bool:
    """The Luhn (mod 10) check that every payment card number passes."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _card_in(digits: str) -> bool:
    if 13 <= len(digits) <= 19 and luhn(digits):
        return True
    # a longer run may be a card read straight on into its expiry or CVV
    return len(digits) > 19 and any(luhn(digits[:length]) for length in (16, 15))


def _nearest(before: str, kinds: Sequence[str]) -> str | None:
    """Of ``kinds``, the one whose context words occur last in ``before`` ("OTHER": a number named
    as an order, ticket or reference number). "The expiry date on the card": the card there
    only says which expiry, so a card named within a few words after another kind does not count."""
    best, best_position = None, -1
    others = [m.start() for kind in kinds if kind != "CARD" for m in CONTEXT[kind].finditer(before)]
    for kind in kinds:
        for match in CONTEXT[kind].finditer(before):
            if kind == "CARD" and any(0 < match.start() - other <= 30 for other in others):
                continue
            if match.start() > best_position:
                best, best_position = kind, match.start()
    for match in OTHER_NUMBERS.finditer(before):
        if match.start() > best_position:
            best, best_position = "OTHER", match.start()
    return best


def _plausible_expiry(digits: str) -> bool:
    if len(digits) == 4:
        return 1 <= int(digits[:2]) <= 12
    if len(digits) == 3:
        return digits[0] != "0"
    return False


class _Context:
    """The words of the whole call (all speakers) in time order, to look around a number."""

    def __init__(self, streams: Sequence[_Stream]):
        everything = sorted((w.start, _clean(w.text)) for s in streams for w in s.words)
        self.times = [t for t, _ in everything]
        self.texts = [t for _, t in everything]

    def before(self, time: float, seconds: float) -> str:
        low = bisect.bisect_left(self.times, time - seconds)
        high = bisect.bisect_left(self.times, time - 0.01)
        return " ".join(self.texts[low:high])

    def after(self, time: float, seconds: float) -> str:
        low = bisect.bisect_right(self.times, time)
        high = bisect.bisect_right(self.times, time + seconds)
        return " ".join(self.texts[low:high])

    def between(self, start: float, end: float) -> str:
        """The words that start after ``start`` and before ``end``, whoever said them."""
        low = bisect.bisect_left(self.times, start)
        high = bisect.bisect_left(self.times, end - 0.01)
        return " ".join(self.texts[low:high])


ROLES = {"agent", "customer"}
CARD_DATA_CUE = re.compile(r"\b(digits|back|front|code|cvv|cvc|cv2|expir\w*|valid|end date)\b")


def _right_after(context: _Context, cards: list[tuple[float, str]], start: float, speaker: str) -> bool:
    """In card context: said soon after a card number, either straight after it (at most two
    other words between) by whoever read it (when the speakers are known as agent and customer:
    the agent's "and it's 600 today?" after the customer's card is not its code), or as the
    answer to a card-data question asked since, read on after the digits before it with at most
    one word between ("7 .39 and the textiles. 8 .28": "and it expires" misheard)."""
    for end, card_speaker in cards:
        if not 0 <= start - end <= CARD_FOLLOW_SECONDS:
            continue
        between = [w for w in context.between(end, start).split() if w]
        plain = [w for w in between if w not in FILLERS]
        same_reader = card_speaker == speaker or not {card_speaker, speaker} <= ROLES
        if same_reader and len(plain) <= 2 and not any(w in MONTHS for w in plain[:-1]):
            return True
        if not CARD_DATA_CUE.search(" ".join(between)):
            continue
        since_digits: list[str] = []
        for word in reversed(between):
            if _digit_like(word) == "real":
                break
            since_digits.append(word)
        else:
            continue  # no digits since the question: the named rules decide
        if len([w for w in since_digits if w not in FILLERS]) <= 1:
            return True
    return False


def _answered(before: str, kind: str) -> bool:
    """The question for a code or an expiry was answered already: digits that are not an amount,
    then talk of other things ("412." "Thanks, so the payment of six hundred pounds… that's 600")."""
    cues = list(CONTEXT[kind].finditer(before))
    if not cues:
        return False
    since = before[cues[-1].end() :].split()
    index = 0
    while index < len(since):
        if _digit_like(since[index]) != "real" or CURRENCY.search(since[index]):
            index += 1
            continue
        end = index
        while end + 1 < len(since) and _digit_like(since[end + 1]) is not None:
            end += 1
        following = since[end + 1] if end + 1 < len(since) else ""
        if following in AMOUNT_WORDS or following in CURRENCY_WORDS:
            index = end + 1  # "I'll take 412 pounds": an amount, not the answer
            continue
        rest = [w for w in since[end + 1 :] if w not in FILLERS and _digit_like(w) is None]
        return len(rest) >= 3
    return False


def _asked_expiry_first(before: str) -> bool:
    """One question asked for the expiry, then the code, and no digits have been said since."""
    expiries = list(CONTEXT["EXPIRY"].finditer(before))
    codes = list(CONTEXT["CVV"].finditer(before))
    if not expiries or not codes or not 0 < codes[-1].start() - expiries[-1].start() <= 40:
        return False
    since = before[expiries[-1].end() :].split()
    return not any(_digit_like(word) == "real" for word in since)


def _classify(
    run: _Run, words: Sequence[Word], context: _Context, cards: list[tuple[float, str]], speaker: str
) -> str | None:
    digits = run.digits
    count = len(digits)
    start = words[run.first].start
    before = context.before(start, 15.0)
    # "CVV only in card context": a short group is card data when the agent asked for it (named)
    # or when it follows the card number at once; any other 3-4 digits (a year, a speed, a
    # quantity, an amount said without its currency) are left alone.
    recent_card = _right_after(context, cards, start, speaker) or (
        _month_before(words, run.first) and any(0 <= start - t <= 60.0 for t, _ in cards)
    )
    named = _nearest(before, ["CARD", "CVV", "EXPIRY", "SORT_CODE", "ACCOUNT", "NI", "PHONE"])
    if named in ("CVV", "EXPIRY") and _answered(before, named):
        named = None
    if named == "CVV" and 3 <= count <= 4 and _plausible_expiry(digits) and _asked_expiry_first(before):
        named = "EXPIRY"  # "the expiry date and the security code?" "8, 28, and the code is 417"

    if count >= 13 and _card_in(digits):
        return "CARD"
    if named == "OTHER":
        return None  # "the booking reference is 0 7 7 0 0…": named as something that is not card data
    if run.letters_before and len(run.letters_before) == 2 and count == 6:
        return "NI"
    if named == "NI" and count == 6:
        return "NI"
    if named == "CARD" and count >= 12:
        return "CARD"  # longer than a card: misheard digits or a repetition loop after it
    if count == 6 and (named == "SORT_CODE" or run.groups == [2, 2, 2]):
        return "SORT_CODE"
    if count == 6 and CONTEXT["ACCOUNT"].search(context.after(words[run.last].end, 4.0)):
        return "SORT_CODE"  # "…is 204577 and the account number is…"
    if named == "ACCOUNT" and 6 <= count <= 10:
        return "ACCOUNT"
    if count == 8 and "SORT_CODE" in _recent_kinds(before):
        return "ACCOUNT"
    if 3 <= count <= 4 and (named in ("CVV", "EXPIRY") or recent_card):
        if named in ("CVV", "EXPIRY"):
            return named
        return "EXPIRY" if count == 4 and _plausible_expiry(digits) else "CVV"
    if 2 <= count <= 6 and named == "EXPIRY":
        return "EXPIRY"
    if count == 6 and recent_card and _plausible_expiry(digits[:2] + digits[4:]) and digits[2:4] == "20":
        return "EXPIRY"  # "04 2027" straight after the card
    if 10 <= count <= 13 and (digits[0] == "0" or digits.startswith("44") or named == "PHONE" or count in (10, 11)):
        return "PHONE"
    if 5 <= count <= 13 and named == "PHONE":
        return "PHONE"
    if count > 19:
        return "CARD"  # longer than any card: one read on into more digits, or a repetition loop
    if count >= 14 and named in (None, "CARD", "CVV", "EXPIRY") and not OTHER_NUMBERS.search(before):
        return "CARD"  # longer than a phone number and not named as another one: a misheard card
    return None


def _recent_kinds(before: str) -> set[str]:
    return {kind for kind, pattern in CONTEXT.items() if pattern.search(before)}


def _emails(words: Sequence[Word], context: _Context) -> list[_Finding]:
    findings: list[_Finding] = []
    lowered = [_clean(w.text) for w in words]
    for index, raw in enumerate(words):
        if EMAIL.search(raw.text):
            findings.append(_Finding("EMAIL", index, index))
    for index, word in enumerate(lowered):
        if word not in ("at", "@"):
            continue
        # the domain: "example dot com", "example.com", "northmail dot co dot uk"
        position, parts = index + 1, []
        while position < len(lowered):
            token = lowered[position]
            if token in _SEPARATOR_WORDS or token == ".":
                parts.append(".")
            elif raw_text(words[position]).startswith(".") and parts and parts[-1] != ".":
                parts.extend([".", token])
            elif re.fullmatch(r"[\w.-]+", token) and (not parts or parts[-1] == "."):
                parts.append(token)
            else:
                break
            position += 1
        while parts and parts[-1] == ".":
            parts.pop()
            position -= 1
        domain = "".join(parts)
        if not parts or not DOMAIN.match(domain):
            continue
        last = position - 1
        # the local part: "john dot smith", "john.smith", "john smith"
        first = index - 1
        if first < 0 or lowered[first] in _NOT_NAMES or not re.fullmatch(r"[\w.+-]+", lowered[first]):
            continue
        while first >= 2 and lowered[first - 1] in _SEPARATORS and lowered[first - 2] not in _NOT_NAMES:
            first -= 2
        if first >= 1 and re.fullmatch(r"[a-z]+", lowered[first - 1]) and lowered[first - 1] not in _NOT_NAMES:
            first -= 1  # a first name said before the surname
        findings.append(_Finding("EMAIL", first, last))
    # "john.smith.example.com" or "johnsmith .example .com" with no "at" heard, or "at" heard
    # as "and", in a call that talks about email
    for index in range(len(lowered)):
        if not _talks_about_email(lowered, index, words, context):
            continue
        last, joined = _written_domain(words, lowered, index)
        if joined.count(".") >= 2 and DOMAIN.match(joined):
            findings.append(_Finding("EMAIL", index, last))
            continue
        if lowered[index] != "and" or index == 0 or index + 1 >= len(lowered):
            continue
        last, joined = _written_domain(words, lowered, index + 1)
        if "." in joined and DOMAIN.match(joined) and lowered[index - 1] not in _NOT_NAMES:
            first = index - 1
            if first >= 1 and re.fullmatch(r"[a-z]+", lowered[first - 1]) and lowered[first - 1] not in _NOT_NAMES:
                first -= 1
            findings.append(_Finding("EMAIL", first, last))
    return _merge(findings)


def _talks_about_email(lowered: list[str], index: int, words: Sequence[Word], context: _Context) -> bool:
    nearby = " ".join(lowered[max(0, index - 5) : index])
    return "email" in nearby or "e-mail" in nearby or "email" in context.before(words[index].start, 20.0)


def _written_domain(words: Sequence[Word], lowered: list[str], index: int) -> tuple[int, str]:
    """Join ``words[index]`` with following words written as ".example", ".com"."""
    last, joined = index, lowered[index]
    while last + 1 < len(words) and words[last + 1].text.strip().startswith("."):
        last += 1
        joined += lowered[last] if lowered[last].startswith(".") else "." + lowered[last]
    return last, joined


def _merge(findings: list[_Finding]) -> list[_Finding]:
    """Overlapping findings of one kind become one."""
    merged: list[_Finding] = []
    for finding in sorted(findings, key=lambda f: (f.first, -f.last)):
        if merged and finding.first <= merged[-1].last:
            merged[-1].last = max(merged[-1].last, finding.last)
            continue
        merged.append(_Finding(finding.kind, finding.first, finding.last))
    return merged


_SEPARATORS = {"dot", "underscore", "dash", "hyphen", "not"}  # "not": "dot" misheard
_SEPARATOR_WORDS = {"dot", "not", "dut"}


def raw_text(word: Word) -> str:
    return word.text.strip()


_NOT_NAMES = {
    "is",
    "it's",
    "its",
    "email",
    "e-mail",
    "address",
    "use",
    "me",
    "at",
    "to",
    "my",
    "the",
    "a",
    "send",
    "it",
    "that",
    "on",
    "please",
    "yes",
    "sure",
    "and",
    "be",
    "was",
}


def _find(stream: _Stream, context: _Context) -> list[_Finding]:
    words = stream.words
    findings = _emails(words, context)
    taken = {i for f in findings for i in range(f.first, f.last + 1)}
    cards: list[tuple[float, str]] = []  # when each card number ended, and who read it
    for index, word in enumerate(words):
        if IBAN.match(_clean(word.text)) and any(c.isdigit() for c in word.text) and index not in taken:
            findings.append(_Finding("ACCOUNT", index, index))
            taken.add(index)
    for finding in _postcodes(words, context):
        if not any(i in taken for i in range(finding.first, finding.last + 1)):
            findings.append(finding)
            taken.update(range(finding.first, finding.last + 1))
    for run in _runs(_tokenise(words), words, context):
        if any(i in taken for i in range(run.first, run.last + 1)):
            continue
        kind = _classify(run, words, context, cards, stream.speakers[run.first])
        if len(run.digits) < 13 and _is_amount(words, run.first, run.last):
            continue
        if kind is None and 7 <= len(run.digits) <= 8:
            # "Expiry and security code?" "0 5 2 8 and 6 6 2."
            split = _expiry_then_code(run, run.parts, None)
            asked = _recent_kinds(context.before(words[run.first].start, 15.0))
            if split and {"EXPIRY", "CVV"} <= asked:
                findings.extend(split)
                taken.update(range(run.first, run.last + 1))
            continue
        if kind is None:
            continue
        if kind == "CARD":
            split = _card_and_more(run)
            if split:
                cards.append((words[split[0].last].end, stream.speakers[run.first]))
                findings.extend(split)
                taken.update(range(run.first, run.last + 1))
                continue
        first, last = run.first, run.last
        if kind == "EXPIRY" and _month_before(words, first):
            first -= 1  # "April 2027"
        if kind == "NI":
            if run.letters_first is not None:
                first = run.letters_first
            if run.letters_after and run.letters_after in "ABCD" and run.letters_last is not None:
                last = max(last, run.letters_last)
        if kind == "PHONE" and first > 0 and _clean(words[first - 1].text) in ("plus", "+"):
            first -= 1
        if kind == "CARD":
            cards.append((words[run.last].end, stream.speakers[run.first]))
        findings.append(_Finding(kind, first, last))
        taken.update(range(first, last + 1))
    return sorted(findings, key=lambda f: f.first)


def _card_and_more(run: _Run) -> list[_Finding]:
    """A card read straight on into its expiry and code ("5425 2384 3010 9605, 0 3 2 7, 4 4 1"):
    the card, then an expiry (4 digits, a month first) and a 3-4 digit code, cut where the words
    were. Empty when the run does not cut that way (it stays one [CARD])."""
    ends: list[int] = []  # digits up to the end of each part
    for digits, _first, _last in run.parts:
        ends.append((ends[-1] if ends else 0) + digits)
    for length in (16, 15, 19, 18, 17, 14, 13):
        if length not in ends or not luhn(run.digits[:length]):
            continue
        cut = ends.index(length)
        card = _Finding("CARD", run.parts[0][1], run.parts[cut][2])
        return _expiry_then_code(run, run.parts[cut + 1 :], card)
    return []


def _expiry_then_code(run: _Run, after: list[tuple[int, int, int]], card: _Finding | None) -> list[_Finding]:
    """The parts ``after`` read as an expiry, a code, or an expiry then a code ("0 5 2 8 and
    6 6 2"), cut where the words were; empty when they do not read so."""
    rest = run.digits[len(run.digits) - sum(part[0] for part in after) :] if after else ""
    head = [card] if card else []
    if not after:
        return []
    if card and len(rest) in (3, 4) and not (len(rest) == 4 and _plausible_expiry(rest)):
        return [*head, _Finding("CVV", after[0][1], after[-1][2])]
    if card and len(rest) == 4:
        return [*head, _Finding("EXPIRY", after[0][1], after[-1][2])]
    if len(rest) in (7, 8) and _plausible_expiry(rest[:4]):
        inner = [sum(part[0] for part in after[: i + 1]) for i in range(len(after))]
        if 4 in inner:
            middle = inner.index(4)
            return [
                *head,
                _Finding("EXPIRY", after[0][1], after[middle][2]),
                _Finding("CVV", after[middle + 1][1], after[-1][2]),
            ]
    return []


# UK postcodes: "SW1A 1AA", "M1 1AE", "B33 8TH"; spelled out ("S W one A one A A") after the word.
POSTCODE = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]?\d[A-Z]{2}$")
POSTCODE_CUE = re.compile(r"\b(post ?codes?|postal code|zip code|zip)\b")
POSTCODE_WORDS = 9  # the most words a spelled-out postcode takes


def _postcode_piece(raw: str) -> str | None:
    """What a word adds to a postcode: letters, digits or both ("SW1A"); None if nothing."""
    low = _clean(raw)
    if low in UNITS and low not in ("o",):
        return UNITS[low]
    if re.fullmatch(r"[a-z0-9]{1,7}", low):
        return low.upper()
    return None


def _postcodes(words: Sequence[Word], context: _Context) -> list[_Finding]:
    findings: list[_Finding] = []
    index = 0
    while index < len(words):
        piece = _postcode_piece(words[index].text)
        if piece is None or not piece[0].isalpha():
            index += 1  # a postcode starts with a letter
            continue
        pieces: list[str] = [piece]
        for word in words[index + 1 : index + POSTCODE_WORDS]:
            following = _postcode_piece(word.text)
            if following is None:
                break
            pieces.append(following)
        if len(pieces) < 2 and len(piece) < 5:
            index += 1  # neither the first half of one nor a whole one written as one word
            continue
        cued = bool(POSTCODE_CUE.search(context.before(words[index].start, 20.0)))
        found = None
        lengths = range(len(pieces), 0, -1) if cued else (2,)
        for length in lengths:
            joined = "".join(pieces[:length])
            if not POSTCODE.match(joined):
                continue
            written = [w.text.strip(" ,.;:!?") for w in words[index : index + length]]
            # without the word "postcode" only a written one counts: capitals and a digit in
            # each half ("SW1A 1AA"), never a spelled-out run of short words
            if not cued and not (
                length == 2 and all(re.fullmatch(r"[A-Z0-9]{2,4}", w) and re.search(r"\d", w) for w in written)
            ):
                continue
            found = _Finding("POSTCODE", index, index + length - 1)
            break
        if found:
            findings.append(found)
            index = found.last + 1
        else:
            index += 1
    return findings


SPAN_REACH_BACK = 0.75  # seconds a span may start before its first word, in the quiet before it


def _audio_span(words: Sequence[Word], indexes: Sequence[int]) -> tuple[float, float]:
    """The time to silence for words at ``indexes`` of all the call's words in time order.

    A recogniser's word times are rough, worst on the first word after a pause: Whisper often
    starts it half a second late, which left a card's first digit audible. So the span starts
    at the end of the word heard before it, at most :data:`SPAN_REACH_BACK` earlier.
    """
    first = min(indexes)
    start = min(words[i].start for i in indexes)
    end = max(words[i].end for i in indexes)
    previous_end = max((w.end for w in words[:first]), default=0.0)
    return round(min(start, max(previous_end, start - SPAN_REACH_BACK)), 3), round(end, 3)


def _union(found: list[tuple[str, list[tuple[int, int]]]]) -> list[tuple[str, list[tuple[int, int]]]]:
    """Findings that share a word become one, named as its largest part."""
    groups: list[tuple[str, int, set[tuple[int, int]]]] = []  # (kind, size of the naming part, places)
    for kind, places in found:
        merged_kind, size, merged = kind, len(places), set(places)
        kept = []
        for group in groups:
            if group[2] & merged:
                if group[1] >= size:
                    merged_kind, size = group[0], group[1]
                merged |= group[2]
            else:
                kept.append(group)
        groups = [*kept, (merged_kind, size, merged)]
    return [(kind, sorted(places)) for kind, _size, places in groups]


# --- digits after a card-security cue ------------------------------------------------------
# "the code is 41 too", "the security code is 4 -1 … -2": speech recognisers mangle short codes
# into forms no number pattern reads, so after a cue every digit-like word up to the end of the
# sentence is a [CVV] (and its audio is silenced).
CODE_CUES = {"cvv", "cvc", "cv2", "cvv2", "csc", "cvn", "digits"}  # "the (three) digits on the back"
NOT_SECURITY_CODES = {
    "sort",
    "short",
    "post",
    "zip",
    "area",
    "promo",
    "promotional",
    "discount",
    "voucher",
    "country",
    "dialling",
    "dialing",
    "reference",
    "booking",
    "tracking",
    "tax",
    "bar",
    "qr",
    "dress",
}
CUE_PHRASES = re.compile(r"\b(three digits|last three|on the back|back of the card|security number)$")
# Words that end a cue's reach: another kind of number begins.
CUE_STOPS = re.compile(r"^(expir\w*|valid|sort|account|phone|mobile|telephone|email|e-mail|postcode|insurance)$")
CUE_SECONDS = 15.0
REAL_DIGIT = re.compile(r"\d[\d\-/.,]*")
CODE_HOMOPHONES = {**HOMOPHONES, "oh": "0", "o": "0"}
AMOUNT_WORDS = {
    "pounds",
    "pound",
    "quid",
    "pence",
    "p",
    "dollars",
    "dollar",
    "bucks",
    "cents",
    "euros",
    "euro",
    "percent",
    "per",
    "hundred",
    "thousand",
    "million",
    "grand",
    "k",
    # counts and durations: "two to three days", "20 minutes"
    "seconds",
    "minutes",
    "mins",
    "hours",
    "days",
    "weeks",
    "months",
    "years",
    "times",
    "items",
    "people",
    # units and things counted: "500 megabits", "2 engineers", "350 kilowatt hours"
    "megabits",
    "megabit",
    "mbps",
    "meg",
    "megs",
    "gig",
    "gigs",
    "gigabit",
    "gigabits",
    "gigabytes",
    "gb",
    "mb",
    "kb",
    "kilowatt",
    "kilowatts",
    "kwh",
    "units",
    "engineers",
    "customers",
    "calls",
    "texts",
    "pm",
    "am",
    "o'clock",
}
CURRENCY_WORDS = {"pounds", "pound", "quid", "dollars", "dollar", "bucks", "euros", "euro", "sterling"}
CURRENCY = re.compile(r"[£$€%]")


def _digit_like(text: str) -> str | None:
    """``"real"`` for a digit or number word, ``"homophone"`` for to/too/for/oh…, else None."""
    low = _clean(text)
    if CURRENCY.search(text):
        return None
    if REAL_DIGIT.fullmatch(low) or low in TEENS or low in TENS or (low in UNITS and low not in ("oh", "o")):
        return "real"
    if "-" in low and all(part in UNITS or part in TENS for part in low.split("-")):
        return "real"
    if low in CODE_HOMOPHONES:
        return "homophone"
    return None


def _is_cue(lowered: Sequence[str], index: int) -> bool:
    word = lowered[index]
    if word in CODE_CUES:
        return True
    if word in ("code", "codes"):
        before = lowered[index - 1] if index else ""
        return before not in NOT_SECURITY_CODES and not before.endswith("post")
    return bool(CUE_PHRASES.search(" ".join(lowered[max(0, index - 3) : index + 1])))


def _ends_sentence(text: str) -> bool:
    return bool(re.search(r"[.!?]+[\"')\]]*$", text.strip()))


def _cued_codes(stream: _Stream, speakers: Sequence[str], taken: set[tuple[int, int]]) -> list[_Finding]:
    """Groups of digit-like words after a security-code cue, up to the end of the sentence the
    digits are in (or the cue's sentence and the answer to it), within ``CUE_SECONDS``."""
    words = stream.words
    lowered = [_clean(w.text) for w in words]
    raw = [w.text.strip() for w in words]
    kinds = [None if stream.places[i] in taken else _digit_like(w.text) for i, w in enumerate(words)]
    findings: list[_Finding] = []
    covered = -1
    for cue, _word in enumerate(words):
        if cue <= covered or not _is_cue(lowered, cue):
            continue
        group: list[int] = []
        digit_speaker: str | None = None
        sentence_ends = 1 if _ends_sentence(words[cue].text) else 0
        position = cue + 1
        while position < len(words) and words[position].start - words[cue].end <= CUE_SECONDS:
            word, kind = words[position], kinds[position]
            if kind is not None:
                group.append(position)
                digit_speaker = speakers[position]
            elif lowered[position] in CONNECTORS or not re.search(r"\w", lowered[position]):
                pass  # "4 and 1", "4 -1 … -2"
            elif not _is_cue(lowered, position):  # "…code on the back of the card is…"
                findings.extend(_code_group(group, kinds, lowered, position, raw))
                group = []
                if CUE_STOPS.match(lowered[position]):
                    break
            following = kinds[position + 1] if position + 1 < len(words) else None
            if _ends_sentence(word.text) and not (kind is not None and following is not None):  # "4. 1. 2."
                if digit_speaker is not None and speakers[position] == digit_speaker:
                    break
                sentence_ends += 1
                if sentence_ends >= 2 and digit_speaker is None:
                    break  # the cue's sentence and the one answering it held no digits
            position += 1
        findings.extend(_code_group(group, kinds, lowered, position, raw))
        covered = position
    return findings


def _code_group(
    group: list[int], kinds: Sequence[str | None], lowered: Sequence[str], after: int, raw: Sequence[str]
) -> list[_Finding]:
    """A group of digit-like words is a code when it holds a real digit and is not an amount."""
    if not group or not any(kinds[i] == "real" for i in group):
        return []
    following = lowered[after] if after < len(lowered) else ""
    if following in AMOUNT_WORDS:
        return []  # "four hundred", "twelve pounds"
    preceding = raw[group[0] - 1] if group[0] else ""
    if CURRENCY.search(preceding) or _clean(preceding) in CURRENCY_WORDS:
        return []  # "the fee is £ 35", "82 pounds 50"
    return [_Finding("CVV", group[0], group[-1])]


def _is_amount(words: Sequence[Word], first: int, last: int) -> bool:
    """A sum of money or a count, not card data: "600 pounds", "£82", "six hundred"."""
    following = _clean(words[last + 1].text) if last + 1 < len(words) else ""
    before = words[first - 1].text.strip() if first else ""
    return (
        following in AMOUNT_WORDS
        or bool(CURRENCY.search(words[first].text) or before in ("£", "$", "€"))
        or _clean(before) in CURRENCY_WORDS  # "82 pounds 50"
    )


def _ensure_words(utterance: Utterance) -> list[Word]:
    if utterance.words:
        return utterance.words
    pieces = utterance.text.split()
    if not pieces:
        return []
    step = (utterance.end - utterance.start) / len(pieces)
    return [
        Word(text, round(utterance.start + i * step, 3), round(utterance.start + (i + 1) * step, 3))
        for i, text in enumerate(pieces)
    ]


def _trailing_punctuation(text: str) -> str:
    match = re.search(r"[,.;:!?]+$", text)
    return match.group(0) if match else ""


def redact(utterances: Sequence[Utterance]) -> tuple[list[Utterance], Redaction]:
    """Redacted copies of ``utterances`` (text and words) and the spans found, in time order."""
    prepared = [replace(u, words=_ensure_words(u)) for u in utterances]
    streams: dict[str, _Stream] = {}
    order = sorted(range(len(prepared)), key=lambda i: prepared[i].start)
    for position in order:
        utterance = prepared[position]
        stream = streams.setdefault(utterance.speaker, _Stream(utterance.speaker))
        for word_index, word in enumerate(utterance.words):
            stream.words.append(word)
            stream.places.append((position, word_index))
            stream.speakers.append(utterance.speaker)
    context = _Context(list(streams.values()))
    found: list[tuple[str, list[tuple[int, int]]]] = []
    for stream in streams.values():
        for finding in _find(stream, context):
            found.append((finding.kind, stream.places[finding.first : finding.last + 1]))
    # Every word of the call in time order, whoever said it: on a mono recording the speaker
    # labels can cut a number in two ("The code is 4, 1," | "2, and the expiry…").
    everything = _Stream("*")
    for position, word_index in sorted(
        ((p, i) for p, u in enumerate(prepared) for i in range(len(u.words))),
        key=lambda place: (prepared[place[0]].words[place[1]].start, place),
    ):
        everything.words.append(prepared[position].words[word_index])
        everything.places.append((position, word_index))
        everything.speakers.append(prepared[position].speaker)
    for finding in _find(everything, context):
        found.append((finding.kind, everything.places[finding.first : finding.last + 1]))
    taken = {place for _kind, places in found for place in places}
    speakers = [prepared[position].speaker for position, _i in everything.places]
    for finding in _cued_codes(everything, speakers, taken):
        found.append((finding.kind, everything.places[finding.first : finding.last + 1]))
    tags: dict[tuple[int, int], tuple[str, int]] = {}  # (utterance, word) -> (kind, finding id)
    spans: list[RedactionSpan] = []
    order_of = {place: index for index, place in enumerate(everything.places)}
    for kind, places in _union(found):
        finding_id = len(spans)
        by_speaker = [prepared[position].speaker for position, _i in places]
        start, end = _audio_span(everything.words, [order_of[place] for place in places])
        spans.append(RedactionSpan(kind=kind, speaker=max(by_speaker, key=by_speaker.count), start=start, end=end))
        for place in places:
            tags[place] = (kind, finding_id)
    redacted: list[Utterance] = []
    for position, utterance in enumerate(prepared):
        words: list[Word] = []
        previous_id = None
        for word_index, word in enumerate(utterance.words):
            tagged = tags.get((position, word_index))
            if tagged is None:
                words.append(word)
                previous_id = None
                continue
            kind, finding_id = tagged
            if finding_id == previous_id:
                last = words[-1]
                words[-1] = Word(f"[{kind}]{_trailing_punctuation(word.text)}", last.start, word.end, last.probability)
            else:
                words.append(
                    Word(f"[{kind}]{_trailing_punctuation(word.text)}", word.start, word.end, word.probability)
                )
            previous_id = finding_id
        changed = any((position, i) in tags for i in range(len(utterance.words)))
        text = " ".join(w.text for w in words) if changed else utterance.text
        redacted.append(replace(utterance, text=text, words=words))
    spans.sort(key=lambda s: (s.start, s.end))
    return redacted, Redaction(spans=spans)


def redact_text(text: str, speaker: str = "unknown") -> str:
    """Redact free text (no timings), e.g. an LLM's summary, with the same rules."""
    redacted, _ = redact([Utterance(speaker=speaker, start=0.0, end=float(len(text.split())), text=text)])
    return redacted[0].text if redacted else text


def spoken_digits(text: str) -> str:
    """``text`` with spoken numbers written as digits one by one (for WER scoring)."""
    words = [Word(w, i, i + 0.5) for i, w in enumerate(text.split())]
    out: list[str] = []
    for token in _tokenise(words):
        if token.kind == "digit":
            out.extend(token.value)
        elif token.kind == "letters":
            out.extend(token.value.lower())
        elif token.value:
            out.append(token.value)
    return " ".join(out)
