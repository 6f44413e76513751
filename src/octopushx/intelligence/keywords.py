"""Keywords with YAKE (unsupervised, offline) and topics from a small call-centre lexicon."""

from __future__ import annotations

import re
from functools import lru_cache

# Topic: words whose stems mark it. Matching is on whole-word prefixes of the transcript.
TOPICS: dict[str, tuple[str, ...]] = {
    "billing": ("bill", "invoice", "charge", "balance", "overcharg", "statement", "direct debit"),
    "payment": ("pay", "card", "payment", "instal", "debit", "credit card"),
    "refund": ("refund", "money back", "reimburse", "compensat", "credit of"),
    "cancellation": ("cancel", "terminate", "leave", "switch provider", "close my account"),
    "technical support": (
        "internet",
        "connection",
        "router",
        "wifi",
        "fault",
        "dropping",
        "outage",
        "broken",
        "error",
        "engineer",
    ),
    "delivery": ("deliver", "parcel", "courier", "shipping", "dispatch", "tracking"),
    "account": ("account", "password", "login", "log in", "address", "details", "update my"),
    "complaint": ("complain", "complaint", "frustrat", "unacceptable", "not good enough", "disappoint", "angry"),
    "pricing": ("price", "cost", "tariff", "plan", "upgrade", "discount", "offer", "deal"),
    "appointment": ("appointment", "book", "schedule", "visit", "call back", "callback"),
}

_TAG = re.compile(r"\[[A-Z_]+\]")


@lru_cache(maxsize=4)
def _extractor(count: int):
    import yake

    return yake.KeywordExtractor(lan="en", n=2, dedupLim=0.7, top=count * 2)


def keywords(text: str, count: int = 10) -> list[str]:
    """The ``count`` most characteristic one- and two-word phrases, best first (redaction tags
    and bare numbers are never keywords)."""
    cleaned = _TAG.sub(" ", text)
    if len(cleaned.split()) < 5:
        return []
    result: list[str] = []
    seen: set[str] = set()
    covered: set[str] = set()
    for phrase, _score in _extractor(count).extract_keywords(cleaned):
        key = phrase.lower()
        if key in seen or any(ch.isdigit() for ch in key) or len(key) < 3:
            continue
        if set(key.split()) <= covered:  # "energy" after "octopus energy"
            continue
        seen.add(key)
        covered.update(key.split())
        result.append(key)
        if len(result) == count:
            break
    return result


def topics(text: str, limit: int = 3) -> list[str]:
    """Up to ``limit`` topics from :data:`TOPICS`, most mentioned first (at least two mentions,
    or one for a short call)."""
    lowered = " " + re.sub(r"[^a-z' ]", " ", text.lower()) + " "
    counts: dict[str, int] = {}
    for topic, stems in TOPICS.items():
        hits = sum(len(re.findall(r"(?<= )" + re.escape(stem), lowered)) for stem in stems)
        if hits:
            counts[topic] = hits
    needed = 1 if len(lowered.split()) < 400 else 2
    ranked = sorted((t for t, n in counts.items() if n >= needed), key=lambda t: (-counts[t], t))
    return ranked[:limit]
