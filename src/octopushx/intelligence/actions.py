"""Action items: commitments ("I will send…", "let me book…", "we'll post…") and requests ("can you
send me…", "please keep…"), each with its owner, the verb phrase, the due phrase as spoken and the
due date that phrase means counted from the call's time.

Due phrases and the dates they mean (the call on Monday 7 Dec):

- "today", "tonight", "this afternoon", "end of the day", "close of business", "in the next hour",
  "in ten minutes", "within 4 hours" (same day) → 7 Dec; "tomorrow (morning)" → 8 Dec
- a weekday ("by Wednesday", "on Friday morning", "this Friday") → the next such day after the
  call; "next Tuesday" → the Tuesday of the following week (15 Dec)
- "within 5 working days" → counting Monday to Friday only (14 Dec); "within 10 days", "in two
  weeks", "48 hours" → calendar time
- "end of the week" → that week's Friday; "next week" → the following week's Friday; "end of the
  month" → its last day; "next month" → the following month's last day
- "the 20th of December", "December 20", "the first of January" → that date, in the next year
  when it has passed
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from octopushx.intelligence.config import UNKNOWN
from octopushx.intelligence.facts import DAYS, MONTHS
from octopushx.intelligence.results import ActionItem, Utterance
from octopushx.intelligence.text import sentences

_VERBS = (
    r"send|email|e-mail|call|ring|phone|text|arrange|book|schedule|check|investigate|look into|"
    r"update|process|refund|cancel|escalate|follow up|get back|raise|issue|post|transfer|credit|"
    r"confirm|pay|forward|share|fix|resolve|contact|add|set up|organise|organize|replace|reset|"
    r"deliver|visit|come|upload|sign|return|submit|fill in|fill out|reply|restart|reboot|apply|"
    r"waive|review|chase|speak to|talk to|let you know|let us know|keep|collect|pick up|install|repair|inspect|"
    r"assess|survey|be in touch"
)
# Verbs after "I will" that describe the call itself, not something to do after it.
_IN_CALL_VERBS = (
    "be|have|need|wait|hold|put|look|see|pass|read|take|tell|try|leave|stay|think|ask|just|"
    "repeat|spell|go|start|explain|help|say|do|bear|hear|let"
)
_MODAL = r"(?:will|'ll|shall|am going to|are going to|'m going to|'re going to|going to)"
_ADVERBS = r"(?:(?:also|then|just|definitely|personally|now|certainly|happily|gladly|first|straight away)\s+)*"
# "I will <any verb>", "we'll <any verb>", "let me/us <action verb>"
_WILL = re.compile(
    r"\b(?P<who>i|we)\s*"
    + _MODAL
    + r"\s+"
    + _ADVERBS
    + r"(?P<verb>[a-z][a-z'-]+(?:\s+(?:up|in|out|back|into|on|sure|to))?)\b",
    re.IGNORECASE,
)
_LET_ME = re.compile(r"\blet (?:me|us)\s+" + _ADVERBS + r"(?P<verb>" + _VERBS + r")\b", re.IGNORECASE)
_THIRD_PARTY = re.compile(
    r"\b(?:an?|the|our|my)\s+(?:[a-z]+\s+)?(?:engineer|technician|team|colleague|manager|someone|courier|"
    r"specialist|supervisor|department|adjuster|assessor|driver|advisor|adviser)\s+will\s+"
    r"(?P<verb>" + _VERBS + r")\b",
    re.IGNORECASE,
)
# "a loss adjuster will call you": anyone named by a noun phrase who will contact the customer
_SOMEONE_WILL_CONTACT = re.compile(
    r"\b(?:an?|the|our)\s+(?:[a-z]+\s+){0,2}[a-z]+\s+will\s+(?P<verb>call|ring|phone|text|email|e-mail|contact|visit|"
    r"write to|get back to|be in touch with)\s+(?:you|the customer)\b",
    re.IGNORECASE,
)
_REQUEST = re.compile(
    r"\b(?:(?:can|could|would|will)\s+you\s+(?:please\s+|also\s+)*|please\s+|you\s+(?:will\s+)?need\s+to\s+|"
    r"you\s+have\s+to\s+|make\s+sure\s+(?:you\s+)?|don't\s+forget\s+to\s+|remember\s+to\s+)"
    r"(?P<verb>send|email|e-mail|call|ring|upload|post|sign|return|submit|fill in|fill out|reply|"
    r"restart|reboot|pay|forward|contact|book|let us know|let me know|keep|check|read|confirm|text|share|"
    r"bring|print|install|plug in|switch off|turn off)\b",
    re.IGNORECASE,
)
# Requests answered during the call itself are not action items.
_IN_CALL = re.compile(r"\b(read|confirm|spell|repeat|hold|tell me|give me)\b", re.IGNORECASE)
_NOT_COMMITMENT = re.compile(
    r"\b(i|we) (?:can't|cannot|won't|will not|can not|wouldn't|would not)\b|\bif (?:i|we) (?:will|'ll)\b",
    re.IGNORECASE,
)
_AGREEMENT = re.compile(
    r"^(?:yes|yeah|yep|sure|of course|okay|ok|certainly|no problem|will do|absolutely)\b", re.IGNORECASE
)
# A sentence holding two commitments ("I will send X, and an engineer will visit on Friday").
_CLAUSE_SPLIT = re.compile(
    r",?\s+(?:and|then)\s+(?=(?:i|we|i'll|we'll|(?:an?|the|our)\s+(?:[a-z]+\s+)?[a-z]+)\s+(?:will|'ll|shall)\b)",
    re.IGNORECASE,
)

_DAY = "|".join(DAYS)
_MONTH = "|".join(MONTHS)
_NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fourteen": 14,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "forty eight": 48,
    "twenty four": 24,
    "seventy two": 72,
    "a couple of": 2,
    "a few": 3,
}
_ORDINAL_WORDS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "thirteenth": 13,
    "fourteenth": 14,
    "fifteenth": 15,
    "sixteenth": 16,
    "seventeenth": 17,
    "eighteenth": 18,
    "nineteenth": 19,
    "twentieth": 20,
    "twenty first": 21,
    "twenty second": 22,
    "twenty third": 23,
    "twenty fourth": 24,
    "twenty fifth": 25,
    "twenty sixth": 26,
    "twenty seventh": 27,
    "twenty eighth": 28,
    "twenty ninth": 29,
    "thirtieth": 30,
    "thirty first": 31,
}
_COUNT = (
    r"\d+|forty[ -]eight|twenty[ -]four|seventy[ -]two|a couple of|a few|one|two|three|four|five|six|seven|"
    r"eight|nine|ten|eleven|twelve|fourteen|fifteen|twenty|thirty|forty|an?"
)
_ORDINAL = r"\d{1,2}(?:st|nd|rd|th)?|" + "|".join(
    sorted((k.replace(" ", "[ -]") for k in _ORDINAL_WORDS), key=len, reverse=True)
)
_DATE = (
    r"(?:the\s+)?(?:"
    + _ORDINAL
    + r")\s+(?:of\s+)?(?:"
    + _MONTH
    + r")|(?:"
    + _MONTH
    + r")\s+(?:the\s+)?(?:"
    + _ORDINAL
    + r")"
)
DUE = re.compile(
    r"\b(?:(?:by|before|on|until|no later than|within|in the next|in|from|for)\s+(?:the\s+)?)?"
    r"(?:end of (?:the |this |next )?(?:day|week|month)|close of business|"
    r"(?:next|this|coming)\s+(?:" + _DAY + r"|week|month|weekend)|"
    r"(?:" + _DAY + r")(?:\s+(?:morning|afternoon|evening))?|"
    r"tomorrow(?:\s+(?:morning|afternoon|evening))?|tonight|later today|today|this (?:morning|afternoon|evening)|"
    r"next (?:hour|day)|"
    r"(?:" + _COUNT + r")\s+(?:working\s+|business\s+)?(?:days?|hours?|weeks?|minutes?)|" + _DATE + r")\b",
    re.IGNORECASE,
)
_LEADING = re.compile(
    r"^(?:by|before|on|until|no later than|within|in the next|in|from|for)\s+(?:the\s+)?", re.IGNORECASE
)


def due_phrase(text: str) -> str | None:
    """The first deadline said in ``text`` ("by Friday", "within 3 days"), or None."""
    for match in DUE.finditer(text):
        phrase = match.group(0).strip()
        if phrase.lower() in ("on", "in", "a", "an", "for", "from"):
            continue
        if re.fullmatch(
            r"(?:for|by)\s+(?:the\s+)?(?:" + _COUNT + r")\s+(?:days?|weeks?|hours?|minutes?)", phrase, re.I
        ):
            continue  # "for two weeks", "extend by two weeks": a length, not a deadline
        return phrase
    return None


def _count(word: str) -> int | None:
    word = word.lower().replace("-", " ").strip()
    if word.isdigit():
        return int(word)
    return _NUMBER_WORDS.get(word)


def _day_of_month(word: str) -> int | None:
    word = word.lower().replace("-", " ").strip()
    digits = re.match(r"(\d{1,2})", word)
    if digits:
        return int(digits.group(1))
    return _ORDINAL_WORDS.get(word)


def _add_working_days(start: date, count: int) -> date:
    day = start
    while count > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


def due_date(phrase: str | None, call_time: datetime | date | None) -> date | None:
    """The date a due phrase means, counted from ``call_time``; None when it means no date."""
    if not phrase or call_time is None:
        return None
    today = call_time.date() if isinstance(call_time, datetime) else call_time
    text = _LEADING.sub("", phrase.lower().strip())
    text = re.sub(r"^the\s+", "", text)
    if re.match(
        r"(today|tonight|later today|this (morning|afternoon|evening)|end of (the |this )?day|close of business)", text
    ):
        return today
    if text.startswith("tomorrow") or text == "next day":
        return today + timedelta(days=1)
    if text in ("next hour", "hour", "an hour"):
        return (call_time + timedelta(hours=1)).date() if isinstance(call_time, datetime) else today
    match = re.match(r"(next|this|coming)?\s*(" + _DAY + r")", text)
    if match:
        weekday = DAYS.index(match.group(2))
        ahead = (weekday - today.weekday()) % 7 or 7
        if match.group(1) == "next":
            monday_next = today + timedelta(days=7 - today.weekday())
            return monday_next + timedelta(days=weekday)
        return today + timedelta(days=ahead)
    if re.match(r"end of (the |this )?week|this week", text):
        return today + timedelta(days=(4 - today.weekday()) % 7)
    if re.match(r"(end of )?next week|coming week", text):
        return today + timedelta(days=7 - today.weekday() + 4)
    if re.match(r"(end of )?(the |this )?month", text):
        return today.replace(day=calendar.monthrange(today.year, today.month)[1])
    if re.match(r"(end of )?next month", text):
        first = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
        return first.replace(day=calendar.monthrange(first.year, first.month)[1])
    if "weekend" in text:
        return today + timedelta(days=(5 - today.weekday()) % 7 or 7)
    match = re.match(r"(" + _COUNT + r")\s+(working\s+|business\s+)?(days?|hours?|weeks?|minutes?)", text)
    if match:
        count = _count(match.group(1))
        if count is None:
            return None
        unit = match.group(3)
        if unit.startswith("minute") or unit.startswith("hour"):
            if not isinstance(call_time, datetime):
                return today + timedelta(days=count // 24 if unit.startswith("hour") else 0)
            delta = timedelta(minutes=count) if unit.startswith("minute") else timedelta(hours=count)
            return (call_time + delta).date()
        if unit.startswith("week"):
            return today + timedelta(weeks=count)
        if match.group(2):
            return _add_working_days(today, count)
        return today + timedelta(days=count)
    match = re.match(r"(" + _ORDINAL + r")\s+(?:of\s+)?(" + _MONTH + r")", text) or re.match(
        r"(" + _MONTH + r")\s+(?:the\s+)?(" + _ORDINAL + r")", text
    )
    if match:
        first, second = match.group(1), match.group(2)
        month_word, day_word = (second, first) if second in MONTHS else (first, second)
        day = _day_of_month(day_word)
        month = MONTHS.index(month_word) + 1
        if not day:
            return None
        for year in (today.year, today.year + 1):
            try:
                candidate = date(year, month, day)
            except ValueError:
                return None
            if candidate >= today:
                return candidate
    return None


def _other(speaker: str) -> str:
    return {"agent": "customer", "customer": "agent"}.get(speaker, UNKNOWN)


_TRAILING = re.compile(
    r"(?:\s+(?:as well|too|please|for you|for me|if that is okay|if that's okay|then|again|today|now))+$"
    r"|\s+(?:as soon as|once|when|if|so that|so|and then|but|because)\b.*$",
    re.IGNORECASE,
)


def _role(party: str, possessive: bool = False) -> str:
    name = {"agent": "the agent", "customer": "the customer"}.get(party, "the other party")
    return name + ("'s" if possessive else "")


def verb_phrase(text: str, start: int, speaker: str, owner: str, due: str | None) -> str:
    """What is to be done, from the verb on, with "me"/"you" said as the party they mean."""
    phrase = text[start:].strip().rstrip(".!?").strip()
    if due:
        phrase = re.sub(r"[\s,]*" + re.escape(due) + r"\b", "", phrase, count=1, flags=re.IGNORECASE)
    phrase = re.split(r"[,;]\s+(?:and\s+)?(?:i|we|you|it|that|which|so)\b", phrase, maxsplit=1, flags=re.IGNORECASE)[0]
    previous = None
    while previous != phrase:
        previous = phrase
        phrase = _TRAILING.sub("", phrase).strip(" ,")
    listener = _other(speaker)

    def swap(match: re.Match) -> str:
        word = match.group(0)
        lowered = word.lower()
        if lowered in ("me", "us"):
            return "them" if owner == speaker else _role(speaker)
        if lowered in ("my", "our", "ours"):
            return "their" if owner == speaker and lowered != "ours" else _role(speaker, True)
        if lowered in ("you", "yourself"):
            return _role(listener)
        return _role(listener, True)

    phrase = re.sub(r"\b(me|my|us|ours|our|you|your|yourself)\b", swap, phrase, flags=re.IGNORECASE)
    phrase = re.sub(r"\s{2,}", " ", phrase).strip(" ,")
    return phrase[:1].lower() + phrase[1:] if phrase else phrase


def _third_party_phrase(clause: str, speaker: str, owner: str, due: str | None) -> str:
    """ "an engineer will visit on Friday" → "have an engineer visit" (the owner arranges it)."""
    subject, _, rest = re.split(r"\s+(will)\s+", clause, maxsplit=1, flags=re.IGNORECASE)
    return f"have {subject.strip().lower()} " + verb_phrase(rest, 0, speaker, owner, due)


def _clauses(text: str) -> list[str]:
    return [c.strip() for c in _CLAUSE_SPLIT.split(text) if c and c.strip()]


def _commitment(clause: str):
    """(verb start, kind) of a commitment in ``clause``, or None."""
    if _NOT_COMMITMENT.search(clause):
        return None
    match = _WILL.search(clause)
    if match:
        verb = match.group("verb").lower().split()[0]
        just = re.search(r"\bjust\s+" + re.escape(verb), clause[match.start() :], re.IGNORECASE)
        in_call = re.fullmatch(_IN_CALL_VERBS, verb) or (just and verb in ("check", "look", "see", "pop", "grab"))
        if re.match(r"(?:" + _VERBS + r")\b", match.group("verb"), re.IGNORECASE) and verb in ("check",):
            in_call = in_call or not due_phrase(clause)
        if verb in ("let",) and re.search(r"let (?:you|us|me) know", clause, re.IGNORECASE):
            in_call = False
        if not in_call:
            return match.start("verb"), "commitment"
    match = _THIRD_PARTY.search(clause) or _SOMEONE_WILL_CONTACT.search(clause)
    if match:
        return match.start(), "third-party"
    match = _LET_ME.search(clause)
    if match:
        verb = match.group("verb").lower()
        if verb not in ("check", "look into") or due_phrase(clause):
            if not re.search(r"\blet (?:me|us) just\b", clause, re.IGNORECASE) or due_phrase(clause):
                return match.start("verb"), "commitment"
    return None


def find(utterances: Sequence[Utterance], call_time: datetime | date | None = None) -> list[ActionItem]:
    """Action items in the order they were said.

    A clause gives at most one item; a "yes, I will…" that answers the other party's request is
    folded into that request's item (its due phrase wins, being the owner's own promise).
    """
    items: list[ActionItem] = []
    seen: set[str] = set()
    for sentence in sentences(utterances):
        text = sentence.text.strip()
        for clause in _clauses(text):
            found = _commitment(clause)
            owner = sentence.speaker if found else None
            kind = "commitment"
            start = found[0] if found else 0
            third_party = bool(found and found[1] == "third-party")
            if owner is None:
                request = _REQUEST.search(clause)
                if request and not _IN_CALL.fullmatch(request.group("verb")) and not _NOT_COMMITMENT.search(clause):
                    owner = _other(sentence.speaker)
                    kind = "request"
                    start = request.start("verb")
            if owner is None:
                continue
            key = clause.lower()
            if key in seen:
                continue
            seen.add(key)
            due = due_phrase(clause[start:]) or due_phrase(clause)
            previous = items[-1] if items else None
            if (
                previous is not None
                and kind == "commitment"
                and previous.kind == "request"
                and previous.owner == owner
                and previous.speaker == _other(sentence.speaker)
                and _AGREEMENT.match(text)
            ):
                previous.text = f"{previous.text} {clause}"
                if due:
                    previous.due = due
                    previous.due_date = _iso(due_date(due, call_time))
                continue
            items.append(
                ActionItem(
                    text=clause,
                    owner=owner,
                    due=due,
                    start=sentence.start,
                    speaker=sentence.speaker,
                    verb_phrase=_third_party_phrase(clause[start:], sentence.speaker, owner, due)
                    if third_party
                    else verb_phrase(clause, start, sentence.speaker, owner, due),
                    due_date=_iso(due_date(due, call_time)),
                    kind=kind,
                )
            )
    return items


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None
