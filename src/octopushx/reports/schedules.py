"""Scheduled reports: a dashboard or saved report emailed as PDF or CSV at a time of day in each
recipient's own time zone (their profile's, else the organisation's).

- The database holds the due times: each recipient row has ``next_at`` (UTC), computed with
  ``zoneinfo`` from the rule (daily; weekly on a weekday; monthly on a day, the last day of a
  shorter month) and the recipient's zone. A time skipped by a spring-forward change is sent an
  hour later (02:30 on a night that jumps from 02:00 to 03:00 sends at 03:30); a time repeated by a
  fall-back change is sent once, at its first occurrence.
- ``fire_due`` runs on every reaper round (``core.jobs.each_round``) and from a minute Huey task:
  it moves a due row to its next slot with a conditional update (one firing per slot, whichever
  process is first) and records a ``reports.send_scheduled`` job for the slot (deduplicated per
  recipient and slot). The job renders the output for the recipient's role and sends the email.
- Nothing rendered is stored: every send reads the data as it is at that moment, so an erased
  record never appears in a later email.
- A recipient who is no longer a member (or whose role can no longer open the target) is dropped;
  a schedule left without recipients, or whose report or dashboard is gone, is turned off, and
  the schedule's owner is told by email.
"""

from __future__ import annotations

import calendar
import logging
import re
import uuid
import zoneinfo
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage, send_mail
from django.db import transaction
from django.db.models import Exists, F, Min, OuterRef, Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from octopushx.accounts.services import zone_name
from octopushx.core import audit, jobs
from octopushx.core.context import Actor
from octopushx.core.text import strip
from octopushx.reports import dashboard_services, dashboards, services
from octopushx.reports.models import Dashboard, Frequency, OutputFormat, Report, ReportSchedule, ScheduleRecipient
from octopushx.tenancy.models import Membership
from octopushx.tenancy.roles import Perm, Role, has_perm

log = logging.getLogger(__name__)

FIELDS = (
    "name",
    "dashboard",
    "report_id",
    "period",
    "format",
    "frequency",
    "weekday",
    "day_of_month",
    "time",
    "recipient_ids",
    "enabled",
)
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MAX_RECIPIENTS = 50
TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})$")
SEND_JOB = "reports.send_scheduled"


# --- due times --------------------------------------------------------------------------------


def _matches(schedule: ReportSchedule, day: date) -> bool:
    if schedule.frequency == Frequency.WEEKLY:
        return day.weekday() == schedule.weekday
    if schedule.frequency == Frequency.MONTHLY:
        last = calendar.monthrange(day.year, day.month)[1]
        return day.day == min(schedule.day_of_month or 1, last)
    return True


def next_slot(schedule: ReportSchedule, zone: str, after: datetime) -> datetime:
    """The first send time strictly after ``after``, in UTC, for a recipient in ``zone``.

    The wall-clock time is read with ``fold=0``: in a spring-forward gap that is the time an hour
    later; at a fall-back repeat, the first of the two.
    """
    tz = zoneinfo.ZoneInfo(zone)
    start = after.astimezone(tz).date() - timedelta(days=1)
    for offset in range(0, 400):
        day = start + timedelta(days=offset)
        if not _matches(schedule, day):
            continue
        slot = datetime.combine(day, schedule.time_of_day, tzinfo=tz).astimezone(UTC)
        if slot > after:
            return slot
    raise ValueError("No send time within a year")  # unreachable for a valid rule


def describe(schedule: ReportSchedule) -> str:
    """``Weekly on Monday at 08:00`` (in each recipient's time zone)."""
    at = schedule.time_of_day.strftime("%H:%M")
    if schedule.frequency == Frequency.WEEKLY and schedule.weekday is not None:
        return f"Weekly on {WEEKDAYS[schedule.weekday].capitalize()} at {at}"
    if schedule.frequency == Frequency.MONTHLY:
        return f"Monthly on day {schedule.day_of_month} at {at}"
    return f"Daily at {at}"


# --- who sees and changes what ----------------------------------------------------------------


def visible_schedules(tenant, membership):
    """Admins and owners see every schedule; others those they created or receive."""
    qs = (
        ReportSchedule.objects.for_tenant(tenant)
        .select_related("report", "created_by")
        .prefetch_related("recipients__user")
    )
    if membership is None:
        return qs.none()
    if has_perm(membership.role, Perm.ADMIN):
        return qs
    mine = ScheduleRecipient.objects.filter(schedule=OuterRef("pk"), user_id=membership.user_id)
    return qs.filter(Q(created_by_id=membership.user_id) | Exists(mine))


def get_schedule(tenant, membership, pk) -> ReportSchedule:
    schedule = ReportSchedule.objects.get_for_tenant(tenant, pk)
    if not visible_schedules(tenant, membership).filter(pk=schedule.pk).exists():
        raise Http404("No schedule with that id")
    return schedule


def can_edit(schedule: ReportSchedule, membership) -> bool:
    if membership is None or not has_perm(membership.role, Perm.WRITE):
        return False
    return schedule.created_by_id == membership.user_id or has_perm(membership.role, Perm.ADMIN)


def target_title(schedule: ReportSchedule) -> str:
    if schedule.dashboard:
        board = dashboards.DASHBOARDS.get(schedule.dashboard)
        if board is not None:
            return f"{board.title} dashboard"
        custom = Dashboard.objects.filter(tenant_id=schedule.tenant_id, pk=_uuid(schedule.dashboard)).first()
        return custom.name if custom else "Removed dashboard"
    return schedule.report.name if schedule.report else "Removed report"


def may_open(tenant, membership, schedule_or_target) -> bool:
    """Whether ``membership`` may open the schedule's dashboard or report."""
    dashboard, report = _target_of(schedule_or_target)
    if report is not None:
        return services.can_see(report, membership)
    if dashboard in dashboards.DASHBOARDS:
        return dashboards.can_see(membership, dashboard)
    custom = Dashboard.objects.filter(tenant=tenant, pk=_uuid(dashboard)).first()
    return custom is not None and dashboard_services.can_see(custom, membership)


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _target_of(value) -> tuple[str, Report | None]:
    if isinstance(value, ReportSchedule):
        return value.dashboard, value.report
    return value


# --- validation -------------------------------------------------------------------------------


def _time(value: Any) -> time | None:
    if isinstance(value, str):
        found = TIME_RE.match(value.strip())
        if found:
            hour, minute = int(found.group(1)), int(found.group(2))
            if hour < 24 and minute < 60:
                return time(hour, minute)
    return None


def _weekday(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and 0 <= value <= 6:
        return value
    if isinstance(value, str) and value.strip().lower() in WEEKDAYS:
        return WEEKDAYS.index(value.strip().lower())
    return None


def _clean(tenant, membership, data: dict, schedule: ReportSchedule | None) -> dict:
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    creating = schedule is None
    for key in sorted(set(data) - set(FIELDS)):
        errors[key] = [f"Unknown field; a schedule has: {', '.join(FIELDS)}"]
    if "name" in data:
        name = data["name"]
        if name is not None and (not isinstance(name, str) or len(name.strip()) > 200):
            errors["name"] = ["Text of at most 200 characters"]
        else:
            values["name"] = strip((name or "").strip())

    # the target: a dashboard (slug or custom id) or a saved report, exactly one
    dashboard = data.get("dashboard", schedule.dashboard if schedule else "") or ""
    report_id = data.get("report_id", str(schedule.report_id) if schedule and schedule.report_id else None)
    if schedule is not None and ("dashboard" in data) != ("report_id" in data):
        # a change names the new target alone: the other kind is let go
        dashboard, report_id = (dashboard, None) if "dashboard" in data else ("", report_id)
    if "dashboard" in data or "report_id" in data or creating:
        if bool(dashboard) == bool(report_id):
            errors["dashboard" if not report_id else "report_id"] = [
                "Choose one target: a dashboard (its slug or id) or a saved report (report_id)"
            ]
        elif dashboard:
            if not isinstance(dashboard, str) or len(dashboard) > 64:
                errors["dashboard"] = ["A dashboard's slug (sales, activity, coaching, compliance) or id"]
            else:
                values["dashboard"], values["report"] = dashboard, None
        else:
            try:
                values["report"] = services.get_report(tenant, membership, str(report_id))
                values["dashboard"] = ""
            except (Http404, ValidationError, ValueError):
                errors["report_id"] = ["No saved report with that id that you can open"]
    if "period" in data:
        if data["period"] not in dashboards.PERIODS:
            errors["period"] = [f"One of: {', '.join(dashboards.PERIODS)}"]
        else:
            values["period"] = data["period"]
    if "format" in data or creating:
        fmt = data.get("format", OutputFormat.PDF)
        if fmt not in OutputFormat.values:
            errors["format"] = [f"One of: {', '.join(OutputFormat.values)}"]
        else:
            values["format"] = fmt
    if "frequency" in data or creating:
        frequency = data.get("frequency")
        if frequency not in Frequency.values:
            errors["frequency"] = [f"One of: {', '.join(Frequency.values)}"]
        else:
            values["frequency"] = frequency
    frequency = values.get("frequency", schedule.frequency if schedule else None)
    if frequency == Frequency.WEEKLY:
        raw = data.get("weekday", schedule.weekday if schedule else None)
        weekday = _weekday(raw)
        if weekday is None:
            errors["weekday"] = ["A weekly schedule needs a weekday: 0 (Monday) to 6 (Sunday), or its name"]
        else:
            values["weekday"] = weekday
    elif "weekday" in data and data["weekday"] is not None and frequency is not None:
        errors["weekday"] = ["Only a weekly schedule has a weekday"]
    else:
        values["weekday"] = None
    if frequency == Frequency.MONTHLY:
        raw = data.get("day_of_month", schedule.day_of_month if schedule else None)
        if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= 31:
            errors["day_of_month"] = ["A monthly schedule needs a day of the month from 1 to 31"]
        else:
            values["day_of_month"] = raw
    elif "day_of_month" in data and data["day_of_month"] is not None and frequency is not None:
        errors["day_of_month"] = ["Only a monthly schedule has a day of the month"]
    else:
        values["day_of_month"] = None
    if "time" in data or creating:
        at = _time(data.get("time"))
        if at is None:
            errors["time"] = ["A time of day as HH:MM, from 00:00 to 23:59"]
        else:
            values["time_of_day"] = at
    if "enabled" in data:
        if not isinstance(data["enabled"], bool):
            errors["enabled"] = ["true or false"]
        else:
            values["enabled"] = data["enabled"]
    if "recipient_ids" in data or creating:
        values["_recipients"] = _recipients(tenant, membership, data.get("recipient_ids"), errors)
    if errors:
        raise ValidationError(errors)
    target = (values.get("dashboard", dashboard), values.get("report", schedule.report if schedule else None))
    if not may_open(tenant, membership, target):
        raise PermissionDenied("Your role cannot open this dashboard or report")
    members = values.get("_recipients")
    if members is None and schedule is not None and ("dashboard" in values or "report" in values):
        members = [
            m
            for m in Membership.objects.filter(
                tenant=tenant, user_id__in=schedule.recipients.values_list("user_id", flat=True)
            ).select_related("user")
        ]
    for index, member in enumerate(members or []):
        if not may_open(tenant, member, target):
            label = member.user.full_name or member.user.email
            errors[f"recipient_ids.{index}"] = [f"{label} ({Role(member.role).label}) cannot open this target"]
    if errors:
        raise ValidationError(errors)
    return values


def _recipients(tenant, membership, raw: Any, errors: dict) -> list[Membership]:
    if not isinstance(raw, list) or not raw:
        errors["recipient_ids"] = ["A list of at least one member's user id"]
        return []
    if len(raw) > MAX_RECIPIENTS:
        errors["recipient_ids"] = [f"At most {MAX_RECIPIENTS} recipients"]
        return []
    found: list[Membership] = []
    members = {
        str(m.user_id): m
        for m in Membership.objects.filter(
            tenant=tenant, user_id__in=[str(r) for r in raw if _is_uuid(r)]
        ).select_related("user")  # fmt: skip
    }
    for index, value in enumerate(raw):
        member = members.get(str(value)) if _is_uuid(value) else None
        if member is None:
            errors[f"recipient_ids.{index}"] = ["Not a member of this organisation"]
        elif member not in found:
            found.append(member)
    if not has_perm(membership.role, Perm.EXPORT) and any(m.user_id != membership.user_id for m in found):
        raise PermissionDenied("Agents schedule reports to themselves only; a manager, admin or owner sends to others")
    return found


def _is_uuid(value: Any) -> bool:
    import uuid

    try:
        uuid.UUID(str(value))
        return True
    except ValueError:
        return False


# --- changes ----------------------------------------------------------------------------------


def _snapshot(schedule: ReportSchedule) -> dict:
    return {
        "name": schedule.name,
        "dashboard": schedule.dashboard,
        "report": str(schedule.report_id) if schedule.report_id else None,
        "period": schedule.period,
        "format": schedule.format,
        "frequency": schedule.frequency,
        "weekday": schedule.weekday,
        "day_of_month": schedule.day_of_month,
        "time": schedule.time_of_day.strftime("%H:%M") if schedule.time_of_day else None,
        "enabled": schedule.enabled,
        "recipients": sorted(schedule.recipients.values_list("user__email", flat=True)) if schedule.pk else [],
    }


def _sync_recipients(schedule: ReportSchedule, members: list[Membership] | None, now: datetime) -> None:
    """Keep each recipient's row (and due time) in step with the rule and their zone."""
    if members is not None:
        wanted = {m.user_id for m in members}
        schedule.recipients.exclude(user_id__in=wanted).delete()
        have = set(schedule.recipients.values_list("user_id", flat=True))
        for member in members:
            if member.user_id not in have:
                ScheduleRecipient.objects.create(
                    tenant=schedule.tenant, schedule=schedule, user=member.user, time_zone="UTC"
                )
    for row in schedule.recipients.select_related("user"):
        zone = zone_name(row.user, schedule.tenant)
        row.time_zone = zone
        row.next_at = next_slot(schedule, zone, now) if schedule.enabled else None
        row.save(update_fields=["time_zone", "next_at", "updated_at"])
    _refresh_next(schedule.pk)


def _refresh_next(schedule_id) -> None:
    earliest = ScheduleRecipient.objects.filter(schedule_id=schedule_id).aggregate(at=Min("next_at"))["at"]
    ReportSchedule.objects.filter(pk=schedule_id).update(next_at=earliest)


def _require_write(membership) -> None:
    if membership is None or not has_perm(membership.role, Perm.WRITE):
        raise PermissionDenied("Your role reads reports but does not schedule them")


def create_schedule(tenant, actor: Actor, membership, data: dict, now: datetime | None = None) -> ReportSchedule:
    """A new schedule owned by the member; every recipient's first due time is computed now."""
    _require_write(membership)
    values = _clean(tenant, membership, data, None)
    members = values.pop("_recipients")
    with transaction.atomic():
        schedule = ReportSchedule.objects.create(tenant=tenant, created_by=membership.user, **values)
        _sync_recipients(schedule, members, now or timezone.now())
        audit.record(tenant, actor, "report_schedule.created", obj=schedule, changes=audit.diff({}, _snapshot(schedule)))  # fmt: skip
    schedule.refresh_from_db()
    return schedule


def update_schedule(
    tenant, actor: Actor, membership, schedule: ReportSchedule, data: dict, now: datetime | None = None
) -> ReportSchedule:
    _require_write(membership)
    if not can_edit(schedule, membership):
        raise PermissionDenied("Only the schedule's owner, an admin or an owner changes it")
    values = _clean(tenant, membership, data, schedule)
    members = values.pop("_recipients", None)
    old = _snapshot(schedule)
    with transaction.atomic():
        for name, value in values.items():
            setattr(schedule, name, value)
        if values.get("enabled"):
            schedule.last_error = ""
        schedule.save()
        _sync_recipients(schedule, members, now or timezone.now())
        changes = audit.diff(old, _snapshot(schedule))
        if changes:
            audit.record(tenant, actor, "report_schedule.updated", obj=schedule, changes=changes)
    schedule.refresh_from_db()
    return schedule


def delete_schedule(tenant, actor: Actor, membership, schedule: ReportSchedule) -> None:
    _require_write(membership)
    if not can_edit(schedule, membership):
        raise PermissionDenied("Only the schedule's owner, an admin or an owner deletes it")
    with transaction.atomic():
        audit.record(tenant, actor, "report_schedule.deleted", obj=schedule, changes=audit.diff(_snapshot(schedule), {}))  # fmt: skip
        schedule.delete()


def schedule_out(schedule: ReportSchedule, membership=None) -> dict:
    recipients = [
        {
            "user_id": str(r.user_id),
            "email": r.user.email,
            "name": r.user.full_name,
            "time_zone": r.time_zone,
            "next_at": r.next_at.isoformat() if r.next_at else None,
            "last_sent_at": r.last_sent_at.isoformat() if r.last_sent_at else None,
            "last_error": r.last_error,
        }
        for r in sorted(schedule.recipients.all(), key=lambda r: r.user.email)
    ]
    return {
        "id": str(schedule.pk),
        "name": schedule.name,
        "title": schedule.name or target_title(schedule),
        "target": {
            "kind": "dashboard" if schedule.dashboard else "report",
            "dashboard": schedule.dashboard or None,
            "report_id": str(schedule.report_id) if schedule.report_id else None,
            "title": target_title(schedule),
        },
        "period": schedule.period,
        "format": schedule.format,
        "frequency": schedule.frequency,
        "weekday": schedule.weekday,
        "day_of_month": schedule.day_of_month,
        "time": schedule.time_of_day.strftime("%H:%M"),
        "description": describe(schedule) + ", in each recipient's time zone",
        "recipients": recipients,
        "created_by_id": str(schedule.created_by_id) if schedule.created_by_id else None,
        "enabled": schedule.enabled,
        "next_at": schedule.next_at.isoformat() if schedule.next_at else None,
        "last_sent_at": schedule.last_sent_at.isoformat() if schedule.last_sent_at else None,
        "last_error": schedule.last_error,
        "editable": can_edit(schedule, membership),
        "created_at": schedule.created_at.isoformat(),
        "updated_at": schedule.updated_at.isoformat(),
    }


# --- the scheduler ----------------------------------------------------------------------------


def fire_due(now: datetime | None = None) -> int:
    """Queue the sends whose time has come: one per recipient and slot, whoever is first."""
    now = now or timezone.now()
    resync(now)
    fired = 0
    due = ScheduleRecipient.objects.filter(
        next_at__lte=now, schedule__enabled=True, tenant__suspended_at__isnull=True, tenant__deleted_at__isnull=True
    ).select_related("schedule", "user", "tenant")
    for row in due[:500]:
        slot = row.next_at
        zone = zone_name(row.user, row.tenant)
        following = next_slot(row.schedule, zone, max(now, slot))
        with transaction.atomic():
            claimed = ScheduleRecipient.objects.filter(pk=row.pk, next_at=slot).update(
                next_at=following, time_zone=zone
            )
            if not claimed:
                continue  # another process fired this slot
            _refresh_next(row.schedule_id)
            jobs.submit(
                SEND_JOB,
                tenant=row.tenant,
                payload={"recipient_id": str(row.pk), "slot": slot.isoformat()},
                dedupe_key=f"report-schedule:{row.pk}:{slot.isoformat()}",
            )
        fired += 1
    return fired


def resync(now: datetime) -> None:
    """Drop recipients who left the organisation; re-time rows whose recipient's zone changed."""
    member = Membership.objects.filter(tenant_id=OuterRef("tenant_id"), user_id=OuterRef("user_id"))
    for row in ScheduleRecipient.objects.filter(~Exists(member)).select_related("schedule", "user", "tenant")[:100]:
        drop_recipient(row, "is no longer a member of the organisation")
    moved = ScheduleRecipient.objects.filter(schedule__enabled=True).filter(
        (Q(user__time_zone="") & ~Q(time_zone=F("tenant__time_zone")))
        | (~Q(user__time_zone="") & ~Q(time_zone=F("user__time_zone")))
    )
    for row in moved.select_related("schedule", "user", "tenant")[:200]:
        zone = zone_name(row.user, row.tenant)
        if zone == row.time_zone:
            continue  # an unknown zone name read as UTC: nothing changes
        following = next_slot(row.schedule, zone, now)
        if ScheduleRecipient.objects.filter(pk=row.pk, time_zone=row.time_zone).update(
            time_zone=zone, next_at=following
        ):
            _refresh_next(row.schedule_id)


def drop_recipient(row: ScheduleRecipient, reason: str) -> None:
    """Remove one recipient (audited); a schedule left with nobody is turned off. The owner is told."""
    schedule, tenant = row.schedule, row.tenant
    who = row.user.full_name or row.user.email
    with transaction.atomic():
        if not ScheduleRecipient.objects.filter(pk=row.pk).delete()[0]:
            return
        audit.record(tenant, Actor.system("reports"), "report_schedule.recipient_dropped", obj=schedule,
                     changes={"recipients": [row.user.email, None], "reason": [None, reason]})  # fmt: skip
        left = ScheduleRecipient.objects.filter(schedule=schedule).exists()
        if not left:
            _disable(schedule, f"No recipients left: {who} {reason}.")
        else:
            _refresh_next(schedule.pk)
    title = schedule.name or target_title(schedule)
    text = f"{who} {reason}, so they no longer receive the scheduled report “{title}”."
    if not left:
        text += " Nobody else receives it, so the schedule is turned off."
    _tell_owner(schedule, f"Scheduled report changed: {title}", text)


def _disable(schedule: ReportSchedule, reason: str) -> None:
    ReportSchedule.objects.filter(pk=schedule.pk).update(enabled=False, last_error=reason[:500], next_at=None)
    ScheduleRecipient.objects.filter(schedule=schedule).update(next_at=None)
    audit.record(schedule.tenant, Actor.system("reports"), "report_schedule.disabled", obj=schedule,
                 changes={"enabled": [True, False], "reason": [None, reason[:200]]})  # fmt: skip


def _tell_owner(schedule: ReportSchedule, subject: str, text: str) -> None:
    """Email the schedule's owner; when they have left, the organisation's admins and owners."""
    owner = schedule.created_by
    is_member = owner is not None and Membership.objects.filter(tenant_id=schedule.tenant_id, user=owner).exists()
    if is_member:
        to = [owner.email]
    else:
        to = list(
            Membership.objects.filter(tenant_id=schedule.tenant_id, role__in=(Role.OWNER, Role.ADMIN)).values_list(
                "user__email", flat=True
            )
        )
    if to:
        link = settings.BASE_URL + reverse("reports:schedules")
        send_mail(
            subject[:200],
            f"{text}\n\nManage scheduled reports: {link}\n",
            schedule.tenant.from_email,
            to,
            fail_silently=True,
        )


# --- sending ----------------------------------------------------------------------------------


def render_for(schedule: ReportSchedule, membership) -> tuple[str, str, bytes, dict]:
    """``(filename, content type, bytes, facts)`` of the target for this member, rendered now."""
    from django.utils.text import slugify

    from octopushx.reports import pdf

    tenant = schedule.tenant
    zone = zone_name(membership.user, tenant)
    stamp = timezone.now().astimezone(zoneinfo.ZoneInfo(zone)).strftime("%Y%m%d-%H%M")
    if schedule.dashboard:
        period = dashboards.resolve_period(tenant, schedule.period)
        base = f"{slugify(schedule.dashboard)}-dashboard-{stamp}"
        facts = {"period": f"{period.label}, {period.text()}", "title": target_title(schedule)}
        if schedule.format == OutputFormat.PDF:
            body = pdf.dashboard_pdf(tenant, membership, schedule.dashboard, period, viewer_zone=zone)
            return f"{base}.pdf", "application/pdf", body, facts
        body = services.dashboard_to_csv(tenant, membership, schedule.dashboard, period)
        return f"{base}.csv", "text/csv", body, facts
    report = schedule.report
    if report is None:
        raise Http404("The report was deleted")
    if not services.can_see(report, membership):
        raise PermissionDenied("Cannot open this report")
    result = services.report_data(tenant, membership, report)
    spec_period = result.get("period")
    facts = {
        "period": f"{spec_period['from']} to {spec_period['to']}" if spec_period else "All time",
        "title": report.name,
    }
    base = f"{slugify(report.name) or 'report'}-{stamp}"
    if schedule.format == OutputFormat.PDF:
        return f"{base}.pdf", "application/pdf", pdf.report_pdf(tenant, membership, report, viewer_zone=zone), facts
    return f"{base}.csv", "text/csv", services.to_csv(report.name, result, membership), facts


@jobs.handler(SEND_JOB, on_failure=lambda job: _failed(job))
def send_scheduled(job) -> dict:
    """Render and email one recipient's copy of one slot (retried by the job system on failure)."""
    row = (
        ScheduleRecipient.objects.select_related("schedule", "schedule__tenant", "schedule__report", "user", "tenant")
        .filter(pk=job.payload["recipient_id"])
        .first()
    )
    if row is None or not row.schedule.enabled:
        return {"skipped": "the recipient or the schedule is gone or off"}
    schedule, tenant = row.schedule, row.tenant
    membership = Membership.objects.filter(tenant=tenant, user=row.user).select_related("user").first()
    if membership is None:
        drop_recipient(row, "is no longer a member of the organisation")
        return {"skipped": "not a member"}
    try:
        filename, content_type, body, facts = render_for(schedule, membership)
    except Http404:
        with transaction.atomic():
            _disable(schedule, "Its report or dashboard no longer exists.")
        _tell_owner(schedule, f"Scheduled report turned off: {schedule.name or target_title(schedule)}",
                    "Its report or dashboard no longer exists, so the schedule is turned off.")  # fmt: skip
        return {"skipped": "target gone"}
    except PermissionDenied:
        drop_recipient(row, "can no longer open its report or dashboard")
        return {"skipped": "cannot open"}
    except ValidationError as exc:  # a saved report that can no longer run (a field removed)
        reason = " ".join(exc.messages)[:300]
        with transaction.atomic():
            _disable(schedule, reason)
        _tell_owner(schedule, f"Scheduled report turned off: {schedule.name or target_title(schedule)}", reason)
        return {"skipped": "cannot run"}
    zone = zone_name(row.user, tenant)
    moment = timezone.now()
    generated = f"{moment.astimezone(zoneinfo.ZoneInfo(zone)):%-d %b %Y, %H:%M} ({zone})"
    brand = tenant.brand
    title = schedule.name or facts["title"]
    scope = {
        "own": "only your own records",
        "team": "your team's records",
        "all": "the whole organisation's records",
    }
    from octopushx.tenancy.roles import scope_of

    text = "\n".join(
        [
            f"Your scheduled report from {tenant.name}: {title}.",
            "",
            f"Period: {facts['period']} (dates and weeks in {dashboards.org_zone(tenant)})",
            f"Generated: {generated}",
            f"Counts: what you may see as {Role(membership.role).label} ({scope[scope_of(membership.role)]}).",
            f"Attached: {filename}",
            "",
            f"{describe(schedule)}, your time ({zone}). Manage scheduled reports: "
            f"{settings.BASE_URL}{reverse('reports:schedules')}",
            "",
            f"— {brand}",
        ]
    )
    message = EmailMessage(f"{title}: {facts['period']}"[:200], text, tenant.from_email, [row.user.email])
    message.attach(filename, body, content_type)
    message.send()
    with transaction.atomic():
        ScheduleRecipient.objects.filter(pk=row.pk).update(last_sent_at=moment, last_error="")
        ReportSchedule.objects.filter(pk=schedule.pk).update(last_sent_at=moment, last_error="")
        audit.record(tenant, Actor.system("reports"), "report_schedule.sent", obj=schedule,
                     changes={"recipient": [None, row.user.email], "format": [None, schedule.format],
                              "slot": [None, job.payload.get("slot")], "bytes": [None, len(body)]})  # fmt: skip
    return {"sent": row.user.email, "bytes": len(body)}


def _failed(job) -> None:
    """The send failed for good (every attempt): say so on the schedule and in the audit trail."""
    row = ScheduleRecipient.objects.select_related("schedule", "tenant", "user").filter(pk=job.payload.get("recipient_id")).first()  # fmt: skip
    if row is None:
        return
    error = (job.last_error or "The email could not be sent")[:500]
    ScheduleRecipient.objects.filter(pk=row.pk).update(last_error=error)
    ReportSchedule.objects.filter(pk=row.schedule_id).update(last_error=error)
    audit.record(row.tenant, Actor.system("reports"), "report_schedule.failed", obj=row.schedule,
                 changes={"recipient": [None, row.user.email], "error": [None, error[:200]]})  # fmt: skip


jobs.each_round(fire_due)
