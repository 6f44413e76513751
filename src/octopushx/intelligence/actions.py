"""Action items: commitments ("I will send…") and requests ("could you email…") with owner and due phrase."""

from __future__ import annotations

import re
from collections.abc import Sequence

from octopushx.intelligence.config import UNKNOWN
from octopushx.intelligence.results import ActionItem, Utterance
from octopushx.intelligence.text import sentences

_VERBS = (
    r"send|email|e-mail|call|ring|phone|text|arrange|book|schedule|check|investigate|look into|"
    r"update|process|refund|cancel|escalate|follow up|get back|raise|issue|post|transfer|credit|"
    r"confirm|pay|forward|share|fix|resolve|contact|add|set up|organise|organize|replace|reset|"
    r"deliver|visit|come|upload|sign|return|submit|fill in|fill out|reply|restart|reboot|apply|"
    r"waive|review|chase|speak to|talk to|let you know|let us know|keep"
)
_COMMITMENT = re.compile(
    r"\b(?P<who>i|we|i'll|we'll|i'm|we're)\s*"
    r"(?:will|'ll|shall|am going to|are going to|going to|'m going to|'re going to|can|will be able to)?\s+"
    r"(?:also\s+|then\s+|just\s+|definitely\s+|personally\s+)?(?P<verb>" + _VERBS + r")\b",
    re.IGNORECASE,
)
_THIRD_PARTY = re.compile(
    r"\b(?:an?|the|our|my)?\s*(?:engineer|technician|team|colleague|manager|someone|courier|"
    r"specialist|supervisor|department)\s+will\s+(?:" + _VERBS + r")\b",
    re.IGNORECASE,
)
_REQUEST = re.compile(
    r"\b(?:(?:can|could|would|will)\s+you\s+(?:please\s+)?|please\s+|you\s+(?:will\s+)?need\s+to\s+|"
    r"you\s+have\s+to\s+|make\s+sure\s+(?:you\s+)?|don't\s+forget\s+to\s+|remember\s+to\s+)"
    r"(?P<verb>send|email|e-mail|call|ring|upload|post|sign|return|submit|fill in|fill out|reply|"
    r"restart|reboot|pay|forward|contact|book|let us know|let me know|keep|check|read|confirm)\b",
    re.IGNORECASE,
)
# Requests answered during the call itself are not action items.
_IN_CALL = re.compile(r"\b(read|confirm|spell|repeat|hold|tell me|give me)\b", re.IGNORECASE)
_NOT_COMMITMENT = re.compile(r"\b(i|we) (?:can't|cannot|won't|will not|can not)\b", re.IGNORECASE)

_DAY = r"monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_MONTH = r"january|february|march|april|may|june|july|august|september|october|november|december"
_COUNT = r"\d+|one|two|three|four|five|six|seven|eight|nine|ten|a couple of|a few|24|48|72"
DUE = re.compile(
    r"\b(?:(?:by|before|on|until|no later than|within|in the next|in)\s+(?:the\s+)?)?"
    r"(?:end of (?:the |this |next )?(?:day|week|month)|close of business|"
    r"(?:next|this|coming)\s+(?:" + _DAY + r"|week|month|weekend)|"
    r"(?:" + _DAY + r")(?:\s+(?:morning|afternoon|evening))?|"
    r"tomorrow(?:\s+(?:morning|afternoon|evening))?|tonight|later today|today|this (?:morning|afternoon|evening)|"
    r"(?:" + _COUNT + r")\s+(?:working\s+|business\s+)?(?:days?|hours?|weeks?)|"
    r"(?:\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:" + _MONTH + r"))|(?:(?:" + _MONTH + r")\s+\d{1,2}(?:st|nd|rd|th)?))\b",
    re.IGNORECASE,
)
_LEADING = re.compile(r"^(?:by|before|on|until|no later than|within|in the next|in)\s+", re.IGNORECASE)


def due_phrase(text: str) -> str | None:
    """The deadline as said ("by Friday", "within 3 days"), or None."""
    best = None
    for match in DUE.finditer(text):
        phrase = match.group(0).strip()
        if phrase.lower() in ("on", "in"):
            continue
        # prefer a phrase with its preposition ("by Friday" over a bare "Friday")
        if best is None or (_LEADING.match(phrase) and not _LEADING.match(best)):
            best = phrase
    return best


def _other(speaker: str) -> str:
    return {"agent": "customer", "customer": "agent"}.get(speaker, UNKNOWN)


def find(utterances: Sequence[Utterance]) -> list[ActionItem]:
    """Action items in the order they were said; a sentence gives at most one."""
    items: list[ActionItem] = []
    seen: set[str] = set()
    for sentence in sentences(utterances):
        text = sentence.text.strip()
        owner = None
        if _NOT_COMMITMENT.search(text):
            continue
        if _COMMITMENT.search(text) or _THIRD_PARTY.search(text):
            if not re.match(r"^\s*(?:let me|i'll just|i will just)\b", text, re.IGNORECASE) or due_phrase(text):
                owner = sentence.speaker
        if owner is None:
            request = _REQUEST.search(text)
            if request and not _IN_CALL.fullmatch(request.group("verb")):
                owner = _other(sentence.speaker)
        if owner is None:
            continue
        key = text.lower()
        if key in seen:
            continue
        seen.add(key)
        items.append(
            ActionItem(
                text=text,
                owner=owner,
                due=due_phrase(text),
                start=sentence.start,
                speaker=sentence.speaker,
            )
        )
    return items
