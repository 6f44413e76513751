"""Line limits: live calls and minutes this month against the caps, per organisation and per reseller."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from octopushx.core import entitlements
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry
from octopushx.telephony import limits
from octopushx.telephony.models import CallState, LineLimits, PhoneCall
from octopushx.tenancy.models import OrgKind
from octopushx.tenancy.roles import Role
from tests.conftest import make_org

SYSTEM = Actor.system("test")


def _call(org, state=CallState.IN_PROGRESS, *, ended_at=None, duration=0, created_at=None) -> PhoneCall:
    return PhoneCall.objects.create(
        tenant=org, provider="twilio", provider_call_id=f"CA{uuid.uuid4().hex}", state=state,
        ended_at=ended_at, duration=duration, created_at=created_at or timezone.now(),
    )  # fmt: skip


def _caps(org, calls=0, minutes=0) -> None:
    LineLimits.objects.update_or_create(
        tenant=org, defaults={"max_concurrent_calls": calls, "monthly_minutes": minutes}
    )


@pytest.fixture
def reseller(db):
    return make_org("Resell Co", kind=OrgKind.RESELLER)


@pytest.fixture
def sold(reseller):
    """Two customers of the reseller."""
    return make_org("First Customer", parent=reseller), make_org("Second Customer", parent=reseller)


# --- concurrent calls -----------------------------------------------------------------------------


def test_no_caps_means_unlimited(org):
    for _ in range(5):
        _call(org)
    assert limits.check(org, "inbound") is None
    _caps(org, calls=0, minutes=0)
    assert limits.check(org, "inbound") is None


def test_the_organisations_concurrent_cap_refuses_the_next_call(org):
    _caps(org, calls=2)
    _call(org)
    assert limits.check(org, "inbound") is None
    _call(org, CallState.RINGING)
    refusal = limits.check(org, "inbound")
    assert refusal is not None
    assert (refusal.reason, refusal.scope, refusal.used, refusal.cap) == ("concurrent_calls", "organisation", 2, 2)
    assert refusal.message == "All our lines are busy right now. Please call again later."


def test_ended_calls_and_stale_live_calls_hold_no_line(org):
    _caps(org, calls=1)
    for state in (CallState.COMPLETED, CallState.NO_ANSWER, CallState.FAILED, CallState.BUSY, CallState.CANCELED):
        _call(org, state)
    _call(org, created_at=timezone.now() - limits.STALE_LIVE_CALL - timedelta(minutes=1))  # its hang-up was lost
    assert limits.check(org, "inbound") is None


def test_the_new_calls_own_row_does_not_count_against_itself(org):
    _caps(org, calls=1)
    new = _call(org, CallState.RINGING)
    assert limits.check(org, "inbound", call=new) is None
    assert limits.check(org, "inbound") is not None


def test_another_organisations_calls_do_not_count(org, other_org):
    _caps(org, calls=1)
    _call(other_org)
    assert limits.check(org, "inbound") is None


def test_the_resellers_cap_counts_all_its_customers(reseller, sold):
    first, second = sold
    _caps(reseller, calls=2)
    _call(first)
    assert limits.check(second, "outbound") is None
    _call(second)
    refusal = limits.check(first, "inbound")
    assert (refusal.reason, refusal.scope, refusal.used) == ("concurrent_calls", "reseller", 2)
    assert "your reseller's limit" in refusal.detail


def test_a_customer_outside_the_reseller_is_not_counted(reseller, sold, org):
    _caps(reseller, calls=1)
    _call(org)  # a direct customer of the platform
    assert limits.check(sold[0], "inbound") is None
    assert limits.reseller_of(org) is None


# --- minutes a month ------------------------------------------------------------------------------


def test_minutes_count_calls_that_ended_this_month_rounded_up_per_call(org):
    org.time_zone = "UTC"
    org.save(update_fields=["time_zone"])
    now = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    _call(org, CallState.COMPLETED, ended_at=datetime(2026, 12, 1, 0, 0, 30, tzinfo=UTC), duration=61)  # 2 min
    _call(org, CallState.COMPLETED, ended_at=datetime(2026, 12, 6, 9, tzinfo=UTC), duration=120)  # 2 min
    _call(org, CallState.COMPLETED, ended_at=datetime(2026, 11, 30, 23, 59, tzinfo=UTC), duration=600)  # November
    _call(org, CallState.COMPLETED, ended_at=datetime(2027, 1, 1, 0, 0, tzinfo=UTC), duration=600)  # January
    assert limits.minutes_used(org, limits.month_of(org, now)) == 4


def test_the_month_follows_the_organisations_time_zone(org):
    org.time_zone = "America/New_York"
    org.save(update_fields=["time_zone"])
    now = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    # 1 December 02:00 UTC is still 30 November in New York: last month's.
    _call(org, CallState.COMPLETED, ended_at=datetime(2026, 12, 1, 2, 0, tzinfo=UTC), duration=300)
    _call(org, CallState.COMPLETED, ended_at=datetime(2026, 12, 1, 6, 0, tzinfo=UTC), duration=60)
    assert limits.minutes_used(org, limits.month_of(org, now)) == 1


def test_the_monthly_cap_refuses_once_reached(org):
    _caps(org, minutes=10)
    _call(org, CallState.COMPLETED, ended_at=timezone.now(), duration=9 * 60)
    assert limits.check(org, "inbound") is None
    _call(org, CallState.COMPLETED, ended_at=timezone.now(), duration=30)
    refusal = limits.check(org, "inbound")
    assert (refusal.reason, refusal.used, refusal.cap) == ("monthly_minutes", 10, 10)
    assert refusal.message == "This line has reached its monthly limit."


def test_the_resellers_monthly_cap_sums_its_customers(reseller, sold):
    _caps(reseller, minutes=5)
    _call(sold[0], CallState.COMPLETED, ended_at=timezone.now(), duration=180)
    _call(sold[1], CallState.COMPLETED, ended_at=timezone.now(), duration=120)
    refusal = limits.check(sold[1], "inbound")
    assert (refusal.reason, refusal.scope, refusal.used) == ("monthly_minutes", "reseller", 5)


# --- caps from the plan ---------------------------------------------------------------------------


class _Plan:
    """A billing-like provider: the plan caps the line."""

    def __init__(self, calls, minutes, period=None):
        self.caps, self.period = {limits.CONCURRENT: calls, limits.MINUTES: minutes}, period

    def allows(self, tenant, feature):
        return None

    def seat_limit(self, tenant):
        return None

    def quantity_limit(self, tenant, name):
        period = self.period if name == limits.MINUTES else None
        return entitlements.QuantityLimit(self.caps[name], "Team plan", period)


@pytest.fixture
def plan():
    def install(calls, minutes, period=None):
        entitlements.register("test.plan", _Plan(calls, minutes, period))

    yield install
    entitlements.unregister("test.plan")


def test_the_plans_caps_win_over_the_setting(org, plan):
    _caps(org, calls=10, minutes=1000)
    plan(calls=1, minutes=1000)
    _call(org)
    refusal = limits.check(org, "inbound")
    assert refusal is not None and refusal.cap == 1 and "Team plan" in refusal.detail
    state = limits.standing(org)
    assert (state.concurrent.source, state.concurrent.label) == ("plan", "Team plan")


def test_the_plans_minutes_count_in_the_billing_period(org, plan):
    today = timezone.now().date()
    plan(calls=0, minutes=3, period=(today - timedelta(days=3), today))
    _call(org, CallState.COMPLETED, ended_at=timezone.now() - timedelta(days=5), duration=600)  # before the period
    _call(org, CallState.COMPLETED, ended_at=timezone.now() - timedelta(hours=1), duration=120)
    assert limits.check(org, "inbound") is None
    _call(org, CallState.COMPLETED, ended_at=timezone.now() - timedelta(minutes=5), duration=60)
    assert limits.check(org, "inbound").reason == "monthly_minutes"


def test_billing_caps_by_plan_and_seats(db, settings):
    from octopushx.billing import clock, services

    settings.BILLING_ENABLED = True
    with clock.frozen(datetime(2026, 3, 2).date()):
        customer = make_org("Billed Ltd")
    with clock.frozen(datetime(2026, 3, 20).date()):
        services.change_subscription(customer, SYSTEM, plan="team", seats=3)
        calls = entitlements.quantity_limit(customer, limits.CONCURRENT)
        minutes = entitlements.quantity_limit(customer, limits.MINUTES)
    assert (calls.limit, calls.label, calls.period) == (3, "Team plan", None)
    assert minutes.limit == 4500 and minutes.period is not None


def test_without_billing_no_plan_caps(org):
    assert entitlements.quantity_limit(org, limits.CONCURRENT) is None


# --- click-to-call and the setting ----------------------------------------------------------------


def test_click_to_call_over_a_limit_is_a_validation_error_with_the_reason(org):
    _caps(org, calls=1)
    _call(org)
    with pytest.raises(ValidationError) as exc:
        limits.ensure_can_call(org)
    assert "All 1 line of your organisation's limit are in use" in exc.value.message_dict["limit"][0]


def test_setting_the_caps_is_audited_and_checks_each_field(org):
    row = limits.set_limits(org, Actor(role=Role.ADMIN), max_concurrent_calls="3", monthly_minutes="")
    assert (row.max_concurrent_calls, row.monthly_minutes) == (3, 0)
    with pytest.raises(ValidationError) as exc:
        limits.set_limits(org, Actor(role=Role.ADMIN), max_concurrent_calls="-1", monthly_minutes="lots")
    assert set(exc.value.message_dict) == {"max_concurrent_calls", "monthly_minutes"}
    assert LineLimits.objects.get(tenant=org).max_concurrent_calls == 3
    assert AuditEntry.objects.filter(tenant=org, action="line_limits.changed").count() == 1
    with pytest.raises(PermissionDenied):
        limits.set_limits(org, Actor(role=Role.MANAGER), max_concurrent_calls="1", monthly_minutes="1")
