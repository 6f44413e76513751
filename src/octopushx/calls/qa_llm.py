"""QA scorecards' suggestions from the language model, the pure part: one request per call and
scorecard with the numbered redacted transcript and the questions whose suggestion source is
``llm``; the strict JSON answer is validated and every suggestion keeps only real evidence.

The model's answer ``{"answers": [{"question_id", "value", "evidence": [line numbers], "reason"}]}``
is checked with pydantic; an answer that is not JSON of that shape is asked again with the error,
at most ``settings.retries`` more times, within the time of that many requests. Then each answer is
kept only when its question was asked, its value is one of the question's answers and at least one
of its line numbers exists: invented lines are dropped and an answer without evidence is dropped
(never a suggestion without evidence). The reason goes through the facts-only check, so it states
no name, number or date the transcript does not hold (a sentence that does is left out of the reason,
the answer and its evidence stay). Raises :class:`LLMError` on any failure.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator

from octopushx.calls.qa_evidence import CallFacts, Suggestion, line
from octopushx.calls.scoring import Question
from octopushx.intelligence import facts as facts_check
from octopushx.intelligence.config import LLMSettings
from octopushx.intelligence.errors import LLMError
from octopushx.intelligence.llm import _json_object, _short_error, chat

PROMPT = (
    "You help a quality reviewer score a customer service phone call. You get the call's transcript as "
    "numbered lines (number. speaker: text) and a list of questions, each with its allowed answers. For "
    "each question the transcript lets you answer, give the answer and the numbers of the lines that "
    "justify it. Leave out a question the transcript does not let you answer: never guess. Answer with "
    "one JSON object and nothing else, of this shape:\n"
    '{"answers": [{"question_id": "the question\'s id", "value": "one of its allowed answers", '
    '"evidence": [line numbers], "reason": "one short sentence: why"}]}\n'
    "Use only line numbers that appear in the transcript. Write each reason in the third person, starting "
    'with "The agent" or "The customer", with only names, numbers and dates the transcript holds. '
    "Keep tags such as [CARD] or [EMAIL] as they are."
)
MAX_EVIDENCE = 3


class LLMAnswer(BaseModel):
    question_id: str = Field(min_length=1, max_length=40)
    value: str = Field(min_length=1, max_length=40)
    evidence: list[int] = Field(default_factory=list, max_length=20)
    reason: str = Field(default="", max_length=400)

    @field_validator("value", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class LLMAnswers(BaseModel):
    """The JSON the model must answer; anything else is an invalid answer (retried, then dropped)."""

    answers: list[LLMAnswer] = Field(max_length=100)


@dataclass
class Outcome:
    suggestions: dict[str, dict[str, Any]]  # question id → Suggestion.as_dict() with the model's name
    attempts: int
    dropped: list[str] = field(default_factory=list)  # why answers were left out, for the notes


def numbered_transcript(facts: CallFacts) -> str:
    """``1. agent: text`` per line of the (redacted) transcript; line n is utterance position n-1."""
    return "\n".join(f"{u['position'] + 1}. {u['speaker']}: {u['text']}" for u in facts.utterances)


def questions_text(questions: list[Question]) -> str:
    out = []
    for q in questions:
        allowed = ", ".join(f'"{o.value}" ({o.label})' if o.label != o.value else f'"{o.value}"' for o in q.options)
        item = f'- question_id "{q.id}": {q.text}\n  allowed answers: {allowed}'
        guidance = " ".join(part for part in (q.help, q.auto.guidance if q.auto else "") if part)
        if guidance:
            item += f"\n  guidance: {guidance}"
        out.append(item)
    return "\n".join(out)


def request_text(facts: CallFacts, questions: list[Question], max_chars: int) -> str:
    head = "Questions:\n" + questions_text(questions) + "\n\nTranscript:\n"
    return head + numbered_transcript(facts)[: max(0, max_chars - len(head))]


def validate(
    parsed: LLMAnswers, questions: list[Question], facts: CallFacts, model: str
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Keep the answers to asked questions with an allowed value and real evidence lines."""
    by_id = {q.id: q for q in questions}
    lines = {u["position"] + 1: u for u in facts.utterances}
    transcript = facts_check.Transcript("\n".join(f"{u['speaker']}: {u['text']}" for u in facts.utterances))
    kept: dict[str, dict[str, Any]] = {}
    dropped: list[str] = []
    for answer in parsed.answers:
        question = by_id.get(answer.question_id)
        if question is None or answer.question_id in kept:
            continue
        if question.option(answer.value) is None:
            dropped.append(f"{question.id}: “{answer.value[:40]}” is not one of its answers")
            continue
        evidence = [lines[n] for n in dict.fromkeys(answer.evidence) if n in lines][:MAX_EVIDENCE]
        if not evidence:
            dropped.append(f"{question.id}: no line of the transcript given as evidence")
            continue
        reason = facts_check.check(" ".join(answer.reason.split()), transcript).text.replace("\n", " ").strip()
        reason = f"Language model ({model})" + (f": {reason}" if reason else "")
        found = Suggestion(answer.value, "llm", reason[:400], [line(u) for u in evidence]).as_dict()
        found["model"] = model
        kept[question.id] = found
    return kept, dropped


def ask(facts: CallFacts, questions: list[Question], settings: LLMSettings) -> Outcome:
    """The model's suggestions for ``questions`` of one call; raises :class:`LLMError`."""
    if not questions:
        return Outcome({}, 0)
    if not facts.utterances:
        raise LLMError("the call has no transcript")
    user = request_text(facts, questions, settings.max_transcript_chars - 300)  # room for a retry's note
    deadline = time.monotonic() + settings.timeout * (settings.retries + 1)
    extra, problem = "", ""
    for attempt in range(1, settings.retries + 2):
        if time.monotonic() >= deadline:
            break
        answer = chat(PROMPT, user + extra, settings, max_tokens=200 + 120 * len(questions), json_mode=True)
        try:
            parsed = LLMAnswers.model_validate(_json_object(answer))
        except (ValueError, ValidationError, json.JSONDecodeError) as exc:
            problem = _short_error(exc)
            extra = "\n\n(Your previous answer was not valid: " + problem + ". Answer with the JSON object only.)"
            continue
        suggestions, dropped = validate(parsed, questions, facts, settings.model)
        return Outcome(suggestions, attempt, dropped)
    raise LLMError(f"no valid JSON after {settings.retries + 1} tries ({problem or 'no time left'})")
