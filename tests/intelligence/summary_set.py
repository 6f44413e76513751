"""The scripted calls of data/summary_calls.json and how a summary and action items are scored
against them; used by test_summary_set.py and bench/summary_quality.py."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from octopushx.intelligence import facts
from octopushx.intelligence.results import ActionItem, Utterance

DATA = Path(__file__).resolve().parent / "data" / "summary_calls.json"


def load() -> list[dict]:
    return json.loads(DATA.read_text())["calls"]


def utterances(call: dict, seconds_per_turn: float = 5.0) -> list[Utterance]:
    """The script as utterances (the transcript an exact ASR would give)."""
    return [
        Utterance(speaker, i * seconds_per_turn, (i + 1) * seconds_per_turn - 0.5, text)
        for i, (speaker, text) in enumerate(call["turns"])
    ]


def call_time(call: dict) -> datetime:
    return datetime.fromisoformat(call["call_time"])


def _normal(text: str) -> str:
    return re.sub(r"[^a-z0-9£$%.' ]+", " ", text.lower().replace(",", "")).replace("  ", " ")


def fact_found(alternatives: Sequence[str], summary: str) -> bool:
    """A reference fact is in the summary when any alternative is: digits match a number said in
    digits or words ("45" ~ "forty five", "£45"), words match as a phrase."""
    numbers = facts.Transcript(summary).numbers
    text = " " + _normal(summary) + " "
    for alternative in alternatives:
        if re.fullmatch(r"[\d.]+", alternative):
            if alternative in numbers:
                return True
        elif _normal(alternative) in text:
            return True
        elif alternative.lower() in facts.DAYS + facts.MONTHS and re.search(
            r"\b" + alternative[:3].lower() + r"\b", text
        ):
            return True  # "Wednesday" stated as "Wed 9 Dec"
    return False


@dataclass
class Score:
    facts: int = 0
    facts_found: int = 0
    invented: int = 0
    actions: int = 0
    actions_found: int = 0
    false_items: int = 0
    dues: int = 0
    dues_right: int = 0
    calls: int = 0
    worst_false_per_call: int = 0

    @property
    def fact_recall(self) -> float:
        return self.facts_found / self.facts if self.facts else 0.0

    @property
    def action_recall(self) -> float:
        return self.actions_found / self.actions if self.actions else 0.0

    @property
    def due_accuracy(self) -> float:
        return self.dues_right / self.dues if self.dues else 0.0


def _item_words(item: ActionItem) -> str:
    return _normal(f"{item.text} {item.verb_phrase}")


def item_matches(reference: dict, item: ActionItem) -> bool:
    words = _item_words(item)
    return item.owner == reference["owner"] and all(_normal(w).strip() in words for w in reference["match"])


def score_summary(score: Score, call: dict, summary: str, transcript: str, allowed: Sequence[str] = ()) -> list[str]:
    """Adds one call's summary to ``score``; returns the reference facts it missed."""
    missed = []
    for alternatives in call["facts"]:
        score.facts += 1
        if fact_found(alternatives, summary):
            score.facts_found += 1
        else:
            missed.append(alternatives[0])
    checked = facts.check(summary, transcript, allowed=allowed)
    score.invented += len(checked.unsupported)
    return missed


def reference_turn(call: dict, reference: dict) -> int:
    """The turn of the script the reference item is said in."""
    return reference["turn"]


def score_actions(
    score: Score, call: dict, items: Sequence[ActionItem], turns: Sequence[tuple[float, float]] | None = None
) -> list[str]:
    """Adds one call's action items to ``score``: recall of the reference items, items matching
    none (false), and due dates right where the reference has one; returns what it missed.

    Without ``turns`` an item matches a reference by owner and words. With ``turns`` (each script
    turn's (start, end) in the audio) it matches by owner and the turn it was said in, so that a
    word the recogniser got wrong ("router" heard as "through") does not hide a found item."""

    def matches(reference: dict, item: ActionItem) -> bool:
        if turns is None:
            return item_matches(reference, item)
        start, end = turns[reference_turn(call, reference)]
        return item.owner == reference["owner"] and start - 0.6 <= item.start <= end + 0.6

    missed = []
    score.calls += 1
    for reference in call["actions"]:
        score.actions += 1
        matched = [i for i in items if matches(reference, i)]
        if matched:
            score.actions_found += 1
        else:
            missed.append(" ".join(reference["match"]))
        if reference.get("due"):
            score.dues += 1
            if any(i.due_date == reference["due"] for i in matched):
                score.dues_right += 1
    false = [i for i in items if not any(matches(r, i) for r in call["actions"])]
    score.false_items += len(false)
    score.worst_false_per_call = max(score.worst_false_per_call, len(false))
    return missed
