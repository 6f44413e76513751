"""QA scorecard pages: the scorecards list and builder, the QA panel of the call page (reviewers
fill a scorecard from the AI's suggestions; the agent acknowledges or disputes), and the reviews
list ("My scorecards" for agents, disputes and drafts for reviewers). Thin: every change goes
through ``calls.services.scorecards``."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Avg, Count, Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from octopushx.calls import scoring
from octopushx.calls.models import CallScore, ScoreState, Tracker
from octopushx.calls.scorecards_api import call_scorecards
from octopushx.calls.services import get_visible_call
from octopushx.calls.services import scorecards as services
from octopushx.tenancy.models import Team
from octopushx.tenancy.roles import Perm
from octopushx.tenancy.views import requires

DIRECTIONS = {"": "Inbound and outbound", "inbound": "Inbound calls", "outbound": "Outbound calls"}
KINDS = {"yes_no": "Yes / No", "scale": "1–5 scale", "select": "Single select"}


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _errors(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [f"{_field_label(k)}: {m}" if k != "__all__" else m for k, ms in exc.message_dict.items() for m in ms]
    return list(exc.messages)


def _field_label(key: str) -> str:
    """``definition.sections.0.questions.1.options`` → ``Section 1, question 2, options``."""
    parts = key.split(".")
    words: list[str] = []
    index = 0
    while index < len(parts):
        part = parts[index]
        following = parts[index + 1] if index + 1 < len(parts) else None
        if part in ("sections", "questions") and following is not None and following.isdigit():
            words.append(f"{part[:-1]} {int(following) + 1}")
            index += 2
            continue
        if part not in ("definition", "answers"):
            words.append(part.replace("_", " "))
        index += 1
    text = ", ".join(words) or key
    return text[:1].upper() + text[1:]


def _applies_text(scorecard, teams: dict[str, str], trackers: dict[str, str]) -> str:
    rules = scorecard.applies_to or {}
    parts = []
    if rules.get("team_ids"):
        parts.append(", ".join(teams.get(t, "a removed team") for t in rules["team_ids"]))
    if rules.get("direction"):
        parts.append(DIRECTIONS[rules["direction"]].lower())
    if rules.get("tracker_ids"):
        parts.append("tracker " + " or ".join(f"“{trackers.get(t, 'removed')}”" for t in rules["tracker_ids"]))
    return "; ".join(parts) if parts else "Every call"


# --- scorecards ---------------------------------------------------------------------------


@requires(Perm.READ)
def scorecard_list(request):
    services.ensure_example(request.tenant)
    since = timezone.now() - timedelta(days=30)
    cards = services.scorecards(request.tenant).annotate(
        recent=Count("scores", filter=Q(scores__submitted_at__gte=since, scores__state__in=services.COUNTED_STATES)),
        average=Avg(
            "scores__percent",
            filter=Q(scores__submitted_at__gte=since, scores__state__in=services.COUNTED_STATES),
        ),
    )
    teams = {str(pk): name for pk, name in Team.objects.filter(tenant=request.tenant).values_list("pk", "name")}
    trackers = {str(pk): name for pk, name in Tracker.objects.for_tenant(request.tenant).values_list("pk", "name")}
    rows = []
    for card in cards:
        definition = scoring.Definition.model_validate(card.definition)
        rows.append(
            {
                "card": card,
                "questions": len(definition.questions()),
                "auto_fail": sum(1 for q in definition.questions() if q.auto_fail),
                "applies": _applies_text(card, teams, trackers),
            }
        )
    return render(
        request,
        "calls/scorecards/list.html",
        {"rows": rows, "can_build": services.can_build(request.membership)},
    )


def _builder_context(request, scorecard, form: dict[str, Any], errors: list[str]) -> dict[str, Any]:
    return {
        "scorecard": scorecard,
        "form": form,
        "errors": errors,
        "teams": Team.objects.filter(tenant=request.tenant),
        "trackers": Tracker.objects.for_tenant(request.tenant).filter(is_active=True),
        "directions": DIRECTIONS,
        "can_build": services.can_build(request.membership),
        "builder": {
            "kinds": KINDS,
            "rules": scoring.RULES,
            "metrics": scoring.METRICS,
            "trackers": {
                str(pk): name for pk, name in Tracker.objects.for_tenant(request.tenant).values_list("pk", "name")
            },
            "defaults": {kind: scoring.default_options(kind) for kind in KINDS},
            "language_model": services.model_settings(request.tenant) is not None,
        },
    }


def _form_data(post) -> dict[str, Any]:
    try:
        definition = json.loads(post.get("definition") or "{}")
    except json.JSONDecodeError:
        definition = None
    return {
        "name": post.get("name", ""),
        "description": post.get("description", ""),
        "is_active": post.get("is_active") == "on",
        "definition": definition,
        "applies_to": {
            "team_ids": post.getlist("team_ids"),
            "direction": post.get("direction", ""),
            "tracker_ids": post.getlist("tracker_ids"),
        },
    }


def _form_of(scorecard) -> dict[str, Any]:
    return {
        "name": scorecard.name,
        "description": scorecard.description,
        "is_active": scorecard.is_active,
        "definition": scorecard.definition,
        "applies_to": {"team_ids": [], "direction": "", "tracker_ids": [], **(scorecard.applies_to or {})},
    }


@requires(Perm.READ)
def scorecard_new(request):
    if not services.can_build(request.membership):
        raise PermissionDenied("Only owners, admins and managers build scorecards")
    form = {
        "name": "",
        "description": "",
        "is_active": True,
        "definition": {
            "sections": [
                {
                    "id": "opening",
                    "title": "Opening",
                    "questions": [
                        {
                            "id": "greeting",
                            "text": "Greeted the customer",
                            "help": "",
                            "kind": "yes_no",
                            "options": scoring.default_options("yes_no", 10),
                            "auto_fail": None,
                            "skippable": False,
                            "weight": 1,
                            "auto": {"source": "rule", "rule": "greeting"},
                        }
                    ],
                }
            ]
        },
        "applies_to": {"team_ids": [], "direction": "", "tracker_ids": []},
    }
    errors: list[str] = []
    if request.method == "POST":
        form = _form_data(request.POST)
        try:
            card = services.create_scorecard(request.tenant, request.actor, form)
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, f"Scorecard “{card.name}” created.")
            return redirect("calls:scorecards")
    response = render(request, "calls/scorecards/builder.html", _builder_context(request, None, form, errors))
    if errors:
        response.status_code = 422
    return response


@requires(Perm.READ)
def scorecard_edit(request, scorecard_id):
    card = services.get_scorecard(request.tenant, scorecard_id)
    form, errors = _form_of(card), []
    if request.method == "POST":
        if not services.can_build(request.membership):
            raise PermissionDenied("Only owners, admins and managers build scorecards")
        form = _form_data(request.POST)
        try:
            services.update_scorecard(request.tenant, request.actor, card, form)
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, f"Scorecard “{card.name}” saved.")
            return redirect("calls:scorecards")
    response = render(request, "calls/scorecards/builder.html", _builder_context(request, card, form, errors))
    if errors:
        response.status_code = 422
    return response


@requires(Perm.READ)
@require_POST
def scorecard_delete(request, scorecard_id):
    card = services.get_scorecard(request.tenant, scorecard_id)
    services.delete_scorecard(request.tenant, request.actor, card)
    messages.success(request, f"Scorecard “{card.name}” deleted. Its scores stay in the reports.")
    return redirect("calls:scorecards")


# --- the QA panel of a call ---------------------------------------------------------------


def _panel_items(request, call) -> dict[str, Any]:
    """The API's view of the call's scorecards, arranged for the template: per section, per question,
    the answer shown (the saved one, else the AI suggestion) and whether it is a suggestion."""
    data = call_scorecards(request, call)
    for item in data["items"]:
        score = item["score"]
        answers = {a["question_id"]: a for a in (score or {}).get("answers", [])}
        sections = []
        definition = score_definition = item["scorecard"]["sections"]
        if score is not None:
            stored = CallScore.objects.get(pk=score["id"])
            score_definition = _sections_of(stored.definition)
        definition = score_definition
        for section in definition:
            questions = []
            for question in section["questions"]:
                answer = answers.get(question["id"])
                suggestion = (answer or {}).get("suggestion") or item["suggestions"].get(question["id"])
                chosen = None
                if answer is not None:
                    chosen = "skip" if answer["skipped"] else answer["value"]
                elif suggestion:
                    chosen = suggestion["value"]
                labels = {o["value"]: o["label"] for o in question["options"]}
                questions.append(
                    {
                        **question,
                        "answer": answer,
                        "suggestion": suggestion,
                        "chosen": chosen,
                        "chosen_label": "N/A" if chosen == "skip" else labels.get(chosen, ""),
                        "from_ai": bool(suggestion) and chosen == suggestion["value"],
                        "suggested_label": labels.get(suggestion["value"], "") if suggestion else "",
                        "open_dispute": next(
                            (
                                d
                                for d in (score or {}).get("disputes", [])
                                if d["question_id"] == question["id"] and not d["resolved_at"]
                            ),
                            None,
                        ),
                    }
                )
            sections.append({"title": section["title"], "questions": questions})
        item["sections"] = sections
        state = (score or {}).get("state")
        item["state_label"] = ScoreState(state).label if state else ""
        item["editable"] = data["can_review"] and state in (None, ScoreState.DRAFT, ScoreState.SUBMITTED)
        item["resolvable"] = data["can_review"] and state == ScoreState.DISPUTED
        item["agent_actions"] = data["is_agent"] and state in (ScoreState.SUBMITTED, ScoreState.DISPUTED)
        asked = item["model_suggestions"]
        item["model_pending"] = bool(asked) and asked["state"] == "queued"
        # the reviewer may ask the model when it has questions to answer and no answer of it is there yet
        item["can_ask_model"] = (
            item["editable"]
            and data["language_model"]
            and item["model_questions"] > 0
            and (not asked or asked["state"] == "failed" or (asked["state"] == "done" and not asked["answers"]))
        )
        titles = {q["id"]: q["text"] for s in sections for q in s["questions"]}
        for dispute in (score or {}).get("disputes", []):
            dispute["question"] = titles.get(dispute["question_id"], dispute["question_id"])
    return data


def _sections_of(definition_data: dict) -> list[dict]:
    definition = scoring.Definition.model_validate(definition_data)
    return [
        {
            "id": s.id,
            "title": s.title,
            "questions": [{**q.model_dump(mode="json"), "max_points": q.max_points} for q in s.questions],
        }
        for s in definition.sections
    ]


def _panel(request, call, *, errors: list[str] | None = None, notice: str = "", status: int = 200, open_id=None):
    context = {
        "call": call,
        "qa": _panel_items(request, call),
        "errors": errors or [],
        "notice": notice,
        "open_id": str(open_id) if open_id else "",
        "states": dict(ScoreState.choices),
    }
    return render(request, "calls/scorecards/_panel.html", context, status=status)


@requires(Perm.READ)
def qa_panel(request, call_id):
    """The call page's QA panel (an htmx fragment); opened as a page, it is the call page at the panel."""
    call = get_visible_call(request.tenant, request.membership, call_id)
    if not request.headers.get("HX-Request"):
        return redirect(reverse("calls:detail", args=[call.pk]) + "#qa")
    return _panel(request, call, open_id=request.GET.get("scorecard"))


def _answers_from(post, scorecard_definition: dict) -> dict[str, dict[str, Any]]:
    definition = scoring.Definition.model_validate(scorecard_definition)
    out = {}
    for question in definition.questions():
        value = post.get(f"q-{question.id}")
        comment = post.get(f"c-{question.id}", "")
        if value is None and not comment:
            continue
        if value == "skip":
            out[question.id] = {"value": None, "skipped": True, "comment": comment}
        else:
            out[question.id] = {"value": value or None, "skipped": False, "comment": comment}
    return out


def _after(request, call, scorecard, notice: str):
    if _is_htmx(request):
        return _panel(request, call, notice=notice, open_id=scorecard.pk)
    messages.success(request, notice)
    return redirect(reverse("calls:detail", args=[call.pk]) + "#qa")


def _refused(request, call, scorecard, exc: ValidationError):
    if _is_htmx(request):
        return _panel(request, call, errors=_errors(exc), status=422, open_id=scorecard.pk)
    messages.error(request, " ".join(_errors(exc)))
    return redirect(reverse("calls:detail", args=[call.pk]) + "#qa")


def _call_and_card(request, call_id, scorecard_id):
    call = get_visible_call(request.tenant, request.membership, call_id)
    return call, services.call_scorecard(call, scorecard_id)


@requires(Perm.WRITE)
@require_POST
def qa_save(request, call_id, scorecard_id):
    call, card = _call_and_card(request, call_id, scorecard_id)
    existing = services.score_of(call, card)
    definition = existing.definition if existing and existing.state != ScoreState.DRAFT else card.definition
    submit = request.POST.get("action") == "submit"
    data = {
        "answers": _answers_from(request.POST, definition),
        "comment": request.POST.get("comment", ""),
        "submit": submit,
    }
    try:
        score = services.save_answers(request.tenant, request.actor, call, card, data)
    except ValidationError as exc:
        return _refused(request, call, card, exc)
    if submit:
        return _after(
            request, call, card, f"Submitted: {_percent(score)}. The agent can now acknowledge or dispute it."
        )
    return _after(request, call, card, f"Draft saved ({_percent(score)} so far). Only reviewers see drafts.")


def _percent(score) -> str:
    if score.failed:
        return "0 % (auto-fail)"
    return f"{score.percent:g} %" if score.percent is not None else "no points yet"


@requires(Perm.WRITE)
@require_POST
def qa_ask_model(request, call_id, scorecard_id):
    call, card = _call_and_card(request, call_id, scorecard_id)
    try:
        services.request_model_suggestions(request.tenant, request.actor, call, card)
    except ValidationError as exc:
        return _refused(request, call, card, exc)
    return _after(request, call, card, "The language model is reading the transcript; its answers appear here.")


@requires(Perm.READ)
@require_POST
def qa_acknowledge(request, call_id, scorecard_id):
    call, card = _call_and_card(request, call_id, scorecard_id)
    try:
        services.acknowledge(request.tenant, request.actor, call, card, request.POST.get("comment", ""))
    except ValidationError as exc:
        return _refused(request, call, card, exc)
    return _after(request, call, card, "You acknowledged the score.")


@requires(Perm.READ)
@require_POST
def qa_dispute(request, call_id, scorecard_id):
    call, card = _call_and_card(request, call_id, scorecard_id)
    try:
        services.dispute(
            request.tenant, request.actor, call, card, request.POST.get("question_id"), request.POST.get("comment")
        )
    except ValidationError as exc:
        return _refused(request, call, card, exc)
    return _after(request, call, card, "Your dispute is sent to the reviewer.")


@requires(Perm.WRITE)
@require_POST
def qa_resolve(request, call_id, scorecard_id):
    call, card = _call_and_card(request, call_id, scorecard_id)
    try:
        score = services.resolve(
            request.tenant,
            request.actor,
            call,
            card,
            request.POST.get("question_id"),
            request.POST.get("resolution"),
            request.POST.get("value") or None,
        )
    except ValidationError as exc:
        return _refused(request, call, card, exc)
    done = "The score is final." if score.state == ScoreState.FINAL else "Other disputes are still open."
    return _after(request, call, card, f"Dispute resolved. {done}")


# --- reviews ------------------------------------------------------------------------------

VIEWS = {
    "mine": "My scorecards",
    "acknowledge": "To acknowledge",
    "disputes": "Disputes",
    "drafts": "Drafts",
    "all": "All reviews",
}


@requires(Perm.READ)
def reviews(request):
    membership = request.membership
    reviewer = services.can_review(membership)
    scores = (
        services.visible_scores(request.tenant, membership)
        .select_related("call", "call__contact", "scorecard", "agent", "reviewer")
        .order_by("-updated_at")
    )
    default = "disputes" if reviewer else "mine"
    view = request.GET.get("view") or default
    shown = {k: v for k, v in VIEWS.items() if reviewer or k in ("mine", "acknowledge")}
    if view not in shown:
        view = default
    if view == "mine":
        scores = scores.filter(agent=request.user)
    elif view == "acknowledge":
        scores = scores.filter(agent=request.user, state=ScoreState.SUBMITTED)
    elif view == "disputes":
        scores = scores.filter(state=ScoreState.DISPUTED)
    elif view == "drafts":
        scores = scores.filter(state=ScoreState.DRAFT, reviewer=request.user)
    counts = {
        "acknowledge": services.visible_scores(request.tenant, membership)
        .filter(agent=request.user, state=ScoreState.SUBMITTED)
        .count(),
        "disputes": services.visible_scores(request.tenant, membership).filter(state=ScoreState.DISPUTED).count()
        if reviewer
        else 0,
    }
    page = Paginator(scores, 25).get_page(request.GET.get("page"))
    counted = services.visible_scores(request.tenant, membership).filter(state__in=services.COUNTED_STATES)
    if reviewer:  # a reviewer's figures are the team's over the last 30 days
        counted = counted.filter(submitted_at__gte=timezone.now() - timedelta(days=30))
        counts["drafts"] = (
            services.visible_scores(request.tenant, membership)
            .filter(state=ScoreState.DRAFT, reviewer=request.user)
            .count()
        )
    else:
        counted = counted.filter(agent=request.user)
    summary = counted.aggregate(average=Avg("percent"), total=Count("pk"), failed=Count("pk", filter=Q(failed=True)))
    return render(
        request,
        "calls/scorecards/reviews.html",
        {
            "page": page,
            "view": view,
            "views": shown,
            "counts": counts,
            "reviewer": reviewer,
            "summary": summary,
        },
    )
