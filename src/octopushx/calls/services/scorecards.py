"""QA scorecards: build them, find the ones that apply to a call, suggest answers with evidence,
and move a call's score through review (draft → submitted → acknowledged | disputed → final).

Owners, admins and managers build scorecards and review calls they can see (never their own);
the call's agent acknowledges a submitted score or disputes one answer with a comment, and a
reviewer resolves the dispute. Every change is validated first (``ValidationError`` keyed by field,
nothing saved), written in one transaction, audited and announced as a domain event. Only
submitted scores and later count in reports (``scores_by_agent``, ``scores_over_time``).
"""

from __future__ import annotations

import uuid
import zoneinfo
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, Q, QuerySet
from django.db.models.functions import TruncMonth, TruncWeek
from django.http import Http404
from django.utils import timezone

from octopushx.calls import qa_evidence, qa_llm, scoring
from octopushx.calls.models import (
    COUNTED_STATES,
    Call,
    CallAnalysisResult,
    CallScore,
    Direction,
    ModelSuggestions,
    ModelSuggestionState,
    Scorecard,
    ScoreDispute,
    ScoreState,
    Tracker,
    TrackerHit,
)
from octopushx.calls.services.config import analysis_settings, call_settings
from octopushx.calls.services.queries import membership_of, roles_known, visible_calls
from octopushx.core import audit, events, jobs
from octopushx.core.context import Actor
from octopushx.intelligence import LLMError, LLMSettings
from octopushx.tenancy.models import Membership, Team
from octopushx.tenancy.roles import Role

REVIEWER_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.MANAGER})
EXAMPLE_NAME = "Support call quality"
MAX_COMMENT = 2000


# --- who may do what ----------------------------------------------------------------------


def can_build(membership: Membership | None) -> bool:
    """Owners, admins and managers build scorecards."""
    return membership is not None and membership.role in REVIEWER_ROLES


def can_review(membership: Membership | None) -> bool:
    """Owners, admins and managers score calls (those they can see, not their own)."""
    return membership is not None and membership.role in REVIEWER_ROLES


def _builder(tenant, actor: Actor) -> None:
    if actor.user is not None and not can_build(membership_of(tenant, actor)):
        raise PermissionDenied("Only owners, admins and managers build scorecards")


def _reviewer(tenant, actor: Actor, call: Call) -> None:
    if actor.user is None:
        return
    if not can_review(membership_of(tenant, actor)):
        raise PermissionDenied("Only owners, admins and managers score calls")
    if call.agent_id == actor.user.pk:
        raise PermissionDenied("You cannot score your own call")


def _the_agent(actor: Actor, score: CallScore) -> None:
    if actor.user is None or score.agent_id != actor.user.pk:
        raise PermissionDenied("Only the call's agent can acknowledge or dispute its score")


# --- scorecards ---------------------------------------------------------------------------


def scorecards(tenant) -> QuerySet:
    """The tenant's scorecards (deleted ones left out)."""
    return Scorecard.objects.for_tenant(tenant).filter(deleted_at__isnull=True)


def get_scorecard(tenant, pk) -> Scorecard:
    """One of the tenant's scorecards; 404 for another tenant's, a deleted one or a malformed id."""
    scorecard = Scorecard.objects.get_for_tenant(tenant, pk)
    if scorecard.deleted_at is not None:
        raise Http404("No scorecard with that id")
    return scorecard


def call_scorecard(call: Call, pk) -> Scorecard:
    """A scorecard as a call's page or API names it: the tenant's, not deleted unless the call was
    already scored on it (the agent can still acknowledge or dispute that score)."""
    scorecard = Scorecard.objects.get_for_tenant(call.tenant, pk)
    if scorecard.deleted_at is not None and not CallScore.objects.filter(call=call, scorecard=scorecard).exists():
        raise Http404("No scorecard with that id")
    return scorecard


def scorecard_snapshot(scorecard: Scorecard) -> dict[str, Any]:
    return {
        "name": scorecard.name,
        "description": scorecard.description,
        "is_active": scorecard.is_active,
        "definition": scorecard.definition,
        "applies_to": scorecard.applies_to,
        "revision": scorecard.revision,
    }


def _ids(value: Any, field: str, errors: dict[str, list[str]]) -> list[str]:
    if value in (None, ""):
        return []
    if not isinstance(value, list | tuple):
        errors[field] = ["A list of ids"]
        return []
    out = []
    for item in value:
        try:
            out.append(str(uuid.UUID(str(item))))
        except ValueError:
            errors[field] = [f"Not an id: {str(item)[:40]}"]
            return []
    return sorted(set(out))


def clean_applies_to(tenant, value: Any) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """``{"team_ids", "direction", "tracker_ids"}`` with every id checked against the tenant."""
    errors: dict[str, list[str]] = {}
    if value in (None, ""):
        value = {}
    if not isinstance(value, dict):
        return {}, {"applies_to": ["An object with team_ids, direction and tracker_ids"]}
    unknown = set(value) - {"team_ids", "direction", "tracker_ids"}
    if unknown:
        errors["applies_to"] = [f"Unknown field: {', '.join(sorted(unknown))}"]
    team_ids = _ids(value.get("team_ids"), "applies_to.team_ids", errors)
    tracker_ids = _ids(value.get("tracker_ids"), "applies_to.tracker_ids", errors)
    direction = value.get("direction") or ""
    if direction not in ("", *Direction.values):
        errors["applies_to.direction"] = ["inbound, outbound or empty for both"]
    if team_ids and Team.objects.filter(tenant=tenant, pk__in=team_ids).count() != len(team_ids):
        errors["applies_to.team_ids"] = ["Choose teams of your organisation"]
    if tracker_ids and Tracker.objects.for_tenant(tenant).filter(pk__in=tracker_ids).count() != len(tracker_ids):
        errors["applies_to.tracker_ids"] = ["Choose trackers of your organisation"]
    return {"team_ids": team_ids, "direction": direction, "tracker_ids": tracker_ids}, errors


def _clean(tenant, data: dict[str, Any], scorecard: Scorecard | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    if scorecard is None or "name" in data:
        name = str(data.get("name") or "").strip()
        if not name:
            errors["name"] = ["A name is required"]
        elif len(name) > 120:
            errors["name"] = ["At most 120 characters"]
        elif scorecards(tenant).filter(name__iexact=name).exclude(pk=getattr(scorecard, "pk", None)).exists():
            errors["name"] = ["Another scorecard has this name"]
        out["name"] = name
    if "description" in data:
        description = str(data.get("description") or "").strip()
        if len(description) > 500:
            errors["description"] = ["At most 500 characters"]
        out["description"] = description
    if "is_active" in data:
        if not isinstance(data["is_active"], bool):
            errors["is_active"] = ["true or false"]
        out["is_active"] = bool(data["is_active"])
    if scorecard is None or "definition" in data:
        definition, problems = scoring.parse_definition(data.get("definition"))
        errors.update(problems)
        if definition is not None:
            trackers = {q.auto.tracker_id for q in definition.questions() if q.auto and q.auto.source == "tracker"}
            known = {
                str(pk)
                for pk in Tracker.objects.for_tenant(tenant)
                .filter(pk__in=[t for t in trackers if _is_uuid(t)])
                .values_list("pk", flat=True)
            }
            for index, question in enumerate(definition.questions()):
                if question.auto and question.auto.source == "tracker" and question.auto.tracker_id not in known:
                    errors[f"definition.questions.{question.id}.auto.tracker_id"] = [
                        f"No tracker of your organisation with that id (question {index + 1})"
                    ]
            out["definition"] = definition.model_dump(mode="json")
    if scorecard is None or "applies_to" in data:
        applies_to, problems = clean_applies_to(tenant, data.get("applies_to"))
        errors.update(problems)
        out["applies_to"] = applies_to
    if errors:
        raise ValidationError(errors)
    return out


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def create_scorecard(tenant, actor: Actor, data: dict[str, Any]) -> Scorecard:
    """A new scorecard (owners, admins, managers); 422 for no questions or points that cannot add up."""
    _builder(tenant, actor)
    clean = _clean(tenant, data, None)
    with transaction.atomic():
        scorecard = Scorecard.objects.create(
            tenant=tenant,
            created_by=actor.user,
            is_active=clean.pop("is_active", True),
            **clean,
        )
        audit.record(
            tenant, actor, "scorecard.created", obj=scorecard, changes=audit.diff({}, scorecard_snapshot(scorecard))
        )
        events.emit(tenant, "scorecard.created", {"scorecard_id": str(scorecard.pk)})
    return scorecard


def update_scorecard(tenant, actor: Actor, scorecard: Scorecard, data: dict[str, Any]) -> Scorecard:
    """Change a scorecard; changed questions raise its revision (scores keep the version they used)."""
    _builder(tenant, actor)
    clean = _clean(tenant, data, scorecard)
    old = scorecard_snapshot(scorecard)
    with transaction.atomic():
        for key, value in clean.items():
            setattr(scorecard, key, value)
        if clean.get("definition") is not None and clean["definition"] != old["definition"]:
            scorecard.revision += 1
        changes = audit.diff(old, scorecard_snapshot(scorecard))
        if not changes:
            return scorecard
        scorecard.save()
        audit.record(tenant, actor, "scorecard.updated", obj=scorecard, changes=changes)
        events.emit(tenant, "scorecard.updated", {"scorecard_id": str(scorecard.pk), "fields": sorted(changes)})
    return scorecard


def delete_scorecard(tenant, actor: Actor, scorecard: Scorecard) -> None:
    """Remove a scorecard from use; the scores given with it stay (reports, the agents' history)."""
    _builder(tenant, actor)
    with transaction.atomic():
        scorecard.deleted_at = timezone.now()
        scorecard.is_active = False
        scorecard.save(update_fields=["deleted_at", "is_active", "updated_at"])
        audit.record(tenant, actor, "scorecard.deleted", obj=scorecard, changes={"name": [scorecard.name, None]})
        events.emit(tenant, "scorecard.deleted", {"scorecard_id": str(scorecard.pk)})


def ensure_example(tenant) -> Scorecard | None:
    """Give an organisation that never had a scorecard the example "Support call quality"."""
    if Scorecard.objects.for_tenant(tenant).exists():
        return None
    try:
        with transaction.atomic():
            return create_scorecard(
                tenant,
                Actor.system("calls"),
                {
                    "name": EXAMPLE_NAME,
                    "description": "An example to start from: opening, conversation and closing of a support call. "
                    "Change it or make your own.",
                    "definition": scoring.example_definition(),
                    "applies_to": {},
                },
            )
    except (IntegrityError, ValidationError):  # made by a request at the same moment
        return None


# --- which scorecards apply to a call -----------------------------------------------------


def _team_of_agent(call: Call) -> str | None:
    if not call.agent_id:
        return None
    team = Membership.objects.filter(tenant_id=call.tenant_id, user_id=call.agent_id).values_list("team_id", flat=True)
    found = team.first()
    return str(found) if found else None


def applies(scorecard: Scorecard, call: Call, *, team_id: str | None, tracker_ids: set[str]) -> bool:
    """Whether the scorecard's rules (team, direction, tracker heard) take in this call."""
    rules = scorecard.applies_to or {}
    if rules.get("team_ids") and team_id not in rules["team_ids"]:
        return False
    if rules.get("direction") and rules["direction"] != call.direction:
        return False
    return not (rules.get("tracker_ids") and not tracker_ids & set(rules["tracker_ids"]))


def applicable(call: Call) -> list[Scorecard]:
    """The active scorecards that apply to the call, and any other it already has a score on."""
    tenant = call.tenant
    team_id = _team_of_agent(call)
    heard = {
        str(pk) for pk in TrackerHit.objects.for_tenant(tenant).filter(call=call).values_list("tracker_id", flat=True)
    }
    scored = set(CallScore.objects.for_tenant(tenant).filter(call=call).values_list("scorecard_id", flat=True))
    out = []
    candidates = Scorecard.objects.for_tenant(tenant).filter(
        Q(is_active=True, deleted_at__isnull=True) | Q(pk__in=scored)
    )
    for scorecard in candidates:
        if scorecard.pk in scored or applies(scorecard, call, team_id=team_id, tracker_ids=heard):
            out.append(scorecard)
    return out


# --- suggestions --------------------------------------------------------------------------


def call_facts(call: Call) -> qa_evidence.CallFacts:
    """The call's transcript, metrics, sentiment and tracker hits, as the suggestions read them."""
    data: dict[str, Any] = {}
    if call.current_id:
        data = CallAnalysisResult.objects.filter(pk=call.current_id).values_list("data", flat=True).first() or {}
    insights = data.get("insights") or {}
    utterances = [
        {
            "position": i,
            "speaker": u.get("speaker", "unknown"),
            "start": float(u.get("start", 0)),
            "end": float(u.get("end", 0)),
            "text": u.get("text", ""),
            "sentiment": float(u.get("sentiment", 0) or 0),
        }
        for i, u in enumerate(data.get("utterances") or [])
    ]
    hits = [
        {
            "tracker_id": str(tracker_id),
            "tracker": name,
            "phrase": phrase,
            "position": position,
            "start": start,
            "speaker": speaker,
        }
        for tracker_id, name, phrase, position, start, speaker in TrackerHit.objects.for_tenant(call.tenant)
        .filter(call=call)
        .values_list("tracker_id", "tracker__name", "phrase", "position", "start", "speaker")
    ]
    return qa_evidence.CallFacts(
        utterances=utterances,
        metrics=insights.get("metrics") or {},
        sentiment=insights.get("sentiment") or {},
        roles_known=bool(data) and roles_known(data),
        hits=hits,
        action_items=insights.get("action_items") or [],
    )


def suggest(
    call: Call,
    scorecard: Scorecard | None = None,
    *,
    definition: scoring.Definition | None = None,
    facts: qa_evidence.CallFacts | None = None,
) -> dict[str, dict[str, Any]]:
    """AI-suggested answers with their evidence, per question id; questions the call gives no
    evidence for are left out (never guessed). With ``scorecard``, the language model's answers
    computed for this call, scorecard revision and analysis run are merged in (source ``llm``)."""
    if definition is None:
        definition = scoring.Definition.model_validate(scorecard.definition)
    facts = facts or call_facts(call)
    out = {}
    for question in definition.questions():
        found = qa_evidence.suggest(question, facts)
        if found is not None:
            out[question.id] = found.as_dict()
    stored = current_model_suggestions(call, scorecard) if scorecard is not None else None
    if stored is not None and stored.state == ModelSuggestionState.DONE:
        for question in model_questions(definition):
            found = stored.suggestions.get(question.id)
            if found and question.option(found.get("value")) is not None and found.get("evidence"):
                out[question.id] = found
    return out


# --- suggestions from the language model --------------------------------------------------

MODEL_JOB = "calls.scorecards.model_suggestions"


def model_settings(tenant) -> LLMSettings | None:
    """The language model of the organisation's analysis settings, or ``None`` when none is set."""
    return analysis_settings(call_settings(tenant)).llm


def model_questions(definition: scoring.Definition) -> list[scoring.Question]:
    """The questions the builder left to the language model (suggestion source ``llm``)."""
    return [q for q in definition.questions() if q.auto is not None and q.auto.source == "llm"]


def _has_model_questions(scorecard: Scorecard) -> bool:
    return bool(model_questions(scoring.Definition.model_validate(scorecard.definition)))


def current_model_suggestions(call: Call, scorecard: Scorecard) -> ModelSuggestions | None:
    """The model's answers for the call on this scorecard, if asked for its current questions and
    the call's current transcript (older ones no longer count)."""
    row = ModelSuggestions.objects.for_tenant(call.tenant).filter(call=call, scorecard=scorecard).first()
    if row is None or row.scorecard_revision != scorecard.revision or row.result_id != call.current_id:
        return None
    return row


def _queue_model(
    call: Call, scorecard: Scorecard, settings: LLMSettings, user=None, nonce: str = ""
) -> ModelSuggestions:
    with transaction.atomic():
        row, _ = ModelSuggestions.objects.update_or_create(
            call=call,
            scorecard=scorecard,
            defaults={
                "tenant": call.tenant,
                "scorecard_revision": scorecard.revision,
                "result_id": call.current_id,
                "state": ModelSuggestionState.QUEUED,
                "model": settings.model[:200],
                "suggestions": {},
                "note": "",
                "requested_by": user,
            },
        )
        key = f"{MODEL_JOB}:{call.pk}:{scorecard.pk}:{scorecard.revision}:{call.current_id}"
        job = jobs.submit(
            MODEL_JOB,
            tenant=call.tenant,
            payload={"call_id": str(call.pk), "scorecard_id": str(scorecard.pk)},
            dedupe_key=f"{key}:{nonce}" if nonce else key,
            max_attempts=1,
        )
        row.job_id = job.pk
        row.save(update_fields=["job_id", "updated_at"])
    return row


def queue_model_suggestions(call: Call) -> list[ModelSuggestions]:
    """After an analysis: ask the model, in the background, for the applicable scorecards that have
    questions for it (nothing when no model is configured or the answers are already there)."""
    settings = model_settings(call.tenant)
    if settings is None or not call.current_id or not call_facts(call).utterances:
        return []
    queued = []
    for scorecard in applicable(call):
        if _has_model_questions(scorecard) and current_model_suggestions(call, scorecard) is None:
            queued.append(_queue_model(call, scorecard, settings))
    return queued


def request_model_suggestions(tenant, actor: Actor, call: Call, scorecard: Scorecard) -> ModelSuggestions:
    """A reviewer asks the language model now (the QA panel's button); audited. Asking again while
    it works returns the pending request; a failed or outdated answer may be asked again."""
    _reviewer(tenant, actor, call)
    errors: dict[str, list[str]] = {}
    settings = model_settings(tenant)
    if settings is None:
        errors["language_model"] = ["No language model is configured in the analysis settings"]
    if scorecard.pk not in {s.pk for s in applicable(call)}:
        errors["scorecard_id"] = ["This scorecard does not apply to this call"]
    elif not _has_model_questions(scorecard):
        errors["scorecard_id"] = ["No question of this scorecard is answered by the language model"]
    if not call.current_id:
        errors["call_id"] = ["The call has no transcript yet"]
    if errors:
        raise ValidationError(errors)
    existing = current_model_suggestions(call, scorecard)
    if existing is not None and existing.state == ModelSuggestionState.QUEUED:
        return existing
    if existing is not None and existing.state == ModelSuggestionState.DONE and existing.suggestions:
        raise ValidationError({"state": ["The language model has already suggested answers for this call"]})
    with transaction.atomic():
        row = _queue_model(call, scorecard, settings, user=actor.user, nonce=uuid.uuid4().hex[:8])
        audit.record(
            tenant,
            actor,
            "call_score.model_requested",
            obj=call,
            changes={"scorecard": [None, scorecard.name], "model": [None, settings.model]},
        )
    return row


def model_job_failed(job) -> None:
    """The job failed for good (its worker died, an unexpected error): the panel stops waiting."""
    payload = job.payload or {}
    ModelSuggestions.objects.for_tenant(job.tenant).filter(
        call_id=payload.get("call_id"), scorecard_id=payload.get("scorecard_id"), job_id=job.pk
    ).update(
        state=ModelSuggestionState.FAILED,
        note="the request stopped before the model answered",
        updated_at=timezone.now(),
    )


def run_model_job(job) -> dict[str, Any]:
    """The background job: one request to the model, its validated answers stored on the row.
    A model that is missing, slow or answers invalid JSON leaves a note and no suggestion."""
    payload = job.payload or {}
    call = Call.objects.for_tenant(job.tenant).select_related("tenant").filter(pk=payload.get("call_id")).first()
    row = (
        ModelSuggestions.objects.for_tenant(job.tenant)
        .select_related("scorecard")
        .filter(call_id=payload.get("call_id"), scorecard_id=payload.get("scorecard_id"))
        .first()
    )
    if call is None or row is None:
        return {"skipped": "the call or its request is gone"}
    settings = model_settings(call.tenant)
    definition = scoring.Definition.model_validate(row.scorecard.definition)
    questions = model_questions(definition)
    facts = call_facts(call)
    suggestions: dict[str, Any] = {}
    try:
        if settings is None:
            raise LLMError("no language model is configured in the analysis settings")
        if not facts.roles_known:
            raise LLMError("the call's agent and customer are not known")
        outcome = qa_llm.ask(facts, questions, settings)
    except LLMError as exc:
        state, note = ModelSuggestionState.FAILED, str(exc)
    else:
        suggestions = outcome.suggestions
        state = ModelSuggestionState.DONE
        note = "Left out: " + "; ".join(outcome.dropped[:5]) if outcome.dropped else ""
        if not suggestions:
            note = "The language model found no answer with evidence in the transcript." + (f" {note}" if note else "")
    ModelSuggestions.objects.filter(pk=row.pk).update(
        state=state,
        suggestions=suggestions,
        note=note[:2000],
        model=(settings.model if settings else row.model)[:200],
        updated_at=timezone.now(),
    )
    return {"call_id": str(call.pk), "scorecard_id": str(row.scorecard_id), "state": state, "answers": len(suggestions)}


# --- a call's score -----------------------------------------------------------------------


def score_of(call: Call, scorecard: Scorecard) -> CallScore | None:
    return CallScore.objects.for_tenant(call.tenant).filter(call=call, scorecard=scorecard).first()


def _answers_in(data: Any) -> tuple[dict[str, dict[str, Any]], dict[str, list[str]]]:
    """``{question id: {value, skipped, comment}}`` as sent, checked for shape."""
    errors: dict[str, list[str]] = {}
    if data is None:
        return {}, {}
    if not isinstance(data, dict):
        return {}, {"answers": ["An object of question id → answer"]}
    out = {}
    for question_id, given in data.items():
        key = f"answers.{question_id}"
        if isinstance(given, str) or given is None:
            given = {"value": given}
        if not isinstance(given, dict):
            errors[key] = ["An answer: {value, skipped, comment}"]
            continue
        value = given.get("value")
        if value is not None and not isinstance(value, str | int):
            errors[key] = ["The answer's value is text"]
            continue
        value = str(value).strip() if value is not None else None
        comment = str(given.get("comment") or "").strip()
        if len(comment) > MAX_COMMENT:
            errors[f"{key}.comment"] = [f"At most {MAX_COMMENT} characters"]
        skipped = bool(given.get("skipped"))
        if skipped and value:
            errors[key] = ["Either answer the question or skip it, not both"]
        out[str(question_id)] = {"value": value or None, "skipped": skipped, "comment": comment}
    return out, errors


def _scored_answers(
    definition: scoring.Definition, given: dict[str, dict[str, Any]], suggestions: dict[str, dict[str, Any]]
) -> tuple[dict[str, dict[str, Any]], scoring.Score]:
    result = scoring.compute(definition, {qid: scoring.Answer(a["value"], a["skipped"]) for qid, a in given.items()})
    answers = {}
    for question in definition.questions():
        answer = given.get(question.id) or {"value": None, "skipped": False, "comment": ""}
        suggestion = suggestions.get(question.id)
        per = result.questions[question.id]
        answers[question.id] = {
            "value": answer["value"],
            "skipped": answer["skipped"],
            "comment": answer["comment"],
            "points": per.points,
            "max": per.max,
            "failed": per.failed,
            "suggestion": suggestion,
            "ai_suggested": bool(suggestion) and not answer["skipped"] and answer["value"] == suggestion["value"],
        }
    return answers, result


def score_snapshot(score: CallScore) -> dict[str, Any]:
    return {
        "state": score.state,
        "answers": {qid: a.get("value") if not a.get("skipped") else "skipped" for qid, a in score.answers.items()},
        "score": score.score,
        "max": score.max_score,
        "percent": score.percent,
        "failed": score.failed,
        "comment": score.comment,
    }


def save_answers(tenant, actor: Actor, call: Call, scorecard: Scorecard, data: dict[str, Any]) -> CallScore:
    """Save a reviewer's answers as a draft, or submit them (``data["submit"]``) for the agent.

    Answers are ``{question id: {value, skipped, comment}}``; each keeps the AI suggestion it had
    and whether the reviewer kept it. Submitting needs every question answered (or skipped where
    allowed). A score the agent has acknowledged or disputed changes only by resolving a dispute.
    """
    _reviewer(tenant, actor, call)
    existing = score_of(call, scorecard)
    if existing is None and scorecard.pk not in {s.pk for s in applicable(call)}:
        raise ValidationError({"scorecard_id": ["This scorecard does not apply to this call"]})
    if existing is not None and existing.state not in (ScoreState.DRAFT, ScoreState.SUBMITTED):
        raise ValidationError(
            {"state": [f"The score is {existing.get_state_display().lower()}: resolve a dispute to change it"]}
        )
    submit = data.get("submit", False)
    errors: dict[str, list[str]] = {}
    if not isinstance(submit, bool):
        errors["submit"] = ["true or false"]
    given, problems = _answers_in(data.get("answers"))
    errors.update(problems)
    comment = str(data.get("comment") or "").strip()
    if len(comment) > MAX_COMMENT:
        errors["comment"] = [f"At most {MAX_COMMENT} characters"]
    # a draft follows the scorecard's current questions; a submitted score keeps the ones it was given with
    if existing is not None and existing.state == ScoreState.SUBMITTED:
        definition_data, revision = existing.definition, existing.scorecard_revision
    else:
        definition_data, revision = scorecard.definition, scorecard.revision
    definition = scoring.Definition.model_validate(definition_data)
    if not errors:
        errors.update(
            scoring.answer_errors(
                definition,
                {qid: scoring.Answer(a["value"], a["skipped"]) for qid, a in given.items()},
                complete=bool(submit),
            )
        )
    if errors:
        raise ValidationError(errors)
    if existing is not None and existing.state == ScoreState.SUBMITTED:
        suggestions = {qid: a["suggestion"] for qid, a in existing.answers.items() if a.get("suggestion")}
    else:
        suggestions = suggest(call, scorecard, definition=definition)
    answers, result = _scored_answers(definition, given, suggestions)
    now = timezone.now()
    with transaction.atomic():
        score = existing or CallScore(tenant=tenant, call=call, scorecard=scorecard)
        old = score_snapshot(score) if existing else {}
        score.definition, score.scorecard_revision = definition_data, revision
        score.agent_id = call.agent_id
        score.reviewer = actor.user
        score.answers = answers
        score.score, score.max_score, score.percent = result.score, result.max, result.percent
        score.failed, score.fail_reasons = result.failed, result.fail_reasons
        score.comment = comment
        was = score.state if existing else None
        if submit:
            score.state = ScoreState.SUBMITTED
            score.submitted_at = score.submitted_at or now
        score.save()
        action = "call_score.submitted" if submit and was != ScoreState.SUBMITTED else "call_score.saved"
        audit.record(tenant, actor, action, obj=score, changes=audit.diff(old, score_snapshot(score)))
        events.emit(tenant, action, _payload(score))
    return score


def _payload(score: CallScore) -> dict[str, Any]:
    return {
        "call_score_id": str(score.pk),
        "call_id": str(score.call_id),
        "scorecard_id": str(score.scorecard_id),
        "agent_id": str(score.agent_id) if score.agent_id else None,
        "state": score.state,
        "percent": score.percent,
        "failed": score.failed,
    }


def _submitted(call: Call, scorecard: Scorecard) -> CallScore:
    score = score_of(call, scorecard)
    if score is None:
        raise ValidationError({"scorecard_id": ["This call has no score on this scorecard yet"]})
    return score


def acknowledge(tenant, actor: Actor, call: Call, scorecard: Scorecard, comment: str = "") -> CallScore:
    """The call's agent has read the submitted score and accepts it."""
    score = _submitted(call, scorecard)
    _the_agent(actor, score)
    if score.state != ScoreState.SUBMITTED:
        raise ValidationError({"state": [f"Only a submitted score can be acknowledged; this one is {score.state}"]})
    comment = str(comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise ValidationError({"comment": [f"At most {MAX_COMMENT} characters"]})
    with transaction.atomic():
        score.state = ScoreState.ACKNOWLEDGED
        score.acknowledged_at = timezone.now()
        score.save(update_fields=["state", "acknowledged_at", "updated_at"])
        audit.record(
            tenant,
            actor,
            "call_score.acknowledged",
            obj=score,
            changes={
                "state": [ScoreState.SUBMITTED, ScoreState.ACKNOWLEDGED],
                **({"comment": [None, comment]} if comment else {}),
            },
        )
        events.emit(tenant, "call_score.acknowledged", _payload(score))
    return score


def dispute(tenant, actor: Actor, call: Call, scorecard: Scorecard, question_id: Any, comment: Any) -> ScoreDispute:
    """The call's agent objects to one answer of the submitted score, saying why."""
    score = _submitted(call, scorecard)
    _the_agent(actor, score)
    errors: dict[str, list[str]] = {}
    if score.state not in (ScoreState.SUBMITTED, ScoreState.DISPUTED):
        errors["state"] = [f"Only a submitted score can be disputed; this one is {score.state}"]
    question_id = str(question_id or "").strip()
    definition = scoring.Definition.model_validate(score.definition)
    if not question_id:
        errors["question_id"] = ["Choose the answer you dispute"]
    elif definition.question(question_id) is None:
        errors["question_id"] = ["No such question in this scorecard"]
    elif score.disputes.filter(question_id=question_id, resolved_at__isnull=True).exists():
        errors["question_id"] = ["This answer is already disputed"]
    comment = str(comment or "").strip()
    if not comment:
        errors["comment"] = ["Say why you dispute this answer"]
    elif len(comment) > MAX_COMMENT:
        errors["comment"] = [f"At most {MAX_COMMENT} characters"]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        found = ScoreDispute.objects.create(
            tenant=tenant,
            call_score=score,
            question_id=question_id,
            comment=comment,
            raised_by=actor.user,
            old_value=_shown_value(score.answers.get(question_id)),
        )
        old_state = score.state
        score.state = ScoreState.DISPUTED
        score.save(update_fields=["state", "updated_at"])
        audit.record(
            tenant,
            actor,
            "call_score.disputed",
            obj=score,
            changes={
                "state": [old_state, ScoreState.DISPUTED],
                "question_id": [None, question_id],
                "comment": [None, comment],
            },
        )
        events.emit(tenant, "call_score.disputed", {**_payload(score), "question_id": question_id})
    return found


def _shown_value(answer: dict | None) -> str:
    if not answer:
        return ""
    return "skipped" if answer.get("skipped") else str(answer.get("value") or "")


def resolve(
    tenant, actor: Actor, call: Call, scorecard: Scorecard, question_id: Any, resolution: Any, value: Any = None
) -> CallScore:
    """A reviewer answers a dispute, keeping or changing the answer (``value``; ``"skip"`` skips a
    skippable question). When no dispute is left open the score is final."""
    score = _submitted(call, scorecard)
    _reviewer(tenant, actor, call)
    errors: dict[str, list[str]] = {}
    if score.state != ScoreState.DISPUTED:
        errors["state"] = [f"Only a disputed score can be resolved; this one is {score.state}"]
    question_id = str(question_id or "").strip()
    open_dispute = score.disputes.filter(question_id=question_id, resolved_at__isnull=True).first()
    if open_dispute is None and "state" not in errors:
        errors["question_id"] = ["No open dispute on this question"]
    resolution = str(resolution or "").strip()
    if not resolution:
        errors["resolution"] = ["Tell the agent how you decided"]
    elif len(resolution) > MAX_COMMENT:
        errors["resolution"] = [f"At most {MAX_COMMENT} characters"]
    definition = scoring.Definition.model_validate(score.definition)
    given = {
        qid: {"value": a.get("value"), "skipped": bool(a.get("skipped")), "comment": a.get("comment", "")}
        for qid, a in score.answers.items()
    }
    change = value not in (None, "")
    if change and open_dispute is not None:
        value = str(value).strip()
        new = {"value": None, "skipped": True} if value == "skip" else {"value": value, "skipped": False}
        problems = scoring.answer_errors(
            definition, {question_id: scoring.Answer(new["value"], new["skipped"])}, complete=False
        )
        if problems:
            errors["value"] = problems[f"answers.{question_id}"]
        else:
            given[question_id] = {**given.get(question_id, {"comment": ""}), **new}
    if errors:
        raise ValidationError(errors)
    suggestions = {qid: a["suggestion"] for qid, a in score.answers.items() if a.get("suggestion")}
    old = score_snapshot(score)
    with transaction.atomic():
        answers, result = _scored_answers(definition, given, suggestions)
        score.answers = answers
        score.score, score.max_score, score.percent = result.score, result.max, result.percent
        score.failed, score.fail_reasons = result.failed, result.fail_reasons
        open_dispute.resolution = resolution
        open_dispute.resolved_by = actor.user
        open_dispute.resolved_at = timezone.now()
        open_dispute.new_value = _shown_value(answers.get(question_id))
        open_dispute.save()
        if not score.disputes.filter(resolved_at__isnull=True).exists():
            score.state = ScoreState.FINAL
            score.finalised_at = timezone.now()
        score.save()
        changes = audit.diff(old, score_snapshot(score))
        changes["resolution"] = [None, resolution]
        changes["question_id"] = [None, question_id]
        audit.record(tenant, actor, "call_score.resolved", obj=score, changes=changes)
        events.emit(tenant, "call_score.resolved", {**_payload(score), "question_id": question_id})
    return score


# --- reading scores -----------------------------------------------------------------------


def visible_scores(tenant, membership: Membership | None) -> QuerySet:
    """Scores on the calls the member may see; an agent sees none of the drafts."""
    calls = visible_calls(tenant, membership)
    qs = CallScore.objects.for_tenant(tenant).filter(call__in=calls)
    if membership is None or not can_review(membership):
        qs = qs.exclude(state=ScoreState.DRAFT)
    return qs


def counted_scores(tenant, start: datetime, end: datetime, team=None) -> QuerySet:
    """Scores that count (submitted and later) submitted in [start, end), optionally of one team's agents."""
    qs = CallScore.objects.for_tenant(tenant).filter(
        state__in=COUNTED_STATES, submitted_at__gte=start, submitted_at__lt=end
    )
    if team is not None:
        team_id = getattr(team, "pk", team)
        agents = Membership.objects.filter(tenant=tenant, team_id=team_id).values_list("user_id", flat=True)
        qs = qs.filter(agent_id__in=list(agents))
    return qs


def _figures(qs) -> QuerySet:
    return qs.annotate(
        scores=Count("pk"),
        average=Avg("percent"),
        failed_scores=Count("pk", filter=Q(failed=True)),
        disputed=Count("pk", filter=Q(state=ScoreState.DISPUTED)),
    )


def _zone(tenant) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(getattr(tenant, "time_zone", "") or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def scores_by_agent(tenant, start: datetime, end: datetime, team=None) -> list[dict[str, Any]]:
    """Each agent's QA figures for scores submitted in [start, end): how many, the average
    percentage, how many auto-failed and how many are in dispute (for reports and coaching)."""
    rows = _figures(
        counted_scores(tenant, start, end, team).order_by().values("agent_id", "agent__full_name", "agent__email")
    )
    out = [
        {
            "agent_id": str(row["agent_id"]) if row["agent_id"] else None,
            "agent": row["agent__full_name"] or row["agent__email"] or "No agent",
            "scores": row["scores"],
            "average": round(row["average"], 1) if row["average"] is not None else None,
            "failed": row["failed_scores"],
            "disputed": row["disputed"],
        }
        for row in rows
    ]
    return sorted(out, key=lambda r: r["agent"].lower())


def scores_over_time(tenant, start: datetime, end: datetime, team=None, grain: str = "week") -> list[dict[str, Any]]:
    """The same figures per agent per week (or month), oldest first."""
    if grain not in ("week", "month"):
        raise ValidationError({"grain": ["week or month"]})
    trunc = (TruncWeek if grain == "week" else TruncMonth)("submitted_at", tzinfo=_zone(tenant))
    rows = _figures(
        counted_scores(tenant, start, end, team)
        .order_by()
        .annotate(period=trunc)
        .values("period", "agent_id", "agent__full_name", "agent__email")
    )
    out = [
        {
            "period": row["period"].date().isoformat(),
            "agent_id": str(row["agent_id"]) if row["agent_id"] else None,
            "agent": row["agent__full_name"] or row["agent__email"] or "No agent",
            "scores": row["scores"],
            "average": round(row["average"], 1) if row["average"] is not None else None,
            "failed": row["failed_scores"],
        }
        for row in rows
    ]
    return sorted(out, key=lambda r: (r["period"], r["agent"].lower()))


def scores_by_team(tenant, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Each team's QA figures (agents without a team under "No team")."""
    teams = dict(Membership.objects.filter(tenant=tenant).values_list("user_id", "team__name"))
    totals: dict[str, list[float]] = {}
    counts: dict[str, dict[str, int]] = {}
    for agent_id, percent, failed in counted_scores(tenant, start, end).values_list("agent_id", "percent", "failed"):
        name = teams.get(agent_id) or "No team"
        counts.setdefault(name, {"scores": 0, "failed": 0})
        counts[name]["scores"] += 1
        counts[name]["failed"] += int(failed)
        if percent is not None:
            totals.setdefault(name, []).append(percent)
    return [
        {
            "team": name,
            "scores": c["scores"],
            "failed": c["failed"],
            "average": round(sum(totals[name]) / len(totals[name]), 1) if totals.get(name) else None,
        }
        for name, c in sorted(counts.items())
    ]
