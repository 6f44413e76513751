"""Activity monitoring: security-relevant audit entries by category, a chart over time,
and the alerts raised by the detectors (in-app and by email), acknowledged with a note."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from octopushx.core import audit, events, jobs, links
from octopushx.core import text as text_rules
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry
from octopushx.shield.monitoring.models import SecurityAlert
from octopushx.tenancy.models import Membership
from octopushx.tenancy.roles import MATRIX, Perm, has_perm

NOTE_MAX = 2000
MAX_DAYS = 366

# Category -> the audit entries it covers.
CATEGORIES: dict[str, tuple[str, Q]] = {
    "sign_ins": ("Sign-ins and sign-outs", Q(action__in=["auth.sign_in", "auth.sign_out"])),
    "failures": ("Failed sign-ins", Q(action="auth.sign_in_failed")),
    "lockouts": ("Lock-outs", Q(action__startswith="auth.locked") | Q(action="auth.account_locked")),
    "sessions": ("Sessions", Q(action__startswith="session.")),
    "two_factor": ("Two-factor changes", Q(action__startswith="2fa.")),
    "roles": ("Members and roles", Q(action__startswith="member.") | Q(action__startswith="invitation.")),
    "tokens": ("API tokens", Q(action__startswith="token.")),
    "token_use": ("Changes made with a token", Q(actor_token__isnull=False)),
    "exports": ("Exports and downloads", Q(action__contains="export") | Q(action__contains="download")),
    "privacy": ("Data-subject requests", Q(action__startswith="privacy.")),
    "alerts": ("Security alerts", Q(action__startswith="security.")),
}


@dataclass
class ActivityFilter:
    category: str = ""
    actor: str = ""
    since: date | None = None
    until: date | None = None

    @classmethod
    def from_query(cls, query) -> tuple[ActivityFilter, dict[str, list[str]]]:
        errors: dict[str, list[str]] = {}
        category = query.get("category", "")
        if category and category not in CATEGORIES:
            errors["category"] = [f"Choose one of: {', '.join(CATEGORIES)}"]
            category = ""
        parsed: dict[str, date | None] = {}
        for field in ("since", "until"):
            raw = query.get(field, "")
            try:
                parsed[field] = date.fromisoformat(raw) if raw else None
            except ValueError:
                errors[field] = ["Use a date like 2026-01-31"]
                parsed[field] = None
        today = timezone.now().date()
        until = parsed["until"] or today
        since = parsed["since"] or until - timedelta(days=29)
        if since > until:
            errors["since"] = ["The start is after the end"]
            since = until - timedelta(days=29)
        if (until - since).days >= MAX_DAYS:
            since = until - timedelta(days=MAX_DAYS - 1)
        return cls(category, query.get("actor", "").strip()[:200], since, until), errors


def _security_q() -> Q:
    combined = Q()
    for _label, q in CATEGORIES.values():
        combined |= q
    return combined


def activity(tenant, filters: ActivityFilter) -> QuerySet[AuditEntry]:
    """Security-relevant audit entries of the tenant, newest first."""
    qs = AuditEntry.objects.filter(tenant=tenant).select_related("personal")
    qs = qs.filter(CATEGORIES[filters.category][1] if filters.category else _security_q())
    if filters.actor:
        qs = qs.filter(personal__actor_label__icontains=filters.actor)
    if filters.since:
        qs = qs.filter(at__date__gte=filters.since)
    if filters.until:
        qs = qs.filter(at__lt=filters.until + timedelta(days=1))
    return qs.order_by("-seq")


def counts_by_category(tenant, filters: ActivityFilter) -> list[tuple[str, str, int]]:
    rows = []
    for key, (label, _q) in CATEGORIES.items():
        scoped = ActivityFilter(key, filters.actor, filters.since, filters.until)
        rows.append((key, label, activity(tenant, scoped).count()))
    return rows


def daily_counts(tenant, filters: ActivityFilter) -> list[tuple[date, int]]:
    per_day = dict(
        activity(tenant, filters)
        .order_by()
        .annotate(day=TruncDate("at"))
        .values_list("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    days = (filters.until - filters.since).days + 1
    return [(filters.since + timedelta(days=i), per_day.get(filters.since + timedelta(days=i), 0)) for i in range(days)]


def chart_data(series: list[tuple[date, int]]) -> dict:
    """The events-per-day bar chart for static/octopushx/charts.js (Apache ECharts), as JSON-ready data."""
    return {
        "type": "bar",
        "name": "Events",
        "labels": [day.isoformat() for day, _n in series],
        "values": [n for _day, n in series],
    }


def mark_first_seen(entries) -> None:
    """Annotate sign-ins with ``country``, ``device`` and ``first_seen``: "country" when the user had
    never signed in from that country before, else "device" for a browser and system never used
    before, else "network" for a new network. Among each user's last 500 sign-ins before this one;
    one query per user on the page."""
    from octopushx.shield.monitoring.detectors import network
    from octopushx.shield.monitoring.geo import country_of

    entries = list(entries)
    sign_ins = [e for e in entries if e.action == "auth.sign_in" and e.actor_user_id is not None]
    history: dict = {}  # (tenant, user) -> [(seq, ip, changes)], newest first
    for key in {(e.tenant_id, e.actor_user_id) for e in sign_ins}:
        mine = [e for e in sign_ins if (e.tenant_id, e.actor_user_id) == key]
        history[key] = list(
            AuditEntry.objects.filter(
                tenant_id=key[0], action="auth.sign_in", actor_user_id=key[1], seq__lt=max(e.seq for e in mine)
            )
            .order_by("-seq")
            .values_list("seq", "personal__ip", "personal__changes")[: 500 + len(mine)]
        )
    for entry in entries:
        entry.country, entry.device, entry.first_seen = country_of(entry.personal.ip), _device(entry.personal), ""
        here = network(entry.personal.ip) if entry in sign_ins else None
        if here is None:
            continue
        earlier = [row for row in history[(entry.tenant_id, entry.actor_user_id)] if row[0] < entry.seq][:500]
        earlier_ips = [ip for _seq, ip, _changes in earlier]
        earlier_devices = {((changes or {}).get("device") or [None, ""])[1] for _seq, _ip, changes in earlier}
        if earlier and entry.country and entry.country not in {country_of(ip) for ip in earlier_ips}:
            entry.first_seen = "country"
        elif earlier and entry.device and entry.device not in earlier_devices:
            entry.first_seen = "device"
        elif all(network(ip) != here for ip in earlier_ips):
            entry.first_seen = "network"


def _device(personal) -> str:
    return ((personal.changes or {}).get("device") or [None, ""])[1] if personal else ""


# --- alerts ---------------------------------------------------------------------------------


def _recipients(tenant) -> list[str]:
    roles = [r.value for r in MATRIX[Perm.AUDIT]]
    return list(
        Membership.objects.filter(tenant=tenant, role__in=roles, user__is_active=True).values_list(
            "user__email", flat=True
        )
    )


def raise_alert(
    tenant, *, kind: str, dedupe_key: str, summary: str, details: dict, subject_user=None, audit_seq=None
) -> SecurityAlert | None:
    """Create an alert once per dedupe key; auditing, the event and the emails follow in a job.

    Detectors run while the audit entry that triggered them is still being appended, so the
    alert's own audit entry cannot be written in the same breath.
    """
    if SecurityAlert.objects.for_tenant(tenant).filter(dedupe_key=dedupe_key).exists():
        return None
    alert = SecurityAlert.objects.create(
        tenant=tenant,
        kind=kind,
        dedupe_key=dedupe_key[:200],
        summary=summary[:300],
        details=details,
        subject_user=subject_user,
        audit_seq=audit_seq,
    )
    jobs.submit(
        "shield.alert_raised",
        tenant=tenant,
        payload={"alert_id": str(alert.pk)},
        dedupe_key=f"shield.alert_raised:{alert.pk}",
    )
    return alert


@jobs.handler("shield.alert_raised")
def announce_alert(job) -> dict:
    """Audit the alert, emit it, and email the tenant's owners, admins and auditors (once)."""
    alert = SecurityAlert.objects.filter(pk=job.payload["alert_id"]).select_related("tenant").first()
    if alert is None:
        return {"skipped": "alert no longer exists"}
    tenant = alert.tenant
    recipients = _recipients(tenant)
    announced = AuditEntry.objects.filter(
        tenant=tenant, action="security.alert_raised", object_id=str(alert.pk)
    ).exists()
    if not announced:  # a retry after a failed email does not audit twice
        with transaction.atomic():
            audit.record(
                tenant, Actor.system("security monitor"), "security.alert_raised", obj=alert,
                changes={"kind": [None, alert.kind], "summary": [None, alert.summary]},
            )  # fmt: skip
            events.emit(tenant, "security.alert_raised", {"alert_id": str(alert.pk), "kind": alert.kind})
    if recipients:
        subject = f"[{tenant.brand}] Security alert in {tenant.name}: {alert.get_kind_display()}"
        body = f"{alert.summary}\n\nReview and acknowledge it: {links.absolute_url('/shield/security/')}\n"
        send_mail(subject, body, tenant.from_email, recipients)
    return {"emailed": len(recipients)}


def open_alerts(tenant) -> QuerySet[SecurityAlert]:
    return SecurityAlert.objects.for_tenant(tenant).filter(acknowledged_at__isnull=True)


@transaction.atomic
def acknowledge(tenant, actor: Actor, alert: SecurityAlert, note: str) -> SecurityAlert:
    """Close an alert with a note saying what was found or done."""
    if actor.user is not None and not has_perm(actor.role, Perm.AUDIT):
        raise PermissionDenied("Only owners, admins and auditors acknowledge alerts")
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": ["Say what you checked or did"]})
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": [f"At most {NOTE_MAX} characters"]})
    alert = SecurityAlert.objects.select_for_update().get(pk=alert.pk)
    if alert.acknowledged_at is not None:
        raise ValidationError({"note": ["This alert is already acknowledged"]})
    alert.acknowledged_at = timezone.now()
    alert.acknowledged_by = actor.user
    alert.acknowledgement_note = note
    alert.save(update_fields=["acknowledged_at", "acknowledged_by", "acknowledgement_note", "updated_at"])
    audit.record(tenant, actor, "security.alert_acknowledged", obj=alert, changes={"note": [None, note]})
    return alert


# query parameter -> lookup, for the alerts a report's drill-down lists (kind, acknowledged, when raised)
ALERT_MOMENTS = {
    "raised_after": ("created_at__gte", "Raised from"),
    "raised_before": ("created_at__lt", "Raised before"),
}


def narrow_alerts(alerts, params, errors: dict) -> tuple:
    """Alerts narrowed by ``alert_kind``, ``acknowledged`` (true/false) and ``raised_after``/``raised_before``
    (a date or an ISO date-time); returns the queryset and the narrowing in words. Bad values go to ``errors``."""

    from octopushx.shield.monitoring.models import AlertKind

    shown: list[str] = []
    kind = (params.get("alert_kind") or "").strip()
    if kind:
        if kind in AlertKind.values:
            alerts = alerts.filter(kind=kind)
            shown.append(f"Kind: {AlertKind(kind).label}")
        else:
            errors["alert_kind"] = [f"One of: {', '.join(AlertKind.values)}"]
    acknowledged = (params.get("acknowledged") or "").strip().lower()
    if acknowledged in ("true", "false"):
        alerts = alerts.filter(acknowledged_at__isnull=acknowledged == "false")
        shown.append("Acknowledged" if acknowledged == "true" else "Not acknowledged")
    elif acknowledged:
        errors["acknowledged"] = ["true or false"]
    for name, (lookup, label) in ALERT_MOMENTS.items():
        text = (params.get(name) or "").strip()
        if not text:
            continue
        moment = text_rules.moment(text)
        if moment is None:
            errors[name] = ["Use a date like 2026-01-31"]
            continue
        alerts = alerts.filter(**{lookup: moment})
        shown.append(f"{label} {timezone.localtime(moment):%-d %b %Y %H:%M}")
    return alerts, shown
