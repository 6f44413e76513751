"""Call summaries made offline.

:func:`structured` (the default) writes what a person would: the reason for the call, the facts
that matter and what was agreed, then the next steps with owner and due date, retold in the third
person from the transcript's own words. :func:`extractive` picks the most informative sentences as
said; it is the fallback when the structured summary finds nothing to say.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from octopushx.intelligence.results import ActionItem, Utterance
from octopushx.intelligence.text import STOP_WORDS, Sentence, content_words, sentences

# Sentences that carry no content of their own in a call.
_FORMULAIC = re.compile(
    r"thank you for calling|thanks for calling|how can i help|how may i help|anything else|"
    r"have a (lovely|nice|good|great) day|you are welcome|you're welcome|goodbye|bye\b|"
    r"^(hi|hello|good (morning|afternoon|evening))\b[^.?!]{0,25}[.?!]?$",
    re.IGNORECASE,
)
# Words that mark the reason for the call, a decision or a commitment.
_CUES = (
    "because",
    "problem",
    "issue",
    "fault",
    "refund",
    "cancel",
    "complain",
    "broken",
    "charged",
    "will",
    "agreed",
    "offer",
    "credit",
    "need",
    "want",
    "would like",
    "not working",
    "frustrat",
    "engineer",
    "send",
    "arrange",
    "resolve",
    "fix",
    "payment",
    "bill",
    "invoice",
)


def _score(sentence: Sentence, frequencies: Counter, keywords: set[str], total: int) -> float:
    words = list(content_words(sentence.text))
    if len(sentence.text.split()) < 5 or not words:
        return 0.0
    if _FORMULAIC.search(sentence.text):
        return 0.0
    informative = sum(math.log1p(frequencies[w]) for w in words) / math.sqrt(len(words))
    lowered = sentence.text.lower()
    cue = sum(1 for c in _CUES if c in lowered)
    keyword = sum(1 for k in keywords if k in lowered)
    early = 1.0 if sentence.position < max(3, total // 5) else 0.0  # the reason comes early
    tags = lowered.count("[")
    return informative + 0.8 * cue + 0.6 * keyword + 0.5 * early - 0.7 * tags


def extractive(utterances: Sequence[Utterance], *, count: int = 3, keywords: Sequence[str] = ()) -> str:
    """Up to ``count`` sentences (more for long calls), each prefixed with its speaker."""
    found = sentences(utterances)
    if not found:
        return ""
    frequencies = Counter(w for s in found for w in content_words(s.text))
    keyword_set = {k.lower() for k in keywords}
    wanted = count + min(3, len(found) // 60)
    scored = [(_score(s, frequencies, keyword_set, len(found)), s) for s in found]
    best = sorted((pair for pair in scored if pair[0] > 0), key=lambda pair: -pair[0])[:wanted]
    if not best:
        best = sorted(scored, key=lambda pair: -len(pair[1].text))[:1]
    chosen = sorted((s for _, s in best), key=lambda s: s.position)
    return " ".join(f"{s.speaker.capitalize()}: {s.text}" for s in chosen)


# --- The structured summary: reason, what matters, what was agreed, next steps -------------------

_INTERJECTION = re.compile(
    r"^(?:(?:hi|hello|hey|yes|yeah|yep|no|okay|ok|oh|great|sure|right|so|well|perfect|fine|certainly|"
    r"of course|no problem|thank you|thanks|good|lovely|brilliant|absolutely|alright|all right)"
    r"(?:\s+[A-Z][a-z]+)?[,.!]?\s+)+",
    re.IGNORECASE,
)
_PROBLEM = re.compile(
    r"\b(problem|issue|fault|not working|doesn't work|does not work|broken|broke|cracked|damaged|stopped|"
    r"dropping|drops|keeps|charged|overcharged|twice|wrong|late|missing|hasn't arrived|has not arrived|"
    r"not arrived|cancel|refund|complain|upgrade|change|move|moved|freeze|renew|renewal|expires|error|"
    r"burst|leak|want|would like|need|calling about|calling because|looking (?:at|for)|interested)\b",
    re.IGNORECASE,
)
_AGREED = re.compile(
    r"^(?:i|we)(?:'ve| have)\s+(?:also\s+|now\s+|just\s+)?(?:applied|added|cancelled|canceled|booked|"
    r"arranged|processed|refunded|credited|updated|changed|rebooked|fixed|opened|raised|logged|"
    r"waived|reset|set up|sent|issued|removed|upgraded|moved|scheduled|escalated|reduced)\b|"
    r"^(?:i|we) can offer\b|\bagreed\b",
    re.IGNORECASE,
)
_FACT = re.compile(
    r"[£$€]\s?\d|\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|"
    r"thirty|forty|fifty|sixty|hundred|thousand|pounds?|dollars?|euros?|percent|monday|tuesday|wednesday|"
    r"thursday|friday|saturday|sunday|january|february|march|april|june|july|august|september|october|"
    r"november|december|first|second|third|twentieth|thirtieth)\b",
    re.IGNORECASE,
)
_DETAIL_CUES = re.compile(
    r"\b(refund|credit|cancel|offer|warranty|policy|plan|price|charged|payment|excess|claim|contract|"
    r"order|account|address|delivery|depot|engineer|technician|disconnect|error|model|licen[cs]e|seats|"
    r"subscription|membership|bill|invoice|discount|percent|fee|cost)\w*",
    re.IGNORECASE,
)
_VERB_AGREEMENT = {
    "am": "is",
    "are": "is",
    "'re": "is",
    "were": "was",
    "'m": "is",
    "have": "has",
    "'ve": "has",
    "want": "wants",
    "need": "needs",
    "do": "does",
    "don't": "doesn't",
    "hope": "hopes",
    "think": "thinks",
    "feel": "feels",
    "get": "gets",
    "keep": "keeps",
    "would": "would",
    "was": "was",
    "can": "can",
    "can't": "cannot",
    "cannot": "cannot",
    "will": "will",
    "'ll": "will",
}
_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_due(iso: str) -> str:
    """2026-12-11 → "Fri 11 Dec"."""
    year, month, day = (int(p) for p in iso.split("-"))
    from datetime import date

    value = date(year, month, day)
    return f"{_DAY_NAMES[value.weekday()]} {value.day} {_MONTH_NAMES[value.month - 1]}"


def _role_name(speaker: str) -> str:
    return {"agent": "the agent", "customer": "the customer"}.get(speaker, "the caller")


def third_person(text: str, speaker: str) -> str:
    """A sentence said by ``speaker`` retold in the third person ("My internet keeps dropping" →
    "The customer's internet keeps dropping"; "I have added a credit to your account" → "The
    agent has added a credit to the customer's account")."""
    role = _role_name(speaker)
    other = _role_name({"agent": "customer", "customer": "agent"}.get(speaker, ""))
    if other == "the caller":
        other = "the other party"
    company = "the company's" if speaker == "agent" else "their"
    text = _INTERJECTION.sub("", text.strip()).strip()
    if not text:
        return ""
    offer = re.search(r"\b(?:i|we) can offer (?:you\s+)?", text, re.IGNORECASE) if speaker == "agent" else None
    if offer:
        text = "We offered you " + text[offer.end() :]
    subject = re.match(r"^(i|we)\s*('m|'ve|'ll|'re|\s[a-z']+)\b", text, re.IGNORECASE)
    body_start = 0
    if subject:
        verb = subject.group(2).strip().lower()
        rest = text[subject.end() :]
        head = f"{role.capitalize()} {_VERB_AGREEMENT.get(verb, verb)}"
        if verb in ("'m", "'ve", "'ll", "'re"):
            head = f"{role.capitalize()} {_VERB_AGREEMENT[verb]}"
        if verb == "can" and re.match(r"\s+see\b", rest, re.IGNORECASE):
            head, rest = f"{role.capitalize()} found", re.sub(r"^\s+see\s+(?:that\s+)?", " ", rest, flags=re.I)
        text = head + rest
        body_start = len(head)
    elif re.match(r"^(my|our)\b", text, re.IGNORECASE):
        possessive = "the customer's" if speaker == "customer" else company
        if speaker not in ("agent", "customer"):
            possessive = "the caller's"
        first = re.match(r"^(my|our)\b", text, re.IGNORECASE)
        text = possessive[0].upper() + possessive[1:] + text[first.end() :]
        body_start = len(possessive)
    else:
        opener = text.split()[0].lower().strip(",")
        lowered = text[0].lower() + text[1:] if opener in _LOWER_OPENERS or opener in STOP_WORDS else text
        verb = "reported that" if speaker == "customer" else "said"
        text = f"{role.capitalize()} {verb} {lowered}"
        body_start = len(role) + len(verb) + 2
    head, body = text[:body_start], text[body_start:]
    swaps = {
        "i": "they",
        "i'm": "they're",
        "i've": "they've",
        "i'll": "they'll",
        "i'd": "they'd",
        "me": "them",
        "my": "their",
        "myself": "themselves",
        "mine": "theirs",
        "we": "they",
        "we're": "they're",
        "we've": "they've",
        "we'll": "they'll",
        "us": "them",
        "our": company if speaker == "agent" else "their",
        "ours": company if speaker == "agent" else "theirs",
        "you": other,
        "your": other + "'s",
        "yours": other + "'s",
        "yourself": other,
    }

    def swap(match: re.Match) -> str:
        return swaps[match.group(0).lower()]

    body = re.sub(
        r"\b(i'm|i've|i'll|i'd|i|me|my|myself|mine|we're|we've|we'll|we|us|ours|our|yours|yourself|your|you)\b",
        swap,
        body,
        flags=re.IGNORECASE,
    )
    body = re.sub(r"\bthey am\b", "they are", body)
    body = re.sub(r"\bthey was\b", "they were", body)
    body = re.sub(r"\bthey has\b", "they have", body)
    body = re.sub(r"\bthe (customer|agent|other party) are\b", r"the \1 is", body)
    body = re.sub(r"\bthe (customer|agent|other party) were\b", r"the \1 was", body)
    result = (head + body).strip()
    if result and result[-1] not in ".!?":
        result += "."
    return result


_LOWER_OPENERS = frozenset(
    "the a an it its this that these those there our your my his her their some any all each every both".split()
)


_TAG_QUESTION = re.compile(r",\s*(?:is that right|is that correct|right|correct|isn't it|yes)\?$", re.IGNORECASE)


def _statement(text: str) -> str:
    """A sentence without its interjections and tag question ("X, is that right?" → "X.")."""
    return _TAG_QUESTION.sub(".", _INTERJECTION.sub("", text).strip()).strip()


def _is_question(text: str) -> bool:
    from octopushx.intelligence.text import is_question

    return is_question(text)


def _reason(found: Sequence[Sentence]) -> tuple[int, str] | None:
    """The first problem or request the customer states (or the agent's reason on an outbound call)."""
    limit = max(6, len(found) // 2)
    for index, s in enumerate(found[:limit]):
        if s.speaker == "agent" and re.search(
            r"\b(?:i am|i'm|we are|we're) calling (?:about|because|to|regarding)\b", s.text, re.I
        ):
            return index, third_person(s.text, "agent").replace("The agent is calling", "The agent called", 1)
    for index, s in enumerate(found[:limit]):
        if s.speaker == "agent":
            continue
        text = _INTERJECTION.sub("", s.text).strip()
        if len(text.split()) < 5 or _FORMULAIC.search(text) or _is_question(text):
            continue
        if _PROBLEM.search(text) or s.speaker != "agent":
            speaker = "customer" if s.speaker in ("customer", UNKNOWN_SPEAKERS) else s.speaker
            return index, third_person(text, speaker).replace("The customer is calling", "The customer called", 1)
    return None


UNKNOWN_SPEAKERS = "customer"


def _details(
    found: Sequence[Sentence], skip: set[int], action_texts: Sequence[str], limit: int
) -> list[tuple[int, str]]:
    """The sentences that carry the call's facts (amounts, dates, products) or what was agreed."""
    scored = []
    for index, s in enumerate(found):
        if index in skip:
            continue
        text = _statement(s.text)
        if len(text.split()) < 5 or _FORMULAIC.search(text) or _is_question(text):
            continue
        if any(text in item or item in text for item in action_texts):
            continue
        facts = len(_FACT.findall(text))
        agreed = 3 if s.speaker == "agent" and _AGREED.search(text) else 0
        cues = len(_DETAIL_CUES.findall(text))
        score = 2 * min(facts, 3) + agreed + cues
        if score >= 3:
            scored.append((score, index, text, s.speaker))
    best = sorted(scored, key=lambda row: (-row[0], row[1]))[:limit]
    return [(index, third_person(text, speaker)) for _, index, text, speaker in sorted(best, key=lambda r: r[1])]


def next_steps(items: Sequence[ActionItem], limit: int = 4) -> str:
    """ "Next steps: Agent to send the customer a replacement router by Wed 9 Dec; …" """
    parts = []
    for item in items[:limit]:
        owner = {"agent": "Agent", "customer": "Customer"}.get(item.owner, "Someone")
        phrase = item.verb_phrase or item.text
        when = ""
        if item.due_date:
            when = f" by {format_due(item.due_date)}"
        elif item.due:
            when = f" ({item.due})"
        parts.append(f"{owner} to {phrase}{when}")
    return ("Next steps: " + "; ".join(parts) + ".") if parts else ""


def structured(
    utterances: Sequence[Utterance],
    items: Sequence[ActionItem],
    *,
    max_details: int = 3,
) -> str:
    """Two to five sentences a person would write: why the customer called, the facts that
    matter and what was agreed, then the next steps with owner and due date. Every sentence is
    made of the transcript's own words retold in the third person; run it through
    :func:`octopushx.intelligence.facts.check` before showing it."""
    found = sentences(utterances)
    if not found:
        return ""
    lines: list[str] = []
    skip: set[int] = set()
    reason = _reason(found)
    if reason:
        skip.add(reason[0])
        lines.append(reason[1])
    details = _details(found, skip, [i.text for i in items], max_details)
    lines.extend(text for _, text in details)
    steps = next_steps(items)
    if steps:
        lines.append(steps)
    return "\n".join(line for line in lines if line)


def allowed_facts(items: Sequence[ActionItem]) -> list[str]:
    """The dates the analysis worked out itself (due dates), which a summary may state."""
    return [format_due(i.due_date) for i in items if i.due_date]
