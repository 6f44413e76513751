"""The line limits page: use against the caps for admins, the organisation's own caps, roles and bad input."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from octopushx.core import entitlements
from octopushx.telephony import limits
from octopushx.telephony.models import CallState, LineLimits, PhoneCall
from octopushx.tenancy.models import OrgKind
from octopushx.tenancy.roles import Role
from tests.conftest import make_org

URL = "/telephony/limits/"


def _call(org, state=CallState.IN_PROGRESS, **fields):
    return PhoneCall.objects.create(tenant=org, provider="twilio", provider_call_id=f"CA{uuid.uuid4().hex}",
                                    state=state, **fields)  # fmt: skip


def test_the_url_is_the_named_route():
    assert reverse("telephony:limits") == URL


def test_an_admin_sees_live_calls_and_minutes_against_the_caps(org, web_as):
    LineLimits.objects.create(tenant=org, max_concurrent_calls=4, monthly_minutes=100)
    _call(org)
    _call(org, CallState.COMPLETED, ended_at=timezone.now(), duration=150)
    html = web_as(Role.ADMIN).get(URL).content.decode()
    assert 'max="4" value="1"' in html  # one of four lines
    assert 'max="100" value="3"' in html  # 2.5 minutes, billed as 3
    assert 'name="max_concurrent_calls" value="4"' in html


def test_unlimited_shows_no_bar(org, web_as):
    html = web_as(Role.OWNER).get(URL).content.decode()
    assert "no limit" in html and "<progress" not in html


def test_an_admin_sets_the_caps(org, web_as):
    response = web_as(Role.ADMIN).post(URL, {"max_concurrent_calls": "2", "monthly_minutes": "500"})
    assert response.status_code == 302
    row = LineLimits.objects.get(tenant=org)
    assert (row.max_concurrent_calls, row.monthly_minutes) == (2, 500)


def test_bad_input_is_422_next_to_the_field_and_changes_nothing(org, web_as):
    LineLimits.objects.create(tenant=org, max_concurrent_calls=4)
    response = web_as(Role.ADMIN).post(URL, {"max_concurrent_calls": "two", "monthly_minutes": "10"})
    assert response.status_code == 422
    assert 'id="max_concurrent_calls-error">A whole number from 0 (unlimited)' in response.content.decode()
    assert LineLimits.objects.get(tenant=org).max_concurrent_calls == 4


@pytest.mark.parametrize("role", [Role.MANAGER, Role.AUDITOR, Role.AGENT])
def test_other_roles_are_403(org, web_as, role):
    client = web_as(role)
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"max_concurrent_calls": "1", "monthly_minutes": "1"}).status_code == 403
    assert not LineLimits.objects.filter(tenant=org).exists()


def test_an_admin_sets_only_their_own_organisations_caps(org, other_org, web_as):
    web_as(Role.ADMIN, tenant=other_org).post(URL, {"max_concurrent_calls": "1", "monthly_minutes": "1"})
    assert not LineLimits.objects.filter(tenant=org).exists()
    assert LineLimits.objects.get(tenant=other_org).max_concurrent_calls == 1


def test_a_reseller_admin_sees_and_sets_the_caps_of_all_customers(db, web_as):
    reseller = make_org("Resell Co", kind=OrgKind.RESELLER)
    customer = make_org("Customer", parent=reseller)
    _call(customer)
    client = web_as(Role.ADMIN, tenant=reseller)
    assert client.post(URL, {"max_concurrent_calls": "3", "monthly_minutes": "0"}).status_code == 302
    html = client.get(URL).content.decode()
    assert "all your customers" in html and 'max="3" value="1"' in html
    assert limits.check(customer, "inbound") is None


class _Plan:
    def allows(self, tenant, feature):
        return None

    def seat_limit(self, tenant):
        return None

    def quantity_limit(self, tenant, name):
        return entitlements.QuantityLimit(5 if name == limits.CONCURRENT else 1000, "Team plan")


def test_caps_the_plan_sets_are_shown_not_offered(org, web_as):
    entitlements.register("test.plan", _Plan())
    try:
        html = web_as(Role.ADMIN).get(URL).content.decode()
    finally:
        entitlements.unregister("test.plan")
    assert "Set by your Team plan" in html
    assert 'name="max_concurrent_calls"' not in html or 'type="hidden" name="max_concurrent_calls"' in html
    assert "Your plan sets both limits" in html
