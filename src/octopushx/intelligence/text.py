"""Small text helpers shared by the analysers: sentences, content words, stop words."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from octopushx.intelligence.results import Utterance

STOP_WORDS = frozenset(
    """a about above after again against all am an and any are aren't as at be because been before
    being below between both but by can can't cannot could couldn't did didn't do does doesn't
    doing don't down during each few for from further get got had hadn't has hasn't have haven't
    having he he'd he'll he's her here here's hers herself him himself his how how's i i'd i'll
    i'm i've if in into is isn't it it's its itself just let's like me more most mustn't my myself
    no nor not now of off oh ok okay on once only or other ought our ours ourselves out over own
    please really right same shan't she she'd she'll she's should shouldn't so some such sure than
    that that's the their theirs them themselves then there there's these they they'd they'll
    they're they've this those through to too um uh under until up us very was wasn't we we'd
    we'll we're we've well were weren't what what's when when's where where's which while who
    who's whom why why's will with won't would wouldn't yeah yes you you'd you'll you're you've
    your yours yourself yourselves thank thanks hello hi bye goodbye also""".split()
)

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\[\"'])")
_WORD = re.compile(r"[a-z][a-z']+")


@dataclass
class Sentence:
    """A sentence of an utterance, with its speaker and the utterance's start time."""

    text: str
    speaker: str
    start: float
    position: int  # index among all sentences of the call


def sentences(utterances: Sequence[Utterance]) -> list[Sentence]:
    """Every sentence of the call in order (utterances split at . ! ?)."""
    result: list[Sentence] = []
    for utterance in utterances:
        text = utterance.text.strip()
        # a sentence starts at its first word's time when the words line up with the text
        timed = len(utterance.words) == len(text.split()) and utterance.words
        offset = 0
        for piece in _SENTENCE_END.split(text):
            piece = piece.strip()
            if not piece:
                continue
            start = utterance.start
            if timed:
                position = text.find(piece, offset)
                if position >= 0:
                    start = utterance.words[min(len(text[:position].split()), len(utterance.words) - 1)].start
                    offset = position + len(piece)
            result.append(Sentence(piece, utterance.speaker, start, len(result)))
    return result


def content_words(text: str) -> Iterator[str]:
    """Lower-case words of three or more letters that are not stop words."""
    for word in _WORD.findall(text.lower()):
        if len(word) >= 3 and word not in STOP_WORDS:
            yield word


def is_question(text: str) -> bool:
    """A sentence that asks: ends with ? or opens like a question."""
    stripped = text.strip()
    if stripped.endswith("?"):
        return True
    return bool(
        re.match(
            r"^(can|could|would|will|do|does|did|is|are|was|were|have|has|shall|should|may|"
            r"what|when|where|which|who|whom|whose|why|how)\b[^.!]*$",
            stripped.lower(),
        )
    )
