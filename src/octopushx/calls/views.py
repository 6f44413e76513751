"""Octopush X pages: call list with filters, upload, the call page (player, transcript, insights,
review), transcript search with jump-to-moment, and the organisation's call settings."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_POST

from octopushx.calls import api as call_api
from octopushx.calls import charts, search, services
from octopushx.calls.models import CallOutcome, CallStatus, Direction, ReviewState, Tracker
from octopushx.calls.services import trackers as tracker_services
from octopushx.tenancy.models import Membership
from octopushx.tenancy.roles import Perm, has_perm
from octopushx.tenancy.views import requires

FILTERS = (
    "date_from",
    "date_to",
    "date_before",
    "agent_id",
    "contact_id",
    "direction",
    "min_duration",
    "max_duration",
    "sentiment",
    "keyword",
    "review_state",
    "status",
    "outcome",
    "tracker",
)

FIELD_LABELS = {
    "date_from": "From",
    "date_to": "To",
    "date_before": "Before",
    "agent_id": "Agent",
    "contact_id": "Contact",
    "min_duration": "At least",
    "max_duration": "At most",
    "review_state": "Review",
}


def _errors_text(exc: ValidationError) -> str:
    """Field errors as people read them: ``Direction: inbound or outbound`` (never ``direction:``)."""
    if hasattr(exc, "error_dict"):
        return " ".join(
            f"{FIELD_LABELS.get(k, k.replace('_', ' ').capitalize())}: {m}" if k != "__all__" else m
            for k, msgs in exc.message_dict.items()
            for m in msgs
        )
    return " ".join(exc.messages)


def _call(request, call_id):
    return services.get_visible_call(request.tenant, request.membership, call_id)


def _call_with_original(request, call_id, what: str):
    """The call and whether ``?original=1`` asks for the unredacted ``what`` (checked and audited)."""
    call = _call(request, call_id)
    original = request.GET.get("original") == "1"
    if original:
        services.original_viewed(request.tenant, request.actor, call, what)
    return call, original


FILTER_LABELS = {
    "date_from": "From",
    "date_to": "To",
    "date_before": "Before",
    "agent_id": "Agent",
    "contact_id": "Contact",
    "direction": "Direction",
    "min_duration": "At least (s)",
    "max_duration": "At most (s)",
    "sentiment": "Sentiment",
    "review_state": "Review",
    "status": "Status",
    "outcome": "Outcome",
    "tracker": "Tracker",
}


def _moment(value: str) -> str:
    """An ISO date-time (a report's drill-down) as people read it; anything else as given."""
    try:
        moment = parse_datetime(value)
    except ValueError:
        moment = None
    if moment is None or "T" not in value:
        return value
    return f"{timezone.localtime(moment) if timezone.is_aware(moment) else moment:%-d %b %Y %H:%M}"


def _filter_chips(params: dict[str, str], members, contact_name: str, tracker_names=None) -> list[dict[str, str]]:
    """One removable chip per active filter (the keyword stays in its search box)."""
    names = {str(m.user_id): m.user.display_name for m in members}
    choices = {
        "direction": dict(Direction.choices),
        "review_state": dict(ReviewState.choices),
        "status": dict(CallStatus.choices),
        "outcome": dict(CallOutcome.choices),
        "sentiment": {"positive": "Positive", "neutral": "Neutral", "negative": "Negative"},
        "agent_id": names,
        "contact_id": {params.get("contact_id", ""): contact_name},
        "tracker": tracker_names or {},
    }
    chips = []
    for name, label in FILTER_LABELS.items():
        value = params.get(name)
        if not value:
            continue
        shown = choices.get(name, {}).get(value) or _moment(value)
        rest = QueryDict(mutable=True)
        for other, other_value in params.items():
            if other != name and other_value:
                rest[other] = other_value
        chips.append({"label": f"{label}: {shown}", "without": rest.urlencode()})
    return chips


def _hide_restricted(request, calls) -> None:
    """A call the member sees (their own) with a restricted contact (restriction of processing) they may
    not see does not name that contact, nor show the number it was matched by."""
    from octopushx.crm.models import Contact
    from octopushx.crm.visibility import visible

    restricted = {c.contact_id for c in calls if c.contact_id and c.contact.restricted}
    if not restricted:
        return
    seen = set(
        visible(Contact, request.tenant, request.membership).filter(pk__in=restricted).values_list("pk", flat=True)
    )
    for call in calls:
        call.contact_hidden = call.contact_id in restricted and call.contact_id not in seen


@requires(Perm.READ)
def call_list(request):
    """Calls newest first by when they took place (arrival time for calls without a start time)."""
    params = {name: request.GET.get(name, "").strip() for name in FILTERS}
    qs = services.visible_calls(request.tenant, request.membership).select_related("agent", "contact", "tenant")
    error = ""
    try:
        qs = services.filter_calls(qs, {k: v for k, v in params.items() if v})
    except ValidationError as exc:
        error = _errors_text(exc)
        qs = qs.none()
    newest_first = qs.order_by(Coalesce("started_at", "created_at").desc(), "-created_at")
    page = Paginator(newest_first, 50).get_page(request.GET.get("page"))
    _hide_restricted(request, page.object_list)
    members = Membership.objects.filter(tenant=request.tenant).select_related("user").order_by("user__email")
    contact_name = ""
    if params["contact_id"]:
        contact = next((c.contact for c in page if c.contact_id and str(c.contact_id) == params["contact_id"]), None)
        contact_name = str(contact) if contact else "the chosen contact"
    query = request.GET.copy()
    query.pop("page", None)
    tracker_choices = list(Tracker.objects.for_tenant(request.tenant).values_list("pk", "name"))
    tracker_names = {str(pk): name for pk, name in tracker_choices}
    return render(
        request,
        "calls/list.html",
        {
            "trackers": tracker_choices,
            "page": page,
            "params": params,
            "error": error,
            "members": members,
            "active_filters": _filter_chips(params, members, contact_name, tracker_names),
            "query_without_page": f"{query.urlencode()}&" if query else "",
            "directions": Direction.choices,
            "review_states": ReviewState.choices,
            "statuses": CallStatus.choices,
            "outcomes": CallOutcome.choices,
            "can_write": has_perm(request.membership.role, Perm.WRITE),
        },
    )


@requires(Perm.WRITE)
def upload(request):
    """The page takes several files by drag and drop and posts each to the API (progress bars)."""
    limits = services.call_settings(request.tenant)
    return render(
        request,
        "calls/upload.html",
        {
            "directions": Direction.choices,
            "max_upload_mb": limits.max_upload_mb,
            "max_duration_minutes": limits.max_duration_minutes,
        },
    )


def _due_on(due_date):
    """An action item's ISO due date as a date for the template (None when absent or not a date)."""
    import datetime

    try:
        return datetime.date.fromisoformat(due_date) if isinstance(due_date, str) else None
    except ValueError:
        return None


def _speaker_namer(call):
    """Speakers as people read them: the agent's and the contact's names when known, else the role."""
    agent = call.agent.display_name if call.agent_id and call.agent else ""
    contact = str(call.contact) if call.contact_id else ""

    def name(speaker: str) -> str:
        if speaker == "agent":
            return agent or "Agent"
        if speaker == "customer":
            return contact or "Customer"
        return services.speaker_name(speaker).capitalize()

    return name


@requires(Perm.READ)
def call_page(request, call_id):
    call, original = _call_with_original(request, call_id, "transcript")
    detail = call_api.call_detail(call, original=original)
    insights = detail.get("insights") or {}
    metrics = insights.get("metrics") or {}
    team = services.team_averages(request.tenant, request.membership)
    rows = services.metric_rows(metrics, team)
    sentiment = insights.get("sentiment") or {}
    name = _speaker_namer(call)
    utterances = [
        {**u, "speaker_name": name(u["speaker"]), "role": u["speaker"] in ("agent", "customer")}
        for u in (detail.get("transcript") or {}).get("utterances", [])
    ]
    by_speaker = [(name(s), v) for s, v in (sentiment.get("by_speaker") or {}).items()]
    action_items = [
        {**item, "owner_name": name(item.get("owner", "unknown")), "due_on": _due_on(item.get("due_date"))}
        for item in insights.get("action_items") or []
    ]
    chart_data = {
        "timeline": charts.sentiment_timeline(sentiment.get("timeline") or [], name),
        "talk": charts.talk_time(metrics, name),
        "duration": detail["duration"] or 0,
    }
    region = request.tenant.default_region
    tracker_hits = [{**hit, "speaker_name": name(hit["speaker"])} for hit in insights.get("trackers") or []]
    phone_call, route = _telephony_route(call)
    return render(
        request,
        "calls/detail.html",
        {
            "call": call,
            "tracker_hits": tracker_hits,
            "detail": detail,
            "utterances": utterances,
            "speakers": detail.get("speakers"),
            "insights": insights,
            "metric_rows": rows,
            "chart_data": chart_data,
            "sentiment_overall": sentiment.get("overall"),
            "sentiment_by_speaker": by_speaker,
            "action_items": action_items,
            "from_number": services.display_number(call.from_number, region),
            "to_number": services.display_number(call.to_number, region),
            "customer_number": services.display_number(call.customer_number, region),
            "original": original,
            "can_write": has_perm(request.membership.role, Perm.WRITE),
            "can_view_original": has_perm(request.membership.role, Perm.VIEW_ORIGINAL),
            "can_export": has_perm(request.membership.role, Perm.EXPORT) and not services.restricted_reason(call),
            "start_at": request.GET.get("t", ""),
            "unreviewed": call.review_state == ReviewState.UNREVIEWED,
            "phone_call": phone_call,
            "route": route,
        },
    )


def _telephony_route(call):
    """A cloud-telephony call's provider record (through the one-to-one relation, no telephony import) and
    its route with times: the blocks of the call flow it passed, for the "Route" panel."""
    from django.utils.dateparse import parse_datetime

    phone_call = getattr(call, "phone_call", None)  # the reverse one-to-one raises AttributeError when absent
    if phone_call is None:
        return None, []
    route = [
        {"block": entry.get("block", ""), "what": entry.get("what", ""), "at": parse_datetime(entry.get("at") or "")}
        for entry in phone_call.route or []
        if isinstance(entry, dict)
    ]
    return phone_call, route


@requires(Perm.READ)
def audio(request, call_id):
    call, original = _call_with_original(request, call_id, "audio")
    return call_api.audio_response(request, call, original=original)


def _back(call):
    return redirect(reverse("calls:detail", args=[call.pk]))


def _correction(post) -> tuple[dict]:
    data: dict = {}
    if "summary" in post:
        data["summary"] = post["summary"]
    if post.get("line") not in (None, ""):
        try:
            index = int(post["line"])
        except ValueError:
            index = -1
        fix = {"index": index}
        if post.get("text") is not None:
            fix["text"] = post["text"]
        if post.get("speaker"):
            fix["speaker"] = post["speaker"]
        data["utterances"] = [fix]
    return (data,)


def _item_index(post) -> tuple[int]:
    try:
        return (int(post.get("index") or ""),)
    except ValueError:
        return (-1,)  # answered by the service as "No action item with that index"


def _no_arguments(post) -> tuple:
    return ()


def _call_action(operation: Callable, success: Callable[[Any], str], arguments: Callable = _no_arguments):
    """A page form posting one call operation: ``operation(tenant, actor, call, *arguments(POST))``;
    its confirmation (``success(result)``) or its errors are shown back on the call page."""

    @requires(Perm.WRITE)
    @require_POST
    def view(request, call_id):
        call = _call(request, call_id)
        try:
            result = operation(request.tenant, request.actor, call, *arguments(request.POST))
            messages.success(request, success(result))
        except ValidationError as exc:
            messages.error(request, _errors_text(exc))
        return _back(call)

    return view


approve = _call_action(services.approve, lambda _result: "The AI output is approved.")
correct = _call_action(services.correct, lambda _result: "Your correction is saved.", _correction)
retry = _call_action(services.retry, lambda _result: "The call is queued for processing again.")
make_task = _call_action(services.action_item_task, lambda task: f"Task created: {task.title}", _item_index)
make_contact = _call_action(services.contact_from_number, lambda contact: f"Contact created: {contact}")


@requires(Perm.WRITE)
@require_POST
def link_contact(request, call_id):
    """Link the call to the contact chosen in the picker; a bad value re-shows the page with 400."""
    call = _call(request, call_id)
    try:
        call = services.link_contact_by_id(request.tenant, request.actor, call, request.POST.get("contact_id", ""))
    except ValidationError as exc:
        messages.error(request, _errors_text(exc))
        response = call_page(request, call_id)
        response.status_code = 400
        return response
    if call.contact_id:
        messages.success(request, f"The call is linked to {call.contact}.")
    else:
        messages.success(request, "The call is no longer linked to a contact.")
    return _back(call)


@requires(Perm.READ)
def search_page(request):
    """Lines with every word of ``q``; with a tracker, only in calls it hit (without ``q``: its hits)."""
    query = request.GET.get("q", "").strip()
    trackers = list(Tracker.objects.for_tenant(request.tenant).values_list("pk", "name"))
    chosen = request.GET.get("tracker", "").strip()
    tracker = next(((pk, name) for pk, name in trackers if str(pk) == chosen), None)
    hits = []
    if query or tracker:
        calls = services.visible_calls(request.tenant, request.membership)
        if tracker:
            calls = services.filter_calls(calls, {"tracker": str(tracker[0])})
        if query:
            lines = search.matching_lines(calls, query)
            parts = functools.partial(search.highlight, query=query)
        else:
            lines = search.tracker_lines(calls, tracker[0])
            phrases = Tracker.objects.get_for_tenant(request.tenant, tracker[0]).phrases
            parts = functools.partial(tracker_services.highlight, phrases=phrases)
        for line in lines.select_related("call", "call__contact").order_by("-call__created_at", "position")[:100]:
            hits.append({"line": line, "parts": parts(line.text), "seconds": int(line.start)})
    return render(
        request,
        "calls/search.html",
        {"query": query, "hits": hits, "trackers": trackers, "tracker": tracker, "chosen": chosen},
    )


@requires(Perm.ADMIN)
def settings_page(request):
    row = services.call_settings(request.tenant)
    if request.method == "POST":
        data = {
            "keep_original": request.POST.get("keep_original") == "on",
            "max_upload_mb": request.POST.get("max_upload_mb"),
            "max_duration_minutes": request.POST.get("max_duration_minutes"),
            "twilio_account_sid": request.POST.get("twilio_account_sid", ""),
            "vonage_application_id": request.POST.get("vonage_application_id", ""),
        }
        for name in services.SECRET_FIELDS:
            if request.POST.get(name):
                data[name] = request.POST[name]
        try:
            services.update_settings(request.tenant, request.actor, data)
            messages.success(request, "Call settings saved.")
            return redirect("calls:settings")
        except ValidationError as exc:
            messages.error(request, _errors_text(exc))
    hooks = {
        name: request.build_absolute_uri(reverse(f"calls:webhook_{name}", args=[request.tenant.pk]))
        for name in ("twilio", "vonage", "generic")
    }
    return render(
        request, "calls/settings.html", {"row": row, "snapshot": services.settings_snapshot(row), "hooks": hooks}
    )


@requires(Perm.EXPORT)
def share(request, call_id):
    """Download or email the call summary. A draft (not approved) needs the confirmation box
    ticked, checked here on the server, and goes out with the "unreviewed AI output" label."""
    call = _call(request, call_id)
    errors: dict[str, list[str]] = {}
    try:
        result = services.shareable_result(call)
    except ValidationError as exc:
        messages.error(request, _errors_text(exc))
        return _back(call)
    form = {"to": "", "message": "", "format": "pdf", "confirm_unreviewed": False}
    if request.method == "POST":
        form = {
            "to": request.POST.get("to", ""),
            "message": request.POST.get("message", ""),
            "format": request.POST.get("format", "pdf"),
            "confirm_unreviewed": request.POST.get("confirm_unreviewed") == "on",
        }
        options = {"link": call_api.call_link(request, call), "confirm_unreviewed": form["confirm_unreviewed"]}
        try:
            if request.POST.get("action") == "email":
                to, message = form["to"], form["message"]
                services.email_summary(request.tenant, request.actor, call, to, message=message, **options)
                messages.success(request, f"The summary was sent to {to.strip()}.")
                return _back(call)
            file = services.export_summary(request.tenant, request.actor, call, form["format"], **options)
            return call_api.file_response(*file)
        except ValidationError as exc:
            errors = exc.message_dict
    return render(
        request,
        "calls/share.html",
        {
            "call": call,
            "result": result,
            "draft": services.needs_confirmation(result),
            "form": form,
            "errors": errors,
            "formats": [("pdf", "PDF"), ("md", "Markdown (plain text)"), ("json", "JSON")],
        },
        status=422 if errors else 200,
    )
