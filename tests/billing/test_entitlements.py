"""Entitlements in one place: features off the plan are hidden and refused; seats cap members."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from octopushx.billing import clock, services
from octopushx.core import entitlements
from octopushx.core.context import Actor
from octopushx.shield.seats import services as seats
from octopushx.tenancy.models import Membership
from octopushx.tenancy.roles import Role
from tests.billing.conftest import DAY_ONE
from tests.conftest import ApiClient, make_member, make_org

SYSTEM = Actor.system("test")
AFTER_TRIAL = DAY_ONE + timedelta(days=15)
STUDIO_REFUSAL = "Not in your plan: Studio. Upgrade to Enterprise, or add the Studio add-on under Settings → Billing."


@pytest.fixture
def on_team(customer):
    """The customer after its trial, on Team (no Studio) with 3 seats."""
    with clock.frozen(AFTER_TRIAL):
        services.change_subscription(customer, SYSTEM, plan="team", seats=3)
        yield customer


def test_billing_off_allows_every_feature_without_limits(org):
    assert all(entitlements.allows(org, f) for f in ("studio", "shield_advanced", "reports", "calls"))
    assert entitlements.seat_limit(org) is None
    for n in range(6):
        make_member(org, Role.AGENT, email=f"agent-{n}@example.test")


def test_the_trial_allows_every_feature(customer):
    assert entitlements.allows(customer, "studio") and entitlements.allows(customer, "shield_advanced")


def test_a_feature_off_the_plan_is_refused_with_the_way_to_get_it(on_team):
    assert not entitlements.allows(on_team, "studio")
    assert entitlements.allows(on_team, "reports")
    with pytest.raises(entitlements.NotInPlan) as exc:
        entitlements.require(on_team, "studio")
    assert exc.value.message == STUDIO_REFUSAL


def test_the_studio_add_on_grants_studio(on_team):
    services.change_subscription(on_team, SYSTEM, addons=["studio"])
    assert entitlements.allows(on_team, "studio")


def test_enterprise_includes_studio(on_team):
    services.change_subscription(on_team, SYSTEM, plan="enterprise")
    assert entitlements.allows(on_team, "studio")


def test_the_api_answers_403_not_in_your_plan(on_team):
    api = ApiClient(make_member(on_team, Role.OWNER))
    response = api.get("/api/v1/workflows")
    assert response.status_code == 403
    assert response.json()["detail"] == STUDIO_REFUSAL
    services.change_subscription(on_team, SYSTEM, plan="enterprise")
    assert api.get("/api/v1/workflows").status_code == 200


def test_the_studio_pages_answer_403_and_the_navigation_hides_studio(on_team):
    client = Client()
    client.force_login(make_member(on_team, Role.OWNER).user)
    home = client.get("/").content.decode()
    assert 'href="/studio/"' not in home
    response = client.get("/studio/")
    assert response.status_code == 403 and "Not in your plan: Studio" in response.content.decode()
    services.change_subscription(on_team, SYSTEM, addons=["studio"])
    assert 'href="/studio/"' in client.get("/").content.decode()
    assert client.get("/studio/").status_code == 200


def test_seats_cap_members_after_the_trial(on_team):
    for n in range(3):
        make_member(on_team, Role.AGENT, email=f"agent-{n}@example.test")
    with pytest.raises(ValidationError) as exc:
        make_member(on_team, Role.AGENT, email="fourth@example.test")
    assert exc.value.message_dict["seats"] == [
        "All 3 seats of the Team plan are taken. Remove a member, revoke an invitation or add seats under "
        "Settings → Billing to add someone."
    ]
    assert Membership.objects.filter(tenant=on_team).count() == 3


def test_extra_seats_add_on_adds_seats(on_team):
    for n in range(3):
        make_member(on_team, Role.AGENT, email=f"agent-{n}@example.test")
    services.change_subscription(on_team, SYSTEM, addons=[{"slug": "extra_seats", "quantity": 2}])
    assert entitlements.seat_limit(on_team).limit == 5
    make_member(on_team, Role.AGENT, email="fourth@example.test")


def test_the_strictest_cap_wins_between_plan_and_operator(on_team):
    seats.set_subscription(on_team, SYSTEM, plan="trial", seats=2)
    cap = entitlements.seat_limit(on_team)
    assert (cap.limit, cap.label) == (2, "Trial plan")


def test_billing_off_keeps_the_operators_seat_cap(org):
    seats.set_subscription(org, SYSTEM, plan="trial", seats=2)
    assert entitlements.seat_limit(org).limit == 2


def test_lower_packages_see_billing_only_through_the_registry():
    assert "billing.plans" in entitlements._providers and "shield.seats" in entitlements._providers


def test_the_platform_and_resellers_are_not_limited(billing_on, db):
    reseller = make_org("Resells", kind="reseller")
    assert entitlements.allows(reseller, "studio") and entitlements.seat_limit(reseller) is None


def test_shields_seat_summary_shows_the_plans_seats(on_team):
    summary = seats.seat_summary(on_team)
    assert (summary["plan_label"], summary["seats"], summary["used"]) == ("Team", 3, 0)
