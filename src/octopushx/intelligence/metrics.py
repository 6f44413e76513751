"""Conversation metrics from speaker-labelled utterances: talk ratio, monologues, interruptions…"""

from __future__ import annotations

from collections.abc import Sequence

from octopushx.intelligence.config import ROLES
from octopushx.intelligence.results import Metrics, Utterance
from octopushx.intelligence.text import is_question, sentences

MONOLOGUE_GAP = 1.5  # a pause shorter than this does not end a monologue
INTERRUPTION_OVERLAP = 0.3  # seconds of overlap that count as cutting in


def _union(intervals: list[tuple[float, float]]) -> float:
    total, current_start, current_end = 0.0, None, None
    for start, end in sorted(intervals):
        if current_end is None or start > current_end:
            if current_end is not None:
                total += current_end - current_start
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    if current_end is not None:
        total += current_end - current_start
    return total


def _speech_intervals(utterance: Utterance) -> list[tuple[float, float]]:
    """The utterance's speech: its words' spans when known (pauses inside excluded)."""
    if utterance.words:
        return [(w.start, max(w.end, w.start + 0.05)) for w in utterance.words]
    return [(utterance.start, utterance.end)]


def compute(utterances: Sequence[Utterance], duration: float) -> Metrics:
    """Every metric of :class:`Metrics`, per speaker present.

    Agent and customer are always both listed once either role is present (a silent customer has
    a talk ratio of 0 %); when no role is known (``speaker1``/``speaker2`` or ``unknown``) the
    figures are per those labels only, never a made-up "agent 0 %, customer 0 %".
    """
    present = {u.speaker for u in utterances}
    roles = list(ROLES) if present & set(ROLES) else []
    speakers = roles + sorted(present - set(ROLES))
    ordered = sorted(utterances, key=lambda u: (u.start, u.end))
    talk = {s: _union([i for u in ordered if u.speaker == s for i in _speech_intervals(u)]) for s in speakers}
    total_talk = sum(talk.values())
    talk_ratio = {s: round(talk[s] / total_talk, 4) if total_talk else 0.0 for s in speakers}
    all_speech = _union([i for u in ordered for i in _speech_intervals(u)])
    silence_ratio = round(max(0.0, 1 - all_speech / duration), 4) if duration > 0 else 0.0

    words = {s: sum(len(u.text.split()) for u in ordered if u.speaker == s) for s in speakers}
    words_per_minute = {s: round(words[s] / (talk[s] / 60), 1) if talk[s] > 1 else 0.0 for s in speakers}

    questions = dict.fromkeys(speakers, 0)
    for sentence in sentences(ordered):
        if is_question(sentence.text):
            questions[sentence.speaker] = questions.get(sentence.speaker, 0) + 1

    # Monologues: runs of one speaker uninterrupted by the other and without long pauses.
    longest = {s: 0.0 for s in speakers}
    best = {"speaker": None, "seconds": 0.0, "start": 0.0}
    run_speaker, run_start, run_end = None, 0.0, 0.0
    for utterance in ordered + [None]:
        continues = (
            utterance is not None and utterance.speaker == run_speaker and utterance.start - run_end <= MONOLOGUE_GAP
        )
        if continues:
            run_end = max(run_end, utterance.end)
            continue
        if run_speaker is not None:
            length = run_end - run_start
            longest[run_speaker] = max(longest[run_speaker], round(length, 2))
            if length > best["seconds"]:
                best = {"speaker": run_speaker, "seconds": round(length, 2), "start": round(run_start, 2)}
        if utterance is not None:
            run_speaker, run_start, run_end = utterance.speaker, utterance.start, utterance.end

    # Interruptions: a speaker starts while another is still talking (overlap on the timeline).
    interruptions = dict.fromkeys(speakers, 0)
    pauses: list[float] = []
    turns = 0
    previous: Utterance | None = None
    latest_end: dict[str, float] = {}
    for utterance in ordered:
        for other, end in latest_end.items():
            if other != utterance.speaker and end - utterance.start >= INTERRUPTION_OVERLAP:
                interruptions[utterance.speaker] = interruptions.get(utterance.speaker, 0) + 1
                break
        if previous is not None and previous.speaker != utterance.speaker:
            turns += 1
            if previous.speaker == "customer" and utterance.speaker == "agent":
                pauses.append(max(0.0, utterance.start - previous.end))
        latest_end[utterance.speaker] = max(latest_end.get(utterance.speaker, 0.0), utterance.end)
        previous = utterance
    patience = round(sum(pauses) / len(pauses), 2) if pauses else None

    return Metrics(
        duration=round(duration, 2),
        talk_ratio=talk_ratio,
        talk_time={s: round(t, 2) for s, t in talk.items()},
        longest_monologue=best,
        longest_monologue_by_speaker=longest,
        interruptions=interruptions,
        questions=questions,
        silence_ratio=silence_ratio,
        words_per_minute=words_per_minute,
        patience=patience,
        turns=turns,
    )
