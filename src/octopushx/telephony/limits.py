"""Line limits: concurrent calls and minutes a month, per organisation and per reseller.

``check(tenant, direction)`` answers a ``Refusal`` (what the caller hears, what the app shows) or
None. The caps come from the plan when billing provides them (``core.entitlements.quantity_limit``
on the quantities ``usage.py`` declares), else from the organisation's own ``LineLimits`` (0 =
unlimited); a reseller's caps (its ``LineLimits``) hold for all its customers together. Live calls
are ``PhoneCall`` rows not yet in a terminal state, minutes are the billed durations of calls that
ended in the period (each call rounded up to the minute, as the providers bill).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from octopushx.core import audit, entitlements, events
from octopushx.core.context import Actor
from octopushx.telephony.models import TERMINAL_STATES, LineLimits, PhoneCall
from octopushx.tenancy.models import Organization, OrgKind
from octopushx.tenancy.roles import Role

CONCURRENT = "phone_concurrent_calls"  # declared in telephony/usage.py
MINUTES = "phone_minutes"
BUSY_MESSAGE = "All our lines are busy right now. Please call again later."
MONTHLY_MESSAGE = "This line has reached its monthly limit."
# A call whose hang-up never arrived stops holding a line after this long (lost status callbacks).
STALE_LIVE_CALL = timedelta(hours=4)
MAX_CAP = 1_000_000


@dataclass(frozen=True)
class Refusal:
    """Why a call may not start: ``message`` is spoken to a caller, ``detail`` shown to a member."""

    reason: str  # "concurrent_calls" | "monthly_minutes"
    scope: str  # "organisation" | "reseller"
    message: str
    detail: str
    used: int
    cap: int


@dataclass(frozen=True)
class Meter:
    """One limit as admins see it: how much is used of the cap (0 = unlimited) and what sets it."""

    used: int
    cap: int
    source: str  # "plan" | "setting"
    label: str  # "Team plan", "your setting", "your reseller"

    @property
    def unlimited(self) -> bool:
        return self.cap == 0

    @property
    def percent(self) -> int:
        return 0 if self.unlimited else min(100, round(100 * self.used / self.cap))

    @property
    def reached(self) -> bool:
        return not self.unlimited and self.used >= self.cap


@dataclass(frozen=True)
class Standing:
    """An organisation's (or a reseller's) concurrent calls and minutes this period against the caps."""

    organisation: Organization
    concurrent: Meter
    minutes: Meter
    period: tuple[datetime, datetime]


# --- counting --------------------------------------------------------------------------------------


def reseller_of(org: Organization) -> Organization | None:
    """The reseller a customer organisation is sold through, if any."""
    return next((a for a in org.ancestors() if a.kind == OrgKind.RESELLER), None)


def _customers(reseller: Organization) -> list:
    """Every live customer organisation under ``reseller`` (at any depth)."""
    found, todo = [], [reseller]
    while todo:
        children = list(Organization.objects.filter(parent__in=todo, deleted_at__isnull=True))
        found += [c.pk for c in children if c.kind == OrgKind.CUSTOMER]
        todo = [c for c in children if c.kind == OrgKind.RESELLER]
    return found


def _scope(org: Organization) -> list:
    return _customers(org) if org.kind == OrgKind.RESELLER else [org.pk]


def live_calls(org: Organization, now: datetime | None = None, exclude=None) -> int:
    """Calls on the line now: for a customer its own, for a reseller all its customers'."""
    now = now or timezone.now()
    # Across the reseller's customers by design: a count, no row leaves its tenant.
    live = PhoneCall.objects.filter(tenant_id__in=_scope(org), created_at__gte=now - STALE_LIVE_CALL)
    live = live.exclude(state__in=TERMINAL_STATES)
    if exclude is not None:
        live = live.exclude(pk=exclude.pk)
    return live.count()


def month_of(org: Organization, now: datetime) -> tuple[datetime, datetime]:
    """The calendar month around ``now`` in the organisation's time zone."""
    zone = _zone(org)
    local = now.astimezone(zone)
    start = datetime(local.year, local.month, 1, tzinfo=zone)
    end = datetime(local.year + local.month // 12, local.month % 12 + 1, 1, tzinfo=zone)
    return start, end


def _zone(org: Organization) -> ZoneInfo:
    try:
        return ZoneInfo(org.time_zone or "UTC")
    except (ValueError, KeyError):
        return ZoneInfo("UTC")


def minutes_used(org: Organization, period: tuple[datetime, datetime]) -> int:
    """Minutes of calls that ended in ``period`` (each call rounded up to the minute)."""
    ended = PhoneCall.objects.filter(
        tenant_id__in=_scope(org), ended_at__gte=period[0], ended_at__lt=period[1], duration__gt=0
    )
    return ended.aggregate(total=Sum((F("duration") + 59) / 60))["total"] or 0


# --- caps ------------------------------------------------------------------------------------------


def settings_of(org: Organization) -> LineLimits:
    """The organisation's own caps (an unsaved, unlimited row until an admin sets them)."""
    return LineLimits.objects.for_tenant(org).first() or LineLimits(tenant=org)


def _period(org: Organization, limit, now: datetime) -> tuple[datetime, datetime]:
    if limit is not None and limit.period:
        start, end = limit.period
        if isinstance(start, date) and not isinstance(start, datetime):
            zone = _zone(org)
            start = datetime.combine(start, time.min, tzinfo=zone)
            end = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)  # billing's end day is included
        return start, end
    return month_of(org, now)


def standing(org: Organization, now: datetime | None = None, exclude=None) -> Standing:
    """Use against caps now; a plan's cap (billing) wins over the organisation's own setting."""
    now = now or timezone.now()
    own = settings_of(org)
    plan_calls = entitlements.quantity_limit(org, CONCURRENT) if org.kind == OrgKind.CUSTOMER else None
    plan_minutes = entitlements.quantity_limit(org, MINUTES) if org.kind == OrgKind.CUSTOMER else None
    period = _period(org, plan_minutes, now)
    setting = "your reseller's setting" if org.kind == OrgKind.RESELLER else "your setting"

    def meter(used: int, plan, own_cap: int) -> Meter:
        if plan is not None:
            return Meter(used, plan.limit, "plan", plan.label)
        return Meter(used, own_cap, "setting", setting)

    return Standing(
        organisation=org,
        concurrent=meter(live_calls(org, now, exclude), plan_calls, own.max_concurrent_calls),
        minutes=meter(minutes_used(org, period), plan_minutes, own.monthly_minutes),
        period=period,
    )


# --- the check ---------------------------------------------------------------------------------------


def _refusal(state: Standing, scope: str, direction: str) -> Refusal | None:
    whose = "your reseller's" if scope == "reseller" else "your organisation's"
    if state.concurrent.reached:
        cap = state.concurrent.cap
        return Refusal(
            "concurrent_calls", scope, BUSY_MESSAGE,
            f"All {cap} line{'s' if cap != 1 else ''} of {whose} limit are in use ({state.concurrent.label}). "
            f"Try again when a call ends.", state.concurrent.used, cap,
        )  # fmt: skip
    if state.minutes.reached:
        resets = state.period[1].astimezone(_zone(state.organisation))
        return Refusal(
            "monthly_minutes", scope, MONTHLY_MESSAGE,
            f"{whose.capitalize()} {state.minutes.cap:,} phone minutes ({state.minutes.label}) are used up "
            f"until {resets:%-d %B}; no {direction} calls until then.", state.minutes.used, state.minutes.cap,
        )  # fmt: skip
    return None


def check(tenant: Organization, direction: str = "inbound", *, call: PhoneCall | None = None) -> Refusal | None:
    """Whether a new ``direction`` call may start now for ``tenant``: None, or the ``Refusal``.

    ``call`` is the new call's own row when it is already logged (it does not count against itself).
    The organisation's caps are checked first, then its reseller's over all the reseller's customers.
    """
    now = timezone.now()
    refusal = _refusal(standing(tenant, now, exclude=call), "organisation", direction)
    if refusal is not None:
        return refusal
    reseller = reseller_of(tenant)
    if reseller is None:
        return None
    return _refusal(standing(reseller, now, exclude=call), "reseller", direction)


def ensure_can_call(tenant: Organization, direction: str = "outbound", *, call: PhoneCall | None = None) -> None:
    """Click-to-call's gate: ``ValidationError`` (a 422 with the message) when a limit is reached."""
    refusal = check(tenant, direction, call=call)
    if refusal is not None:
        raise ValidationError({"limit": [refusal.detail]})


# --- the organisation's own caps -------------------------------------------------------------------------


def can_set(membership) -> bool:
    return membership is not None and membership.role in (Role.OWNER, Role.ADMIN)


def _cap(value, field: str, errors: dict) -> int:
    text = str(value if value is not None else "").strip() or "0"
    if not text.isdigit() or int(text) > MAX_CAP:
        errors.setdefault(field, []).append(f"A whole number from 0 (unlimited) to {MAX_CAP:,}")
        return 0
    return int(text)


def set_limits(org: Organization, actor: Actor, *, max_concurrent_calls, monthly_minutes) -> LineLimits:
    """Set the organisation's (or reseller's) own caps; ``ValidationError`` naming each bad field."""
    if actor.role is not None and actor.role not in (Role.OWNER, Role.ADMIN):
        raise PermissionDenied("Only owners and admins set the line limits")
    errors: dict[str, list[str]] = {}
    calls = _cap(max_concurrent_calls, "max_concurrent_calls", errors)
    minutes = _cap(monthly_minutes, "monthly_minutes", errors)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        row = LineLimits.objects.for_tenant(org).select_for_update().first() or LineLimits(tenant=org)
        before = (row.max_concurrent_calls, row.monthly_minutes) if row.pk else (None, None)
        if before == (calls, minutes):
            return row
        row.max_concurrent_calls, row.monthly_minutes, row.updated_by = calls, minutes, actor.user
        row.save()
        changes = {"max_concurrent_calls": [before[0], calls], "monthly_minutes": [before[1], minutes]}
        audit.record(org, actor, "line_limits.changed", obj=row, changes=changes)
        events.emit(org, "line_limits.changed", {"max_concurrent_calls": calls, "monthly_minutes": minutes})
    return row
