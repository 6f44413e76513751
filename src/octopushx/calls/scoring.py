"""QA scorecards, the pure part: the definition's schema (sections → questions → options with
points) and the score of a set of answers. No ORM, no settings: values in, values out.

Scoring, as QA teams expect it (Playvox, MaestroQA):

- a question's points are its chosen option's points × the question's weight; its maximum is its
  best option's points × its weight;
- a skipped question (only where the question allows it) counts in neither the score nor the maximum;
- an unanswered question counts in neither while the score is a draft (submitting needs it answered);
- an auto-fail answer sets the whole score to 0 and says which question failed it;
- the percentage is score ÷ maximum, rounded to one decimal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

KINDS = ("yes_no", "scale", "select")
SCALE_VALUES = ("1", "2", "3", "4", "5")
MAX_POINTS = 1000
IDENTIFIER = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")

# The automatic evidence a question may ask for (``Question.auto``); labels shown in the builder.
RULES = {
    "greeting": "The agent greeted the customer",
    "introduction": "The agent said their name",
    "asked_name": "The agent asked for the customer's name",
    "verification": "The agent checked the customer's identity",
    "empathy": "The agent acknowledged the customer's feelings",
    "next_steps": "The agent summarised the next steps",
    "closing": "The agent closed the call politely",
}
METRICS = {
    "talk_ratio": "Agent talk ratio at most the limit (0–1)",
    "longest_monologue": "Agent's longest monologue at most the limit (seconds)",
    "interruptions": "Agent interrupted at most the limit (times)",
    "customer_sentiment": "Customer sentiment at least the limit (−1 to 1)",
}


class Option(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: str = Field(min_length=1, max_length=40)
    label: str = Field(min_length=1, max_length=80)
    points: float = Field(ge=0, le=MAX_POINTS)


class Auto(BaseModel):
    """Where the AI suggestion for a question comes from: a transcript rule, a tracker or a metric
    (yes/no questions; a 1–5 question from the customer's sentiment), or the language model of the
    analysis settings (``llm``, any kind: the question's text is the criterion, ``guidance`` adds to it)."""

    model_config = ConfigDict(extra="forbid")

    source: Literal["rule", "tracker", "metric", "llm"]
    rule: str | None = None
    tracker_id: str | None = None
    expect: Literal["present", "absent"] = "present"  # a tracker that should (not) be heard
    metric: str | None = None
    limit: float | None = None
    guidance: str = Field(default="", max_length=500)  # for the language model: what counts as each answer

    @model_validator(mode="after")
    def _complete(self) -> Auto:
        if self.source == "rule" and self.rule not in RULES:
            raise ValueError(f"rule must be one of {', '.join(RULES)}")
        if self.source == "tracker" and not self.tracker_id:
            raise ValueError("tracker_id is required for a tracker suggestion")
        if self.source == "metric":
            if self.metric not in METRICS:
                raise ValueError(f"metric must be one of {', '.join(METRICS)}")
            if self.limit is None:
                raise ValueError("limit is required for a metric suggestion")
        return self


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    text: str = Field(min_length=1, max_length=300)
    help: str = Field(default="", max_length=500)
    kind: Literal["yes_no", "scale", "select"]
    options: list[Option]
    auto_fail: str | None = None  # the answer that fails the whole scorecard
    skippable: bool = False
    weight: float = Field(default=1, gt=0, le=10)
    auto: Auto | None = None

    @field_validator("id")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not IDENTIFIER.match(value):
            raise ValueError("Lower-case letters, digits, - and _ (at most 40)")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Question:
        values = [o.value for o in self.options]
        if len(set(values)) != len(values):
            raise ValueError("options: each answer's value must be unique")
        if self.kind == "yes_no" and sorted(values) != ["no", "yes"]:
            raise ValueError("options: a yes/no question has exactly the answers yes and no")
        if self.kind == "scale" and sorted(values) != list(SCALE_VALUES):
            raise ValueError("options: a 1–5 scale has exactly the answers 1 to 5")
        if self.kind == "select" and not 2 <= len(values) <= 10:
            raise ValueError("options: a single-select question has 2 to 10 answers")
        if self.auto_fail is not None and self.auto_fail not in values:
            raise ValueError("auto_fail: must be one of the question's answers")
        if max((o.points for o in self.options), default=0) <= 0 and self.auto_fail is None:
            raise ValueError("options: at least one answer must give points (or make the question auto-fail)")
        if self.auto is not None and self.auto.source != "llm" and self.kind == "select":
            raise ValueError("auto: a single-select question is suggested by the language model only")
        if (
            self.auto is not None
            and self.auto.source != "llm"
            and self.kind == "scale"
            and self.auto.metric != "customer_sentiment"
        ):
            raise ValueError("auto: a 1–5 question is suggested from the customer's sentiment only")
        return self

    def option(self, value: str | None) -> Option | None:
        return next((o for o in self.options if o.value == value), None)

    @property
    def max_points(self) -> float:
        return max(o.points for o in self.options) * self.weight


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    title: str = Field(min_length=1, max_length=120)
    questions: list[Question] = Field(min_length=1, max_length=50)

    @field_validator("id")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not IDENTIFIER.match(value):
            raise ValueError("Lower-case letters, digits, - and _ (at most 40)")
        return value


class Definition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sections: list[Section] = Field(min_length=1, max_length=20)

    @model_validator(mode="after")
    def _unique_and_adds_up(self) -> Definition:
        ids = [q.id for s in self.sections for q in s.questions]
        if len(set(ids)) != len(ids):
            raise ValueError("question ids must be unique across the scorecard")
        section_ids = [s.id for s in self.sections]
        if len(set(section_ids)) != len(section_ids):
            raise ValueError("section ids must be unique")
        if sum(q.max_points for q in self.questions()) <= 0:
            raise ValueError("the questions' points add up to 0: give at least one answer points")
        return self

    def questions(self) -> list[Question]:
        return [q for s in self.sections for q in s.questions]

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions() if q.id == question_id), None)


def _location(loc: tuple) -> str:
    return ".".join(str(part) for part in loc)


def parse_definition(data: Any, prefix: str = "definition") -> tuple[Definition | None, dict[str, list[str]]]:
    """The definition, or the errors keyed by field (``definition.sections.0.questions.1.options``)."""
    if not isinstance(data, dict):
        return None, {prefix: ["An object with sections"]}
    sections = data.get("sections")
    if not sections:
        return None, {f"{prefix}.sections": ["Add at least one section with a question"]}
    try:
        return Definition.model_validate(data), {}
    except ValidationError as exc:
        errors: dict[str, list[str]] = {}
        for error in exc.errors():
            where = _location(error["loc"])
            message = str(error["msg"]).removeprefix("Value error, ")
            # "options: ..." in a model check names the field it is about
            head, _, rest = message.partition(": ")
            if rest and re.fullmatch(r"[a-z_]+", head):
                where, message = f"{where}.{head}" if where else head, rest
            errors.setdefault(f"{prefix}.{where}" if where else prefix, []).append(message)
        return None, errors


# --- scoring ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    value: str | None = None  # an option's value; None = not answered
    skipped: bool = False


@dataclass
class QuestionScore:
    question_id: str
    points: float | None  # None: skipped or unanswered
    max: float | None
    skipped: bool = False
    failed: bool = False


@dataclass
class Score:
    score: float
    max: float
    percent: float | None
    failed: bool
    fail_reasons: list[dict[str, str]] = field(default_factory=list)
    questions: dict[str, QuestionScore] = field(default_factory=dict)
    unanswered: list[str] = field(default_factory=list)


def answer_errors(definition: Definition, answers: dict[str, Answer], *, complete: bool) -> dict[str, list[str]]:
    """What is wrong with ``answers`` for this definition, keyed ``answers.<question id>``.

    ``complete`` (submitting) needs every question answered or, where allowed, skipped.
    """
    errors: dict[str, list[str]] = {}
    known = {q.id: q for q in definition.questions()}
    for question_id, answer in answers.items():
        question = known.get(question_id)
        if question is None:
            errors[f"answers.{question_id}"] = ["No such question in this scorecard"]
        elif answer.skipped and not question.skippable:
            errors[f"answers.{question_id}"] = ["This question cannot be skipped"]
        elif answer.value is not None and question.option(answer.value) is None:
            choices = ", ".join(o.value for o in question.options)
            errors[f"answers.{question_id}"] = [f"Not an answer of this question (one of {choices})"]
    if complete:
        for question in definition.questions():
            answer = answers.get(question.id)
            if (answer is None or (answer.value is None and not answer.skipped)) and (
                f"answers.{question.id}" not in errors
            ):
                errors[f"answers.{question.id}"] = [
                    "Answer this question" + (" or skip it" if question.skippable else "")
                ]
    return errors


def compute(definition: Definition, answers: dict[str, Answer]) -> Score:
    """The score of valid answers (see ``answer_errors``); skipped and unanswered questions are
    left out of the maximum; an auto-fail answer makes the score 0 with its reason."""
    total, maximum = 0.0, 0.0
    per_question: dict[str, QuestionScore] = {}
    reasons: list[dict[str, str]] = []
    unanswered: list[str] = []
    for question in definition.questions():
        answer = answers.get(question.id) or Answer()
        if answer.skipped:
            per_question[question.id] = QuestionScore(question.id, None, None, skipped=True)
            continue
        option = question.option(answer.value)
        if option is None:
            unanswered.append(question.id)
            per_question[question.id] = QuestionScore(question.id, None, None)
            continue
        points = round(option.points * question.weight, 2)
        failed = question.auto_fail is not None and answer.value == question.auto_fail
        if failed:
            reasons.append({"question_id": question.id, "question": question.text, "answer": option.label})
        per_question[question.id] = QuestionScore(question.id, points, round(question.max_points, 2), failed=failed)
        total += points
        maximum += question.max_points
    maximum = round(maximum, 2)
    if reasons:
        total = 0.0
    total = round(total, 2)
    percent = round(total / maximum * 100, 1) if maximum else None
    if reasons and maximum:
        percent = 0.0
    return Score(total, maximum, percent, bool(reasons), reasons, per_question, unanswered)


# --- the builder's defaults ---------------------------------------------------------------


def default_options(kind: str, points: float = 1) -> list[dict[str, Any]]:
    """The answers a new question of ``kind`` starts with."""
    if kind == "yes_no":
        return [{"value": "yes", "label": "Yes", "points": points}, {"value": "no", "label": "No", "points": 0}]
    if kind == "scale":
        return [{"value": v, "label": v, "points": float(i)} for i, v in enumerate(SCALE_VALUES)]
    return [
        {"value": "good", "label": "Good", "points": points},
        {"value": "needs_work", "label": "Needs work", "points": 0},
    ]


def example_definition() -> dict[str, Any]:
    """ "Support call quality": the scorecard new organisations and the demo start with."""

    def yes_no(qid, text, points, *, auto=None, auto_fail=None, skippable=False, help=""):
        return {
            "id": qid,
            "text": text,
            "help": help,
            "kind": "yes_no",
            "options": default_options("yes_no", points),
            "auto_fail": auto_fail,
            "skippable": skippable,
            "weight": 1,
            "auto": auto,
        }

    return {
        "sections": [
            {
                "id": "opening",
                "title": "Opening",
                "questions": [
                    yes_no("greeting", "Greeted the customer", 5, auto={"source": "rule", "rule": "greeting"}),
                    yes_no("introduction", "Said their name", 5, auto={"source": "rule", "rule": "introduction"}),
                    yes_no(
                        "asked_name",
                        "Asked for the customer's name",
                        5,
                        auto={"source": "rule", "rule": "asked_name"},
                        skippable=True,
                        help="Skip when the customer is already known from the number",
                    ),
                    yes_no(
                        "verification",
                        "Verified the customer's identity before account details",
                        10,
                        auto={"source": "rule", "rule": "verification"},
                        auto_fail="no",
                        skippable=True,
                        help="Skip when no account details were discussed",
                    ),
                ],
            },
            {
                "id": "conversation",
                "title": "Conversation",
                "questions": [
                    yes_no(
                        "listening",
                        "Let the customer speak (agent talk ratio at most 65 %)",
                        10,
                        auto={"source": "metric", "metric": "talk_ratio", "limit": 0.65},
                    ),
                    yes_no(
                        "no_interruptions",
                        "Did not interrupt the customer more than twice",
                        10,
                        auto={"source": "metric", "metric": "interruptions", "limit": 2},
                    ),
                    yes_no(
                        "empathy",
                        "Acknowledged the customer's feelings",
                        10,
                        auto={"source": "rule", "rule": "empathy"},
                    ),
                    {
                        "id": "resolution",
                        "text": "How well was the problem resolved?",
                        "help": "1 = not at all, 5 = solved on this call",
                        "kind": "scale",
                        "options": [
                            {"value": v, "label": v, "points": float(i) * 5} for i, v in enumerate(SCALE_VALUES)
                        ],
                        "auto_fail": None,
                        "skippable": False,
                        "weight": 1,
                        "auto": {"source": "metric", "metric": "customer_sentiment", "limit": 0.05},
                    },
                ],
            },
            {
                "id": "closing",
                "title": "Closing",
                "questions": [
                    yes_no(
                        "next_steps", "Summarised the next steps", 10, auto={"source": "rule", "rule": "next_steps"}
                    ),
                    yes_no("closing", "Closed the call politely", 5, auto={"source": "rule", "rule": "closing"}),
                    {
                        "id": "tone",
                        "text": "Overall tone",
                        "help": "",
                        "kind": "select",
                        "options": [
                            {"value": "warm", "label": "Warm and professional", "points": 10},
                            {"value": "neutral", "label": "Neutral", "points": 5},
                            {"value": "curt", "label": "Curt", "points": 0},
                            {"value": "rude", "label": "Rude", "points": 0},
                        ],
                        "auto_fail": "rude",
                        "skippable": False,
                        "weight": 1,
                        "auto": None,
                    },
                ],
            },
        ]
    }
