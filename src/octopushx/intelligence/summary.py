"""Extractive summary: the call's most informative sentences, in the order they were said."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from octopushx.intelligence.results import Utterance
from octopushx.intelligence.text import Sentence, content_words, sentences

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
