"""The ready dashboards as pages (tabs, a period picker, a grid of widget cards), their PDF, and
the scheduled reports' pages (list, new, edit, turn on/off, delete)."""

from __future__ import annotations

import zoneinfo

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from octopushx.accounts.services import zone_name
from octopushx.reports import dashboards, presentation, schedules, services
from octopushx.reports.forms import ScheduleForm
from octopushx.tenancy.models import Membership
from octopushx.tenancy.roles import Perm, has_perm
from octopushx.tenancy.views import requires


def _tabs(request) -> list[dict]:
    return [{"slug": d.slug, "title": d.title} for d in dashboards.visible_dashboards(request.membership)]


@requires(Perm.READ)
def dashboard(request, slug: str):
    if not dashboards.can_see(request.membership, slug):
        raise PermissionDenied("Compliance reports are for owners, admins and auditors")
    period = dashboards.resolve_period(request.tenant, request.GET.get("period"))
    data = dashboards.build(request.tenant, request.membership, slug, period)
    zone = dashboards.org_zone(request.tenant)
    as_of = timezone.now().astimezone(zone)
    cards = [presentation.card(widget, period, as_of) for widget in data["widgets"]]
    return render(
        request,
        "reports/dashboard.html",
        {
            "board": data,
            "slug": slug,
            "cards": cards,
            "charts": {card["chart_id"]: card["chart"] for card in cards if card.get("chart")},
            "tabs": _tabs(request),
            "period": period,
            "previous": period.previous(),
            "periods": list(dashboards.PERIODS.items()),
            "as_of": as_of,
            "zone": str(zone),
            "can_schedule": has_perm(request.membership.role, Perm.WRITE),
        },
    )


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
