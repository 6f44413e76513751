"""The facts-only check every summary passes, whoever wrote it (the offline summariser or an LLM).

A summary may state a name, number, amount or date only when the transcript says it. The check
finds such tokens in each sentence of the summary: numbers and amounts (digits or number words,
"£45.50", "forty five", "15th"), weekday and month names, and names (capitalised words that are
not ordinary sentence openers); a sentence with a token the transcript does not hold is dropped.
Dates the analysis itself worked out from the transcript (an action item's due date "Fri 11 Dec")
are passed in ``allowed``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

_UNITS = {
    "zero": 0,
    "oh": 0,
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
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_ORDINALS = {
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
    "thirtieth": 30,
}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
_NUMBER_WORD = set(_UNITS) | set(_TENS) | set(_ORDINALS) | set(_SCALES)
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = (
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
)
_DATE_WORDS = {d: d for d in DAYS} | {d[:3]: d for d in DAYS} | {m: m for m in MONTHS} | {m[:3]: m for m in MONTHS}
_DATE_WORDS.pop("may", None)  # "may" is mostly the verb; the month is still checked in full below
_DATE_WORDS["may"] = "may"
# Capitalised words that open sentences or label parts of a summary and are not names.
_COMMON = frozenset(
    """a an the and but or so then also after before during when while because since until if as
    at by for from in into of on to with without about over per via both each every all any some no
    not this that these those there here it its they them their he she his her we our you your i
    agent agents customer customers caller next steps step reason details detail agreed agreement
    summary call calls called calling follow follow-up outcome issue issues problem action actions
    note notes owner due date none nothing one yes ok okay mr mrs ms dr sir madam team support
    please thanks thank hello hi goodbye bye following later today tomorrow tonight""".split()
)
_TOKEN = re.compile(r"[£$€]?\d[\d,]*(?:\.\d+)?(?:st|nd|rd|th|%|k|p)?|[A-Za-z][A-Za-z'’-]*")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+|(?:^|\s)[-•*]\s+|;\s+")


@dataclass
class Check:
    """What the check kept and dropped, and the tokens that caused each drop."""

    text: str
    kept: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)


def _words_to_numbers(words: list[str]) -> set[str]:
    """Every number said with words: "forty five" → 45, "two thousand four hundred" → 2400, and a
    run of single digits both one by one and joined ("five eight three" → 5, 8, 3, 583)."""
    found: set[str] = set()
    total = current = 0
    last = None  # kind of the previous number word: unit | tens | scale | None
    digits: list[str] = []

    def flush() -> None:
        nonlocal total, current
        if last is not None:
            found.add(str(total + current))
        total = current = 0

    def flush_digits() -> None:
        if len(digits) > 1:
            found.add("".join(digits))
        digits.clear()

    for word in words:
        w = word.lower().strip("'’")
        value = _UNITS.get(w, _ORDINALS.get(w)) if (w in _UNITS or w in _ORDINALS) else None
        if value is not None and value < 20:
            if last == "unit":
                flush()
            current += value
            found.add(str(value))
            if value < 10:
                digits.append(str(value))
            else:
                flush_digits()
            last = "unit"
        elif w in _TENS or (value is not None and value >= 20):
            if last in ("unit", "tens"):
                flush()
            current += _TENS.get(w, value or 0)
            flush_digits()
            last = "tens"
        elif w in _SCALES:
            if _SCALES[w] == 100:
                current = max(current, 1) * 100
            else:
                total += max(current, 1) * _SCALES[w]
                current = 0
            flush_digits()
            last = "scale"
        elif w == "and" and last == "scale":
            continue
        else:
            flush()
            flush_digits()
            last = None
    flush()
    flush_digits()
    return found


def _number(token: str) -> str | None:
    """A numeric token's plain value: "£1,200.00" → "1200", "15th" → "15", "4.5%" → "4.5"."""
    match = re.match(r"[£$€]?(\d[\d,]*(?:\.\d+)?)", token)
    if not match:
        return None
    value = match.group(1).replace(",", "")
    if "." in value:
        value = value.rstrip("0").rstrip(".")
    return value


class Transcript:
    """The transcript's words, numbers and dates, looked up by :func:`check`."""

    def __init__(self, text: str, allowed: Iterable[str] = ()):
        tokens = _TOKEN.findall(text)
        self.words = {t.lower().strip("'’") for t in tokens}
        self.words |= {re.sub(r"'s$", "", w) for w in self.words}
        self.numbers = {n for t in tokens if (n := _number(t))}
        self.numbers |= _words_to_numbers([t for t in tokens if not t[0].isdigit()])
        # "£45.50" said as "forty five pounds fifty": 45.5 is backed by 45 and 50
        self.dates = {_DATE_WORDS[w] for w in self.words if w in _DATE_WORDS}
        for extra in allowed:
            for token in _TOKEN.findall(extra):
                lowered = token.lower()
                self.words.add(lowered)
                if n := _number(token):
                    self.numbers.add(n)
                if lowered in _DATE_WORDS:
                    self.dates.add(_DATE_WORDS[lowered])

    def supports(self, token: str, *, opening: bool) -> bool:
        lowered = token.lower().strip("'’")
        if token[0] in "£$€" or token[0].isdigit():
            value = _number(token)
            if value is None or value in self.numbers:
                return True
            if "." in value:  # 45.5 backed by 45 and 50 ("forty five pounds fifty")
                whole, part = value.split(".", 1)
                return whole in self.numbers and (part in self.numbers or part.ljust(2, "0") in self.numbers)
            return False
        if lowered in _NUMBER_WORD:
            value = _UNITS.get(lowered, _TENS.get(lowered, _ORDINALS.get(lowered, _SCALES.get(lowered))))
            return lowered in self.words or str(value) in self.numbers
        if lowered in _DATE_WORDS and (token[0].isupper() or lowered != "may"):
            return _DATE_WORDS[lowered] in self.dates
        if token[0].isupper() and len(token) > 1:
            base = re.sub(r"['’]s$", "", lowered)
            if base in _COMMON or lowered in _COMMON:
                return True
            if base in self.words or lowered in self.words:
                return True
            # an ordinary word opening a sentence ("Afterwards") is not a name; a name is not
            # ordinary: only opening words made of lower-case letters in the transcript pass
            return opening and not token.isupper() and len(base) > 2 and base.isalpha() and _ordinary(base)
        return True


# Sentence openers an LLM uses that need not be in the transcript.
_OPENERS = frozenset(
    """afterwards additionally finally first firstly second secondly lastly overall meanwhile however
    therefore instead otherwise once upon regarding concerning ultimately initially currently
    customer's agent's both neither either""".split()
)


def _ordinary(word: str) -> bool:
    return word in _OPENERS


def unsupported(sentence: str, transcript: Transcript) -> list[str]:
    """The tokens of ``sentence`` that state a fact the transcript does not hold."""
    bad: list[str] = []
    opening = True
    for match in _TOKEN.finditer(sentence):
        token = match.group(0)
        if not transcript.supports(token, opening=opening):
            bad.append(token)
        opening = False
    return bad


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s and s.strip(" -•*")]


def check(summary: str, transcript: str | Transcript, *, allowed: Iterable[str] = ()) -> Check:
    """Keep the sentences (lines, bullets) of ``summary`` whose every name, number and date is in
    ``transcript`` (or ``allowed``); the text keeps the summary's own line layout."""
    source = transcript if isinstance(transcript, Transcript) else Transcript(transcript, allowed)
    result = Check(text="")
    kept_lines: list[str] = []
    for line in summary.splitlines():
        bullet = re.match(r"^(\s*[-•*]\s+)", line)
        prefix = bullet.group(1) if bullet else ""
        body = line[len(prefix) :]
        pieces = [p for p in re.split(r"(?<=[.!?])\s+", body) if p.strip()]
        kept_pieces = []
        for piece in pieces:
            bad = unsupported(piece, source)
            if bad:
                result.dropped.append(piece)
                result.unsupported.extend(bad)
            else:
                kept_pieces.append(piece)
                result.kept.append(piece)
        if kept_pieces:
            kept_lines.append(prefix + " ".join(kept_pieces))
    result.text = "\n".join(kept_lines).strip()
    return result
