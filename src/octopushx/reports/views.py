"""Reports as pages: the ready dashboards, saved reports and custom dashboards, the report builder,
dashboards as PDF and the scheduled reports' pages (list, new, edit, turn on/off, delete).

The builder and the dashboard editor change data through the JSON API (``/api/v1/reports``,
``/api/v1/dashboards``) with the browser session; these views only render. ``preview`` answers the
builder's live preview: the spec run for the viewer, drawn with the dashboards' own card.
"""

from __future__ import annotations

import json
import zoneinfo
from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_POST

from octopushx.accounts.services import zone_name
from octopushx.core import datasets
from octopushx.reports import dashboard_services, dashboards, presentation, query, schedules, services
from octopushx.reports.forms import ScheduleForm
from octopushx.reports.models import View, WidgetSize
from octopushx.tenancy.models import Membership
from octopushx.tenancy.roles import Perm, Role, has_perm
from octopushx.tenancy.views import requires

SAVED_TAB = {"slug": "saved", "title": "Saved"}


def _tabs(request) -> list[dict]:
    return [{"slug": d.slug, "title": d.title} for d in dashboards.visible_dashboards(request.membership)] + [SAVED_TAB]


def _board_context(request, data: dict, period: dashboards.Period, **extra) -> dict:
    zone = dashboards.org_zone(request.tenant)
    as_of = timezone.now().astimezone(zone)
    cards = []
    for widget in data["widgets"]:
        card = presentation.card(widget, period, as_of)
        if data.get("custom"):
            card["widget_id"] = widget["id"]
            card["report_id"] = widget.get("report_id")
        cards.append(card)
    return {
        "board": data,
        "cards": cards,
        "charts": {card["chart_id"]: card["chart"] for card in cards if card.get("chart")},
        "tabs": _tabs(request),
        "period": period,
        "previous": period.previous(),
        "periods": list(dashboards.PERIODS.items()),
        "as_of": as_of,
        "zone": str(zone),
        "can_schedule": has_perm(request.membership.role, Perm.WRITE),
        **extra,
    }


@requires(Perm.READ)
def dashboard(request, slug: str):
    if not dashboards.can_see(request.membership, slug):
        raise PermissionDenied("Compliance reports are for owners, admins and auditors")
    period = dashboards.resolve_period(request.tenant, request.GET.get("period"))
    data = dashboards.build(request.tenant, request.membership, slug, period)
    return render(request, "reports/dashboard.html", _board_context(request, data, period, slug=slug))


@requires(Perm.READ)
def custom_dashboard(request, dashboard_id):
    """A custom dashboard: its widgets for the viewer; its owner (or an admin) arranges them here."""
    board = dashboard_services.get_dashboard(request.tenant, request.membership, dashboard_id)
    period = dashboards.resolve_period(request.tenant, request.GET.get("period"))
    data = dashboards.build(request.tenant, request.membership, str(board.pk), period)
    editable = dashboard_services.can_edit(board, request.membership)
    addable = []
    if editable:
        addable = [
            {"report_id": str(r.pk), "title": r.name} for r in services.reports_for(request.tenant, request.membership)
        ]
    return render(
        request,
        "reports/custom_dashboard.html",
        _board_context(
            request,
            data,
            period,
            slug="saved",
            dashboard=board,
            editing=editable,
            addable_reports=addable,
            ready_widgets=dashboard_services.ready_widget_choices(request.membership) if editable else [],
            may_share=has_perm(request.membership.role, Perm.EXPORT),
            roles=Role.choices,
            sizes=WidgetSize.choices,
            config={
                "id": str(board.pk),
                "api": f"/api/v1/dashboards/{board.pk}",
                "saved_url": "/reports/saved/",
            },
        ),
    )


def _visibility(item) -> str:
    if not item.shared:
        return "Only the owner"
    if not item.roles:
        return "Everyone"
    labels = dict(Role.choices)
    return ", ".join(str(labels.get(r, r)) for r in item.roles)


@requires(Perm.READ)
def saved(request):
    """Saved reports and custom dashboards the member may open, with downloads."""
    members = _member_names(request.tenant)
    reports = services.reports_for(request.tenant, request.membership)
    boards = dashboard_services.dashboards_for(request.tenant, request.membership)
    labels = {name: ds.label for name, ds in datasets.all_datasets().items()}
    return render(
        request,
        "reports/saved.html",
        {
            "tabs": _tabs(request),
            "slug": "saved",
            "reports": [
                {
                    "item": r,
                    "dataset": labels.get((r.spec or {}).get("dataset"), (r.spec or {}).get("dataset")),
                    "view": r.get_view_display(),
                    "visibility": _visibility(r),
                    "owner": members.get(r.owner_id, "—"),
                }
                for r in reports
            ],
            "boards": [
                {
                    "item": d,
                    "widgets": len(d.widgets),
                    "visibility": _visibility(d),
                    "owner": members.get(d.owner_id, "—"),
                }
                for d in boards
            ],
            "may_write": has_perm(request.membership.role, Perm.WRITE),
            "may_share": has_perm(request.membership.role, Perm.EXPORT),
            "roles": Role.choices,
        },
    )


def _member_names(tenant) -> dict:

    return {
        m.user_id: (m.user.full_name or m.user.email)
        for m in Membership.objects.filter(tenant=tenant).select_related("user")
    }


def _fk_choices(rows, name: str, f) -> list[list[str]]:
    """A filter's choices for a record field (stage, pipeline): the values the member's rows hold."""
    if f.kind != "fk" or not f.label_expr or f.annotate:
        return []
    path = f.path(name)
    found = rows.order_by().exclude(**{f"{path}__isnull": True}).values_list(path, f.label_expr).distinct()[:200]
    return sorted(([str(value), str(label)] for value, label in found), key=lambda c: c[1].lower())


def _builder_catalog(request) -> dict:
    """What the builder offers: the datasets the role may read, members and teams for filters."""
    from octopushx.tenancy.models import Team

    items = []
    for ds in datasets.all_datasets().values():
        try:
            rows = ds.rows(request.tenant, request.membership)
        except PermissionDenied:
            continue
        fields = [
            {
                "name": name,
                "label": f.label,
                "kind": f.kind,
                "choices": [list(c) for c in f.choices] or _fk_choices(rows, name, f),
                "groupable": f.groupable,
                "filterable": f.filterable,
            }
            for name, f in ds.all_fields(request.tenant).items()
        ]
        items.append({"name": ds.name, "label": ds.label, "date_field": ds.default_date_field, "fields": fields})
    order = ["deals", "contacts", "companies", "tasks", "notes", "calls", "privacy_requests"]
    items.sort(key=lambda d: (order.index(d["name"]) if d["name"] in order else len(order), d["label"]))
    members = sorted(([str(k), v] for k, v in _member_names(request.tenant).items()), key=lambda m: m[1].lower())
    teams = [[str(pk), name] for pk, name in Team.objects.filter(tenant=request.tenant).values_list("pk", "name")]
    today = timezone.now().astimezone(dashboards.org_zone(request.tenant)).date()
    periods = []
    for key, label in dashboards.PERIODS.items():
        p = dashboards.resolve_period(request.tenant, key, today)
        periods.append({"key": key, "label": label, "from": p.start.isoformat(), "to": p.end.isoformat()})
    return {
        "datasets": items,
        "members": members,
        "teams": teams,
        "periods": periods,
        "views": [list(c) for c in View.choices],
        "ops": list(query.OPS),
    }


def _builder(request, report=None):
    editable = report is None or services.can_edit(report, request.membership)
    boards = [
        {"id": str(d.pk), "name": d.name}
        for d in dashboard_services.dashboards_for(request.tenant, request.membership)
        if dashboard_services.can_edit(d, request.membership)
    ]
    return render(
        request,
        "reports/builder.html",
        {
            "tabs": _tabs(request),
            "slug": "saved",
            "report": report,
            "catalog": _builder_catalog(request),
            "config": {
                "report": services.report_out(report, request.membership) if report else None,
                "editable": editable,
                "may_write": has_perm(request.membership.role, Perm.WRITE),
                "may_share": has_perm(request.membership.role, Perm.EXPORT),
                "dashboards": boards,
            },
            "roles": Role.choices,
            "views": View.choices,
            "editable": editable,
            "may_share": has_perm(request.membership.role, Perm.EXPORT),
            "dashboards_editable": boards,
        },
    )


@requires(Perm.READ)
def builder_new(request):
    return _builder(request)


@requires(Perm.READ)
def builder_report(request, report_id):
    return _builder(request, services.get_report(request.tenant, request.membership, report_id))


def _preview_period(spec: dict, key: str | None, tenant) -> tuple[dashboards.Period, dict]:
    raw = spec.get("period") if isinstance(spec.get("period"), dict) else None
    if raw is None:
        return dashboards.resolve_period(tenant, None), dict(dashboards.ALL_TIME)
    try:
        start, end = date.fromisoformat(str(raw.get("from"))), date.fromisoformat(str(raw.get("to")))
    except ValueError:
        return dashboards.resolve_period(tenant, None), dict(dashboards.ALL_TIME)
    label = dashboards.PERIODS.get(key or "", "Custom period")
    period = dashboards.Period(key or "custom", label, start, end)
    return period, {"key": period.key, "label": label, "from": raw.get("from"), "to": raw.get("to")}


@requires(Perm.READ)
@require_POST
def preview(request):
    """The builder's live preview: ``{"spec", "view", "name", "period_key"}`` in, the card's HTML out;
    a spec that does not hold is 422 with its errors by field path, as the API gives them."""
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return JsonResponse({"detail": "Not JSON", "errors": {"body": ["A JSON object is needed"]}}, status=422)
    if not isinstance(body, dict):
        return JsonResponse({"detail": "Not JSON", "errors": {"body": ["A JSON object is needed"]}}, status=422)
    spec = body.get("spec")
    view = body.get("view") if body.get("view") in View.values else View.TABLE
    try:
        data = query.run(request.tenant, request.membership, spec)
    except ValidationError as exc:
        return JsonResponse({"detail": "The report does not hold", "errors": exc.message_dict}, status=422)
    except PermissionDenied as exc:
        return JsonResponse({"detail": str(exc) or "Your role cannot read this dataset", "errors": {}}, status=403)
    period, period_out = _preview_period(spec, body.get("period_key"), request.tenant)
    name = body.get("name") if isinstance(body.get("name"), str) and body["name"].strip() else "Untitled report"
    widget = {
        "key": "preview",
        "title": name.strip()[:200],
        "view": view,
        "help": "",
        "size": "lg",
        "period": period_out,
        "data": data,
        "drilldown": data.get("drilldown"),
    }
    as_of = timezone.now().astimezone(dashboards.org_zone(request.tenant))
    card = presentation.card(widget, period, as_of)
    html = render_to_string(
        "reports/_preview.html",
        {"card": card, "summary": presentation.summary(widget), "period": period, "data": data},
        request=request,
    )
    return JsonResponse({"html": html, "rows": len(data["rows"])})


@requires(Perm.READ)
def dashboard_pdf(request, key: str):
    """The dashboard as PDF for the signed-in member (the same numbers as the page)."""
    period = request.GET.get("period")
    filename, body = services.dashboard_pdf_file(request.tenant, request.actor, request.membership, key, period)
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- scheduled reports ------------------------------------------------------------------------


@requires(Perm.READ)
def schedule_list(request):
    rows = list(schedules.visible_schedules(request.tenant, request.membership))
    zone = zoneinfo.ZoneInfo(zone_name(request.user, request.tenant))
    items = []
    for schedule in rows:
        item = schedules.schedule_out(schedule, request.membership)
        parts = [item["target"]["title"]] if item["name"] else []
        if schedule.dashboard:
            parts.append(dashboards.PERIODS.get(schedule.period, ""))
        parts.append(schedule.format.upper())
        item["sub"] = " · ".join(p for p in parts if p)
        item["next_local"] = schedule.next_at.astimezone(zone) if schedule.enabled and schedule.next_at else None
        item["last_local"] = schedule.last_sent_at.astimezone(zone) if schedule.last_sent_at else None
        items.append(item)
    return render(
        request,
        "reports/schedules.html",
        {
            "items": items,
            "tabs": _tabs(request),
            "can_schedule": has_perm(request.membership.role, Perm.WRITE),
            "viewer_zone": str(zone),
        },
    )


def _targets(request) -> list[tuple[str, str]]:
    boards = [
        (f"dashboard:{d.slug}", f"{d.title} dashboard") for d in dashboards.visible_dashboards(request.membership)
    ]
    boards += [
        (f"dashboard:{d.pk}", d.name) for d in dashboard_services.dashboards_for(request.tenant, request.membership)
    ]
    reports = [(f"report:{r.pk}", r.name) for r in services.reports_for(request.tenant, request.membership)]
    return [("Dashboards", boards)] + ([("Saved reports", reports)] if reports else [])


def _members(request) -> list[tuple[str, str]]:
    members = Membership.objects.filter(tenant=request.tenant).select_related("user")
    if not has_perm(request.membership.role, Perm.EXPORT):
        members = members.filter(user=request.user)  # agents schedule to themselves only
    return [
        (str(m.user_id), f"{m.user.full_name or m.user.email} · {m.get_role_display()}")
        for m in members.order_by("user__full_name", "user__email")
    ]


def _form_page(request, schedule=None):
    initial: dict = {"format": "pdf", "frequency": "weekly", "weekday": "0", "time": "08:00", "period": "this_month"}
    if schedule is None:
        if request.GET.get("dashboard"):
            initial["target"] = f"dashboard:{request.GET['dashboard']}"
        elif request.GET.get("report"):
            initial["target"] = f"report:{request.GET['report']}"
        if request.GET.get("period") in dashboards.PERIODS:
            initial["period"] = request.GET["period"]
        initial["recipients"] = [str(request.user.pk)]
    else:
        out = schedules.schedule_out(schedule, request.membership)
        target = out["target"]
        initial.update(
            target=f"dashboard:{target['dashboard']}" if target["dashboard"] else f"report:{target['report_id']}",
            name=schedule.name,
            period=schedule.period,
            format=schedule.format,
            frequency=schedule.frequency,
            weekday=str(schedule.weekday) if schedule.weekday is not None else "0",
            day_of_month=schedule.day_of_month,
            time=out["time"],
            recipients=[r["user_id"] for r in out["recipients"]],
        )
    form = ScheduleForm(request.POST or None, initial=initial, targets=_targets(request), members=_members(request))
    if request.method == "POST" and form.is_valid():
        try:
            if schedule is None:
                schedule = schedules.create_schedule(
                    request.tenant, request.actor, request.membership, form.data_for_service()
                )
                messages.success(request, f"Scheduled: {schedules.describe(schedule)}.")
            else:
                schedules.update_schedule(
                    request.tenant, request.actor, request.membership, schedule, form.data_for_service()
                )
                messages.success(request, "Schedule saved.")
            return redirect("reports:schedules")
        except ValidationError as exc:
            form.add_service_errors(exc.message_dict)
    return render(
        request,
        "reports/schedule_form.html",
        {"form": form, "schedule": schedule, "tabs": _tabs(request)},
        status=422 if request.method == "POST" else 200,
    )


@requires(Perm.WRITE)
def schedule_new(request):
    return _form_page(request)


@requires(Perm.READ)
def schedule_edit(request, schedule_id):
    schedule = schedules.get_schedule(request.tenant, request.membership, schedule_id)
    if not schedules.can_edit(schedule, request.membership):
        raise PermissionDenied("Only the schedule's owner, an admin or an owner changes it")
    return _form_page(request, schedule)


@requires(Perm.READ)
@require_POST
def schedule_toggle(request, schedule_id):
    schedule = schedules.get_schedule(request.tenant, request.membership, schedule_id)
    turn_on = not schedule.enabled
    try:
        schedules.update_schedule(request.tenant, request.actor, request.membership, schedule, {"enabled": turn_on})
        messages.success(request, "Schedule turned on." if turn_on else "Schedule turned off.")
    except ValidationError as exc:
        messages.error(request, " ".join(m for ms in exc.message_dict.values() for m in ms))
    return redirect("reports:schedules")


@requires(Perm.READ)
@require_POST
def schedule_delete(request, schedule_id):
    schedule = schedules.get_schedule(request.tenant, request.membership, schedule_id)
    schedules.delete_schedule(request.tenant, request.actor, request.membership, schedule)
    messages.success(request, "Schedule deleted.")
    return redirect("reports:schedules")
