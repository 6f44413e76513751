"""API of QA scorecards: build scorecards (owners, admins, managers), read the ones that apply to a
call with its score or the AI's suggested answers, save or submit answers, and the agent's
acknowledge and dispute with the reviewer's resolution.

Another organisation's ids are 404; the wrong role is 403; bad input is 422 naming the field
(``definition.sections.0.questions.1.options``, ``answers.greeting``, ``state``) and saves nothing.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from ninja import Router, Schema

from octopushx.api.auth import require
from octopushx.api.errors import ErrorOut
from octopushx.calls import scoring
from octopushx.calls.models import CallScore, Scorecard, ScoreDispute
from octopushx.calls.services import get_visible_call
from octopushx.calls.services import scorecards as services
from octopushx.tenancy.roles import Perm

router = Router(tags=["scorecards"])
ERRORS = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


# --- schemas ------------------------------------------------------------------------------


class ScorecardOptionOut(Schema):
    value: str
    label: str
    points: float


class ScorecardAutoOut(Schema):
    source: str
    rule: str | None = None
    tracker_id: str | None = None
    expect: str = "present"
    metric: str | None = None
    limit: float | None = None
    guidance: str = ""


class ScorecardQuestionOut(Schema):
    id: str
    text: str
    help: str
    kind: str
    options: list[ScorecardOptionOut]
    auto_fail: str | None
    skippable: bool
    weight: float
    auto: ScorecardAutoOut | None
    max_points: float


class ScorecardSectionOut(Schema):
    id: str
    title: str
    questions: list[ScorecardQuestionOut]


class ScorecardAppliesToOut(Schema):
    team_ids: list[str]
    direction: str
    tracker_ids: list[str]


class ScorecardOut(Schema):
    id: str
    name: str
    description: str
    is_active: bool
    revision: int
    sections: list[ScorecardSectionOut]
    applies_to: ScorecardAppliesToOut
    question_count: int
    max_points: float
    created_at: str
    updated_at: str


class ScorecardList(Schema):
    items: list[ScorecardOut]


class ScorecardIn(Schema):
    """``definition``: ``{"sections": [{"id", "title", "questions": [{"id", "text", "kind": yes_no|scale|select,
    "options": [{"value", "label", "points"}], "auto_fail": value|null, "skippable", "weight", "help",
    "auto": {"source": rule|tracker|metric, ...}|null}]}]}``. ``applies_to``: ``{"team_ids", "direction",
    "tracker_ids"}`` (empty: every call)."""

    name: str | None = None
    description: str | None = None
    is_active: bool | None = None
    definition: dict[str, Any] | None = None
    applies_to: dict[str, Any] | None = None


class ScoreEvidenceOut(Schema):
    kind: str  # line | metric
    position: int | None = None
    start: float | None = None
    speaker: str | None = None
    text: str | None = None
    note: str | None = None
    name: str | None = None
    value: float | None = None
    label: str | None = None


class ScoreSuggestionOut(Schema):
    value: str
    source: str  # rule | tracker | metric | llm
    reason: str
    evidence: list[ScoreEvidenceOut]
    label: str = "AI suggestion"
    model: str | None = None  # the language model's name (source llm)


class ModelSuggestionsOut(Schema):
    """The language model's request for a call on one scorecard: ``queued`` while it works, ``done``
    (its answers are among the suggestions) or ``failed`` with the reason in ``note``."""

    state: str
    model: str
    note: str
    answers: int
    requested_at: str
    updated_at: str


class ScoreAnswerOut(Schema):
    question_id: str
    value: str | None
    skipped: bool
    comment: str
    points: float | None
    max: float | None
    failed: bool
    ai_suggested: bool
    suggestion: ScoreSuggestionOut | None


class ScorePersonOut(Schema):
    id: str
    name: str
    email: str


class ScoreDisputeOut(Schema):
    id: str
    question_id: str
    comment: str
    raised_by: ScorePersonOut | None
    raised_at: str
    resolution: str
    resolved_by: ScorePersonOut | None
    resolved_at: str | None
    old_value: str
    new_value: str


class ScoreFailReasonOut(Schema):
    question_id: str
    question: str
    answer: str


class CallScoreOut(Schema):
    id: str
    state: str
    scorecard_revision: int
    agent: ScorePersonOut | None
    reviewer: ScorePersonOut | None
    answers: list[ScoreAnswerOut]
    score: float
    max: float
    percent: float | None
    failed: bool
    fail_reasons: list[ScoreFailReasonOut]
    comment: str
    submitted_at: str | None
    acknowledged_at: str | None
    finalised_at: str | None
    disputes: list[ScoreDisputeOut]


class CallScorecardOut(Schema):
    scorecard: ScorecardOut
    score: CallScoreOut | None
    suggestions: dict[str, ScoreSuggestionOut]
    model_questions: int  # questions the language model answers
    model_suggestions: ModelSuggestionsOut | None  # reviewers only


class CallScorecardList(Schema):
    call_id: str
    can_review: bool
    is_agent: bool
    language_model: bool  # a language model is configured (reviewers may ask it)
    items: list[CallScorecardOut]


class ScoreAnswerIn(Schema):
    value: str | None = None
    skipped: bool = False
    comment: str = ""


class ScoreAnswersIn(Schema):
    """Answers by question id; ``submit: true`` sends the score to the agent (every question
    answered or, where allowed, skipped)."""

    answers: dict[str, ScoreAnswerIn] = {}
    comment: str = ""
    submit: bool = False


class ScoreAcknowledgeIn(Schema):
    comment: str = ""


class ScoreDisputeIn(Schema):
    question_id: str
    comment: str


class ScoreResolveIn(Schema):
    """``value``: the changed answer (``"skip"`` skips a skippable question); leave it out to keep it."""

    question_id: str
    resolution: str
    value: str | None = None


# --- representations ----------------------------------------------------------------------


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _person(user) -> dict | None:
    if user is None:
        return None
    return {"id": str(user.pk), "name": user.display_name, "email": user.email}


def _sections(definition: scoring.Definition) -> list[dict]:
    return [
        {
            "id": section.id,
            "title": section.title,
            "questions": [
                {**question.model_dump(mode="json"), "max_points": round(question.max_points, 2)}
                for question in section.questions
            ],
        }
        for section in definition.sections
    ]


def scorecard_out(scorecard: Scorecard) -> dict:
    definition = scoring.Definition.model_validate(scorecard.definition)
    rules = scorecard.applies_to or {}
    return {
        "id": str(scorecard.pk),
        "name": scorecard.name,
        "description": scorecard.description,
        "is_active": scorecard.is_active,
        "revision": scorecard.revision,
        "sections": _sections(definition),
        "applies_to": {
            "team_ids": rules.get("team_ids") or [],
            "direction": rules.get("direction") or "",
            "tracker_ids": rules.get("tracker_ids") or [],
        },
        "question_count": len(definition.questions()),
        "max_points": round(sum(q.max_points for q in definition.questions()), 2),
        "created_at": scorecard.created_at.isoformat(),
        "updated_at": scorecard.updated_at.isoformat(),
    }


def dispute_out(dispute: ScoreDispute) -> dict:
    return {
        "id": str(dispute.pk),
        "question_id": dispute.question_id,
        "comment": dispute.comment,
        "raised_by": _person(dispute.raised_by),
        "raised_at": dispute.created_at.isoformat(),
        "resolution": dispute.resolution,
        "resolved_by": _person(dispute.resolved_by),
        "resolved_at": _iso(dispute.resolved_at),
        "old_value": dispute.old_value,
        "new_value": dispute.new_value,
    }


def score_out(score: CallScore) -> dict:
    definition = scoring.Definition.model_validate(score.definition)
    answers = []
    for question in definition.questions():
        answer = score.answers.get(question.id) or {}
        answers.append(
            {
                "question_id": question.id,
                "value": answer.get("value"),
                "skipped": bool(answer.get("skipped")),
                "comment": answer.get("comment", ""),
                "points": answer.get("points"),
                "max": answer.get("max"),
                "failed": bool(answer.get("failed")),
                "ai_suggested": bool(answer.get("ai_suggested")),
                "suggestion": answer.get("suggestion"),
            }
        )
    return {
        "id": str(score.pk),
        "state": score.state,
        "scorecard_revision": score.scorecard_revision,
        "agent": _person(score.agent),
        "reviewer": _person(score.reviewer),
        "answers": answers,
        "score": score.score,
        "max": score.max_score,
        "percent": score.percent,
        "failed": score.failed,
        "fail_reasons": score.fail_reasons,
        "comment": score.comment,
        "submitted_at": _iso(score.submitted_at),
        "acknowledged_at": _iso(score.acknowledged_at),
        "finalised_at": _iso(score.finalised_at),
        "disputes": [dispute_out(d) for d in score.disputes.select_related("raised_by", "resolved_by")],
    }


# --- scorecards ---------------------------------------------------------------------------


def _build(request) -> None:
    require(request, Perm.WRITE)
    if not services.can_build(request.membership):
        raise PermissionDenied("Only owners, admins and managers build scorecards")


@router.get("/scorecards", response={200: ScorecardList, **ERRORS}, summary="List scorecards")
def list_scorecards(request, active: bool | None = None):
    require(request, Perm.READ)
    services.ensure_example(request.tenant)
    qs = services.scorecards(request.tenant)
    if active is not None:
        qs = qs.filter(is_active=active)
    return {"items": [scorecard_out(s) for s in qs]}


@router.post("/scorecards", response={201: ScorecardOut, **ERRORS}, summary="Create a scorecard")
def create_scorecard(request, payload: ScorecardIn):
    """Owners, admins and managers. 422 names the field for no questions, answers whose points cannot
    add up, an auto-fail answer that is not an answer, unknown teams or trackers."""
    _build(request)
    scorecard = services.create_scorecard(request.tenant, request.actor, payload.dict(exclude_unset=True))
    return 201, scorecard_out(scorecard)


@router.get("/scorecards/{scorecard_id}", response={200: ScorecardOut, **ERRORS}, summary="One scorecard")
def get_scorecard(request, scorecard_id: str):
    require(request, Perm.READ)
    return scorecard_out(services.get_scorecard(request.tenant, scorecard_id))


@router.patch("/scorecards/{scorecard_id}", response={200: ScorecardOut, **ERRORS}, summary="Change a scorecard")
def update_scorecard(request, scorecard_id: str, payload: ScorecardIn):
    """Changed questions raise the revision; scores already given keep the questions they used."""
    _build(request)
    scorecard = services.get_scorecard(request.tenant, scorecard_id)
    scorecard = services.update_scorecard(request.tenant, request.actor, scorecard, payload.dict(exclude_unset=True))
    return scorecard_out(scorecard)


@router.delete("/scorecards/{scorecard_id}", response={204: None, **ERRORS}, summary="Delete a scorecard")
def delete_scorecard(request, scorecard_id: str):
    """The scorecard leaves every list; the scores given with it stay in the reports."""
    _build(request)
    services.delete_scorecard(request.tenant, request.actor, services.get_scorecard(request.tenant, scorecard_id))
    return 204, None


# --- a call's scorecards --------------------------------------------------------------------


def call_scorecards(request, call) -> dict:
    """The scorecards that apply to the call, each with its score (drafts only for reviewers) or,
    for reviewers, the AI's suggested answers with their evidence."""
    reviewer = services.can_review(request.membership) and call.agent_id != request.user.pk
    facts = None
    items = []
    for scorecard in services.applicable(call):
        score = services.score_of(call, scorecard)
        if score is not None and score.state == "draft" and not reviewer:
            score = None
        suggestions: dict = {}
        if score is None and reviewer:
            facts = facts or services.call_facts(call)
            suggestions = services.suggest(call, scorecard, facts=facts)
        asked = services.current_model_suggestions(call, scorecard) if reviewer else None
        items.append(
            {
                "scorecard": scorecard_out(scorecard),
                "score": score_out(score) if score is not None else None,
                "suggestions": suggestions,
                "model_questions": len(
                    services.model_questions(scoring.Definition.model_validate(scorecard.definition))
                ),
                "model_suggestions": model_suggestions_out(asked) if asked is not None else None,
            }
        )
    return {
        "call_id": str(call.pk),
        "can_review": reviewer,
        "is_agent": call.agent_id is not None and call.agent_id == request.user.pk,
        "language_model": reviewer and services.model_settings(call.tenant) is not None,
        "items": items,
    }


def model_suggestions_out(row) -> dict:
    return {
        "state": row.state,
        "model": row.model,
        "note": row.note,
        "answers": len(row.suggestions or {}),
        "requested_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
    }


def _call(request, call_id):
    return get_visible_call(request.tenant, request.membership, call_id)


@router.get(
    "/calls/{call_id}/scorecards",
    response={200: CallScorecardList, **ERRORS},
    summary="Scorecards of a call, with its scores or AI suggestions",
)
def list_call_scorecards(request, call_id: str):
    require(request, Perm.READ)
    return call_scorecards(request, _call(request, call_id))


@router.post(
    "/calls/{call_id}/scorecards/{scorecard_id}",
    response={200: CallScoreOut, **ERRORS},
    summary="Save or submit a call's answers on a scorecard",
)
def save_answers(request, call_id: str, scorecard_id: str, payload: ScoreAnswersIn):
    """Reviewers (owners, admins, managers; never on their own call). 422 for a scorecard that does not
    apply to the call, an answer that is not one of the question's, missing answers when submitting."""
    require(request, Perm.WRITE)
    call = _call(request, call_id)
    scorecard = services.call_scorecard(call, scorecard_id)
    data = payload.dict()
    data["answers"] = {qid: dict(answer) for qid, answer in data["answers"].items()}
    score = services.save_answers(request.tenant, request.actor, call, scorecard, data)
    return score_out(score)


@router.post(
    "/calls/{call_id}/scorecards/{scorecard_id}/model-suggestions",
    response={202: ModelSuggestionsOut, **ERRORS},
    summary="Ask the language model to suggest answers (in the background)",
)
def ask_model(request, call_id: str, scorecard_id: str):
    """Reviewers; the answers appear among the call's suggestions once ``state`` is ``done``.
    422 when no language model is configured (``language_model``), the scorecard has no question for
    it or does not apply (``scorecard_id``), or it already answered (``state``)."""
    require(request, Perm.WRITE)
    call = _call(request, call_id)
    scorecard = services.call_scorecard(call, scorecard_id)
    row = services.request_model_suggestions(request.tenant, request.actor, call, scorecard)
    return 202, model_suggestions_out(row)


@router.post(
    "/calls/{call_id}/scorecards/{scorecard_id}/acknowledge",
    response={200: CallScoreOut, **ERRORS},
    summary="The agent acknowledges a submitted score",
)
def acknowledge(request, call_id: str, scorecard_id: str, payload: ScoreAcknowledgeIn):
    require(request, Perm.READ)
    call = _call(request, call_id)
    scorecard = services.call_scorecard(call, scorecard_id)
    return score_out(services.acknowledge(request.tenant, request.actor, call, scorecard, payload.comment))


@router.post(
    "/calls/{call_id}/scorecards/{scorecard_id}/dispute",
    response={201: ScoreDisputeOut, **ERRORS},
    summary="The agent disputes one answer of a submitted score",
)
def dispute(request, call_id: str, scorecard_id: str, payload: ScoreDisputeIn):
    require(request, Perm.READ)
    call = _call(request, call_id)
    scorecard = services.call_scorecard(call, scorecard_id)
    found = services.dispute(request.tenant, request.actor, call, scorecard, payload.question_id, payload.comment)
    return 201, dispute_out(found)


@router.post(
    "/calls/{call_id}/scorecards/{scorecard_id}/resolve",
    response={200: CallScoreOut, **ERRORS},
    summary="A reviewer resolves a dispute (the score is final when none is left open)",
)
def resolve(request, call_id: str, scorecard_id: str, payload: ScoreResolveIn):
    require(request, Perm.WRITE)
    call = _call(request, call_id)
    scorecard = services.call_scorecard(call, scorecard_id)
    score = services.resolve(
        request.tenant, request.actor, call, scorecard, payload.question_id, payload.resolution, payload.value
    )
    return score_out(score)
