"""Sentiment with VADER: a compound score in -1..1 per utterance, per speaker and over time."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from octopushx.intelligence.results import Sentiment, SentimentPoint, Utterance

TIMELINE_WINDOW = 3  # utterances in each speaker's rolling mean


@lru_cache(maxsize=1)
def _analyser():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def score(text: str) -> float:
    """VADER's compound score of ``text`` (-1 most negative, 0 neutral, 1 most positive)."""
    if not text.strip():
        return 0.0
    return round(float(_analyser().polarity_scores(text)["compound"]), 4)


def _weighted_mean(pairs: Sequence[tuple[float, int]]) -> float:
    total = sum(weight for _, weight in pairs)
    if not total:
        return 0.0
    return round(sum(value * weight for value, weight in pairs) / total, 4)


def summarise(utterances: Sequence[Utterance]) -> Sentiment:
    """Overall and per-speaker means weighted by word count, and each speaker's rolling timeline.

    Utterances must already carry their ``sentiment`` (see :func:`score`).
    """
    weights = [(u.sentiment, max(1, len(u.text.split()))) for u in utterances]
    by_speaker: dict[str, list[tuple[float, int]]] = {}
    timeline: list[SentimentPoint] = []
    recent: dict[str, list[float]] = {}
    for utterance, pair in zip(utterances, weights, strict=True):
        by_speaker.setdefault(utterance.speaker, []).append(pair)
        window = recent.setdefault(utterance.speaker, [])
        window.append(utterance.sentiment)
        del window[:-TIMELINE_WINDOW]
        timeline.append(
            SentimentPoint(
                time=round((utterance.start + utterance.end) / 2, 2),
                speaker=utterance.speaker,
                score=round(sum(window) / len(window), 4),
            )
        )
    return Sentiment(
        overall=_weighted_mean(weights),
        by_speaker={speaker: _weighted_mean(pairs) for speaker, pairs in by_speaker.items()},
        timeline=timeline,
    )
