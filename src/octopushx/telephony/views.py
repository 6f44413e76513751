"""Telephony pages: the call flows list and a flow's page (the block editor, the JSON editor, the simulator).

Thin views over ``services``: owners and admins edit, managers and auditors read and simulate,
agents have no flows. The block editor posts the whole flow as form fields (``editor.read``) with
the action the admin chose (add, remove, move, start, check, save) and gets the editor back with
every message next to its block and field; only "save" writes. The checks and the simulator answer
htmx partials; without JavaScript the forms post and the whole page comes back with the same messages.
"""

from __future__ import annotations

import json
import zoneinfo
from datetime import datetime
from functools import lru_cache, wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from octopushx.telephony import display, flows, prompts, services
from octopushx.telephony import editor as block_editor
from octopushx.telephony.models import CallFlow


def reader(view):
    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if request.tenant is None:
            return redirect("home")
        if not services.can_read(request.membership):
            raise PermissionDenied("Call flows are for owners, admins, managers and auditors")
        return view(request, *args, **kwargs)

    return wrapped


def editor(view):
    @wraps(view)
    @reader
    def wrapped(request, *args, **kwargs):
        if not services.can_edit(request.membership):
            raise PermissionDenied("Only owners and admins change call flows")
        return view(request, *args, **kwargs)

    return wrapped


def _flow(request, flow_id) -> CallFlow:
    return CallFlow.objects.get_for_tenant(request.tenant, flow_id)


def _starter(request) -> dict:
    """A new flow's first definition: open on weekdays, ring the person creating it, then voicemail."""
    email = request.user.email.lower()
    return {
        "name": "Main line",
        "timezone": timezone.get_current_timezone_name() if timezone.get_current_timezone_name() != "UTC" else "Europe/London",
        "start": "hours",
        "blocks": [
            {"id": "hours", "type": "hours", "holidays": "GB", "open": "welcome", "closed": "voicemail",
             "schedule": {day: ["09:00-17:30"] for day in ("mon", "tue", "wed", "thu", "fri")}},
            {"id": "welcome", "type": "greeting", "say": "Thank you for calling.", "next": "team"},
            {"id": "team", "type": "ring_group", "members": [email], "strategy": "simultaneous", "timeout_s": 25,
             "next": "voicemail"},
            {"id": "voicemail", "type": "voicemail", "say": "Please leave a message after the tone.",
             "notify_members": [email]},
        ],
    }  # fmt: skip


def _read_definition(text: str) -> tuple[object, dict[str, list[str]]]:
    try:
        return json.loads(text or ""), {}
    except json.JSONDecodeError as exc:
        return None, {"definition": [f"Not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"]}


def _editor_state(request, text: str, errors: dict | None = None, warnings: dict | None = None) -> dict:
    """The blocks as cards with their messages, for whatever the editor holds (parsed as far as it goes)."""
    definition, json_errors = _read_definition(text)
    if json_errors:
        other = display.other_messages(json_errors, None)
        return {"cards": [], "other_errors": other, "other_warnings": [], "error_count": len(other),
                "warning_count": 0, "checked": True, "ok": False}  # fmt: skip
    if errors is None:
        errors, warnings = services.validate_definition(request.tenant, definition)
    errors = {k.removeprefix("definition."): v for k, v in errors.items()}
    warnings = warnings or {}
    try:
        flow = flows.parse(definition)
    except flows.FlowInvalid:
        flow = None
    names = {str(pk): name for pk, name in prompts.rows(request.tenant).values_list("pk", "name")}
    cards = display.cards(flow, errors, warnings, names) if flow else []
    other_errors = display.other_messages(errors, flow)
    other_warnings = display.other_messages(warnings, flow)
    return {
        "cards": cards,
        "other_errors": other_errors,
        "other_warnings": other_warnings,
        "error_count": sum(len(c.errors) for c in cards) + len(other_errors),
        "warning_count": sum(len(c.warnings) for c in cards) + len(other_warnings),
        "checked": True,
        "ok": not errors,
    }


def _simulation_defaults() -> dict:
    now = timezone.localtime()
    return {"from": "+447700900123", "date": now.date().isoformat(), "time": "10:30", "digits": "", "unanswered": False}


def _choices(request) -> dict:
    """What the editor's selects offer: the organisation's members and teams, countries, block types."""
    members = services.member_choices(request.tenant)
    recordings = [(str(r.pk), r.name, r.duration_s) for r in prompts.rows(request.tenant)]
    return {
        "recordings": recordings,
        "recording_ids": {r[0] for r in recordings},
        "member_choices": members,
        "team_choices": list(request.tenant.teams.order_by("name").values_list("name", flat=True)),
        "countries": block_editor.holiday_countries(),
        "strategies": [(s, s.replace("_", " ").capitalize()) for s in flows.STRATEGIES],
        "block_types": [(t, display.TITLES[t], display.ICONS[t]) for t in flows.BLOCK_TYPES],
        "days": block_editor.DAY_LABELS,
        "option_keys": block_editor.OPTION_KEYS,
    }


def _editor_context(request, definition: dict, errors: dict | None, warnings: dict | None, focus=None) -> dict:
    errors = {k: [_plain(m) for m in ms] for k, ms in (errors or {}).items()}
    plan = block_editor.layout(definition, errors, warnings)
    choices = _choices(request)
    block_editor.offer_people(plan, choices["member_choices"], choices["team_choices"])
    return {
        "definition": block_editor.with_flow_defaults(definition),
        "plan": plan,
        "ids": [c.id for c in plan.cards if c.id],
        "focus": focus,
        "ok": not plan.error_count,
        "timezones": _timezones(),
        **choices,
    }


@lru_cache(maxsize=1)
def _timezones() -> list[str]:
    return sorted(zoneinfo.available_timezones())


def _editable(definition: object, row: CallFlow | None) -> dict:
    """What the block editor can lay out: the JSON tab's text when it is a flow-shaped object, else the saved flow."""
    shaped = (
        isinstance(definition, dict)
        and isinstance(definition.get("blocks", []), list)
        and all(isinstance(b, dict) for b in definition.get("blocks", []))
    )
    if shaped:
        return definition
    return row.definition if row else {"name": "", "start": "", "blocks": []}


def _plain(message: str) -> str:
    """An exit left empty reads as what to do, not as a block called ''."""
    return "Choose where the call goes" if message == "No block called ''" else message


def _page(request, row: CallFlow | None, text: str, state: dict, status: int = 200, *, blocks=None, tab="blocks"):
    """The flow page; ``blocks`` is the block editor's state (the saved or the new flow by default)."""
    context = {
        "row": row,
        "text": text,
        "can_edit": services.can_edit(request.membership),
        "sim": _simulation_defaults(),
        "tab": tab,
        "is_active": row.is_active if row else True,
        **state,
    }
    if context["can_edit"]:
        if blocks is None:
            definition = _editable(_read_definition(text)[0], row)
            blocks = _editor_context(request, definition, *services.validate_definition(request.tenant, definition))
        context["editor"] = blocks
    return render(request, "telephony/flow.html", context, status=status)


@reader
def flow_list(request):
    rows = list(services.flow_rows(request.tenant))
    items = [{"row": r, "blocks": len(r.definition.get("blocks", [])), "start": r.definition.get("start", ""),
              "timezone": r.definition.get("timezone", "")} for r in rows]  # fmt: skip
    return render(request, "telephony/list.html", {"items": items, "can_edit": services.can_edit(request.membership)})


def _htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _blocks_post(request, row: CallFlow | None):
    """The block editor's post: perform the chosen action, check, and save when asked and sound."""
    posted = block_editor.read(request.POST, request.POST.getlist)
    action = request.POST.get("action", "check")
    focus = None
    if action != "save":
        focus = block_editor.apply(posted.definition, action, request.POST.get("new_type", ""))
    errors, warnings = services.validate_definition(request.tenant, posted.definition)
    errors = {**errors, **{k: errors.get(k, []) + v for k, v in posted.form_errors.items()}}
    if action == "save" and not errors:
        try:
            if row is None:
                row, warnings = services.create_flow(request.tenant, request.actor, posted.definition)
                note = f"Call flow “{row.name}” created."
            else:
                row, warnings = services.update_flow(request.tenant, request.actor, row, definition=posted.definition,
                                                     is_active=request.POST.get("is_active") == "on")  # fmt: skip
                note = f"Saved: revision {row.revision}."
        except ValidationError as exc:
            errors = exc.message_dict
        else:
            if warnings:
                note += f" {sum(len(v) for v in warnings.values())} warning(s) to look at below."
            messages.success(request, note)
            target = reverse("telephony:flow", args=[row.pk])
            if _htmx(request):
                response = HttpResponse(status=204)
                response["HX-Redirect"] = target
                return response
            return redirect(target)
    blocks = _editor_context(request, posted.definition, errors, warnings, focus)
    status = 422 if action == "save" else 200
    if _htmx(request):
        return render(request, "telephony/_editor.html", {"row": row, "editor": blocks,
                                                          "is_active": request.POST.get("is_active") == "on"},
                      status=status)  # fmt: skip
    text = json.dumps(posted.definition, indent=2, ensure_ascii=False)
    state = {**_editor_state(request, text), "is_active": request.POST.get("is_active") == "on"}
    return _page(request, row, text, state, status=status, blocks=blocks)


def _json_post(request, row: CallFlow | None):
    """The "Advanced: JSON" tab's post: the whole definition as text."""
    text = request.POST.get("definition", "")
    definition, json_errors = _read_definition(text)
    if json_errors:
        return _page(request, row, text, _editor_state(request, text), status=422, tab="json")
    try:
        if row is None:
            row, _warnings = services.create_flow(request.tenant, request.actor, definition)
            messages.success(request, f"Call flow “{row.name}” created.")
        else:
            row, _warnings = services.update_flow(request.tenant, request.actor, row, definition=definition,
                                                  is_active=request.POST.get("is_active") == "on")  # fmt: skip
            messages.success(request, f"Saved: revision {row.revision}.")
    except ValidationError as exc:
        return _page(request, row, text, _editor_state(request, text, exc.message_dict), status=422, tab="json")
    return redirect("telephony:flow", flow_id=row.pk)


@editor
@require_http_methods(["GET", "POST"])
def flow_new(request):
    if request.method == "GET":
        text = json.dumps(_starter(request), indent=2)
        return _page(request, None, text, _editor_state(request, text))
    if request.POST.get("form") == "blocks":
        return _blocks_post(request, None)
    return _json_post(request, None)


@reader
@require_http_methods(["GET", "POST"])
def flow_page(request, flow_id):
    row = _flow(request, flow_id)
    if request.method == "GET":
        text = json.dumps(row.definition, indent=2, ensure_ascii=False)
        return _page(request, row, text, _editor_state(request, text))
    if not services.can_edit(request.membership):
        raise PermissionDenied("Only owners and admins change call flows")
    if request.POST.get("form") == "blocks":
        return _blocks_post(request, row)
    return _json_post(request, row)


@reader
@require_POST
def flow_check(request):
    """The blocks and their messages for the editor's text (htmx), without saving."""
    state = _editor_state(request, request.POST.get("definition", ""))
    blocks = render(request, "telephony/_blocks.html", state).content.decode()
    summary = render(request, "telephony/_check_summary.html", {**state, "oob": True}).content.decode()
    return HttpResponse(blocks + summary)


@reader
@require_POST
def flow_simulate(request, flow_id):
    row = _flow(request, flow_id)
    sim = {
        "from": request.POST.get("from", "").strip(),
        "date": request.POST.get("date", ""),
        "time": request.POST.get("time", ""),
        "digits": request.POST.get("digits", "").strip(),
        "unanswered": request.POST.get("unanswered") == "on",
    }
    error, result = "", None
    try:
        at = datetime.fromisoformat(f"{sim['date']}T{sim['time']}")
    except ValueError:
        error = "Pick a date and a time."
    digits = [c for c in sim["digits"] if c not in " ,"]
    if not error and any(c not in "0123456789*#" for c in digits):
        error = "Keys are digits, * and #."
    if not error:
        try:
            result = services.simulate_flow(request.tenant, row, caller=sim["from"], at=at, digits=digits,
                                            unanswered=sim["unanswered"])  # fmt: skip
        except ValidationError as exc:
            error = " ".join(m for ms in exc.message_dict.values() for m in ms)
    status = 422 if error else 200
    if request.headers.get("HX-Request"):
        context = {"row": row, "sim": sim, "error": error, "result": result, "icons": display.ICONS}
        return render(request, "telephony/_simulation.html", context, status=status)
    text = json.dumps(row.definition, indent=2, ensure_ascii=False)
    state = {**_editor_state(request, text), "sim": sim, "error": error, "result": result, "icons": display.ICONS}
    return _page(request, row, text, state, status=status)


@editor
@require_POST
def flow_delete(request, flow_id):
    row = _flow(request, flow_id)
    name = row.name
    services.delete_flow(request.tenant, request.actor, row)
    messages.success(request, f"Call flow “{name}” deleted.")
    return redirect(reverse("telephony:list"))
