"""/api/v1/billing: the catalogue (everyone reads, staff publish) and the caller's own subscription."""

from __future__ import annotations

from datetime import timedelta

import pytest

from octopushx.billing import clock, services
from octopushx.billing.models import CatalogueVersion, Subscription, SubscriptionChange
from octopushx.core.models import AuditEntry
from octopushx.tenancy.roles import Role
from tests.billing.conftest import DAY_ONE
from tests.conftest import ApiClient, make_member, make_org


@pytest.fixture
def owner_api(customer):
    return ApiClient(make_member(customer, Role.OWNER))


def _state(tenant) -> tuple:
    subscription = Subscription.objects.get(tenant=tenant)
    return (
        services.state_of(subscription),
        SubscriptionChange.objects.filter(tenant=tenant).count(),
        AuditEntry.objects.filter(tenant=tenant, action="subscription.changed").count(),
    )


# --- billing off ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/v1/billing/plans", None),
        ("get", "/api/v1/billing/addons", None),
        ("get", "/api/v1/billing/subscription", None),
        ("patch", "/api/v1/billing/subscription", {"seats": 3}),
    ],
)
def test_with_billing_off_the_billing_api_is_404(api_as, method, path, body):
    response = getattr(api_as(Role.OWNER), method)(path, body)
    assert response.status_code == 404
    assert response.json()["detail"] == "Not found"


# --- the catalogue --------------------------------------------------------------------------------


def test_everyone_reads_the_plans(customer):
    response = ApiClient(make_member(customer, Role.AUDITOR)).get("/api/v1/billing/plans")
    assert response.status_code == 200
    data = response.json()
    assert data["catalogue_version"] == 1
    team = next(p for p in data["items"] if p["slug"] == "team")
    assert team["prices"] == {"GBP": {"month": "35.00", "year": "350.00"}}
    assert team["included_minutes_per_seat"] == 500
    assert {"key": "reports", "name": "Reports"} in team["features"]


def test_everyone_reads_the_addons(customer):
    data = ApiClient(make_member(customer, Role.AGENT)).get("/api/v1/billing/addons").json()
    studio = next(a for a in data["items"] if a["slug"] == "studio")
    assert studio["prices"]["GBP"]["month"] == "10.00" and studio["pricing"] == "per_seat"


def test_staff_change_a_price_as_a_new_version(staff, billing_on):
    response = staff.patch("/api/v1/billing/plans", {"slug": "starter", "prices": {"GBP": {"month": "17.50"}}})
    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["catalogue_version"] == 2
    starter = next(p for p in data["items"] if p["slug"] == "starter")
    assert starter["prices"]["GBP"] == {"month": "17.50", "year": "175.00"}


def test_staff_add_a_plan_and_an_addon(staff, billing_on):
    plan = {"slug": "solo", "name": "Solo", "included_minutes_per_seat": 50, "prices": {"GBP": {"month": "9"}}}
    assert staff.post("/api/v1/billing/plans", plan).status_code == 201
    addon = {"slug": "sms", "name": "SMS pack", "prices": {"GBP": {"month": "5"}}, "max_quantity": 10}
    response = staff.post("/api/v1/billing/addons", addon)
    assert response.status_code == 201 and response.json()["catalogue_version"] == 3


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.AUDITOR])
def test_customers_cannot_change_the_catalogue(customer, role):
    api = ApiClient(make_member(customer, role))
    assert api.patch("/api/v1/billing/plans", {"slug": "team", "name": "Cheap"}).status_code == 403
    body = {"slug": "free", "name": "Free", "included_minutes_per_seat": 1, "prices": {"GBP": {"month": "0"}}}
    assert api.post("/api/v1/billing/plans", body).status_code == 403
    assert api.patch("/api/v1/billing/addons", {"slug": "studio", "name": "Cheap"}).status_code == 403
    assert CatalogueVersion.objects.count() == 1


def test_a_bad_price_is_422_and_publishes_nothing(staff, billing_on):
    response = staff.patch("/api/v1/billing/plans", {"slug": "team", "prices": {"GBP": {"month": "3.999"}}})
    assert response.status_code == 422
    assert response.json()["errors"] == {"team.prices.GBP": ["GBP amounts have 2 decimal places at most"]}
    assert CatalogueVersion.objects.count() == 1


# --- the subscription -----------------------------------------------------------------------------


def test_get_subscription_shows_the_trial(owner_api):
    data = owner_api.get("/api/v1/billing/subscription").json()
    assert data["status"] == "trialing" and data["plan"] == {"slug": "team", "name": "Team"}
    assert data["trial_end"] == (DAY_ONE + timedelta(days=14)).isoformat()
    assert data["seats_used"] == 1 and data["seat_capacity"] is None
    assert data["seat_price"] == "35.00" and data["currency"] == "GBP"
    assert "studio" in data["features"]


def test_owner_changes_plan_seats_interval_and_addons(owner_api, customer):
    body = {
        "plan": "starter",
        "seats": 5,
        "interval": "year",
        "addons": ["studio", {"slug": "minutes_1000", "quantity": 2}],
    }
    response = owner_api.patch("/api/v1/billing/subscription", body)
    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["plan"]["slug"] == "starter" and data["seats"] == 5 and data["interval"] == "year"
    assert data["seat_price"] == "150.00"
    assert {(a["slug"], a["quantity"]) for a in data["addons"]} == {("studio", 1), ("minutes_1000", 2)}
    entry = AuditEntry.objects.get(tenant=customer, action="subscription.changed")
    assert entry.personal.changes["plan"] == ["team", "starter"]
    change = SubscriptionChange.objects.filter(tenant=customer, kind="changed").get()
    assert change.state["addons"] == {"studio": 1, "minutes_1000": 2} and change.effective_on == DAY_ONE


def test_an_addon_without_a_quantity_is_one_unit(owner_api):
    response = owner_api.patch("/api/v1/billing/subscription", {"addons": [{"slug": "minutes_1000"}]})
    assert response.status_code == 200 and response.json()["addons"][0]["quantity"] == 1


def test_admin_may_change_the_subscription(customer):
    api = ApiClient(make_member(customer, Role.ADMIN))
    assert api.patch("/api/v1/billing/subscription", {"seats": 4}).status_code == 200


@pytest.mark.parametrize("role", [Role.MANAGER, Role.AGENT, Role.AUDITOR])
def test_other_roles_read_but_cannot_change(customer, role):
    api = ApiClient(make_member(customer, role))
    assert api.get("/api/v1/billing/subscription").status_code == 200
    before = _state(customer)
    assert api.patch("/api/v1/billing/subscription", {"seats": 9}).status_code == 403
    assert _state(customer) == before


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"seats": -1}, "seats", "Seats must be a whole number of at least 1"),
        ({"seats": 0}, "seats", "Seats must be a whole number of at least 1"),
        ({"plan": "gold"}, "plan", "Unknown plan 'gold'; choose one of: starter, team, enterprise"),
        ({"interval": "week"}, "interval", "Choose month or year, not 'week'"),
        ({"addons": ["jetpack"]}, "addons", "Unknown add-on 'jetpack'"),
        ({"addons": ["studio", "studio"]}, "addons", "Studio is listed twice"),
        ({"plan": "enterprise", "addons": ["studio"]}, "addons", "Studio is included in the Enterprise plan"),
        ({"addons": [{"slug": "studio", "quantity": 2}]}, "addons", "Studio: a quantity from 1 to 1"),
        ({"seats": "many"}, "seats", ""),
    ],
)
def test_bad_input_is_422_with_a_clear_message_and_changes_nothing(owner_api, customer, body, field, message):
    before = _state(customer)
    response = owner_api.patch("/api/v1/billing/subscription", body)
    assert response.status_code == 422, response.json()
    errors = response.json()["errors"]
    assert field in errors and message in " ".join(errors[field]), errors
    assert _state(customer) == before


def test_seats_below_the_people_in_are_refused(owner_api, customer):
    for n in range(3):
        make_member(customer, Role.AGENT, email=f"agent-{n}@example.test")
    before = _state(customer)
    response = owner_api.patch("/api/v1/billing/subscription", {"seats": 2})
    assert response.status_code == 422
    assert response.json()["errors"]["seats"] == [
        "4 seats are in use (4 members and 0 open invitations): remove members or revoke invitations first, "
        "or keep at least 4 seats"
    ]
    assert _state(customer) == before


def test_a_bad_field_refuses_the_good_ones_too(owner_api, customer):
    before = _state(customer)
    response = owner_api.patch("/api/v1/billing/subscription", {"plan": "enterprise", "seats": -4})
    assert response.status_code == 422 and set(response.json()["errors"]) == {"seats"}
    assert _state(customer) == before


def test_each_organisation_sees_and_changes_only_its_own(owner_api, customer):
    other = make_org("Other Billed")
    other_api = ApiClient(make_member(other, Role.OWNER))
    other_before = _state(other)
    owner_api.patch("/api/v1/billing/subscription", {"plan": "starter", "seats": 2})
    assert _state(other) == other_before
    assert other_api.get("/api/v1/billing/subscription").json()["plan"]["slug"] == "team"


def test_a_token_of_another_organisation_changes_that_one_only(customer):
    """The same person in two organisations: the token's organisation is the one changed."""
    other = make_org("Other Billed")
    membership = make_member(customer, Role.OWNER, email="both@example.test")
    make_member(other, Role.AGENT, email="both@example.test")
    other_agent_token = ApiClient(make_member(other, Role.AGENT, email="agent@example.test"))
    assert other_agent_token.patch("/api/v1/billing/subscription", {"seats": 7}).status_code == 403
    assert ApiClient(membership).patch("/api/v1/billing/subscription", {"seats": 7}).status_code == 200
    assert Subscription.objects.get(tenant=other).seats != 7


def test_after_the_trial_the_api_shows_team(owner_api):
    with clock.frozen(DAY_ONE + timedelta(days=14)):
        data = owner_api.get("/api/v1/billing/subscription").json()
    assert data["status"] == "active" and data["plan"]["slug"] == "team" and data["seat_capacity"] == 1
    assert "studio" not in data["features"]


def test_platform_organisations_have_no_subscription(staff, billing_on):
    assert staff.get("/api/v1/billing/subscription").status_code == 404


def test_moving_to_a_plan_that_includes_an_addon_stops_paying_for_it(owner_api):
    owner_api.patch("/api/v1/billing/subscription", {"addons": ["studio", "storage_100gb"]})
    data = owner_api.patch("/api/v1/billing/subscription", {"plan": "enterprise"}).json()
    assert [a["slug"] for a in data["addons"]] == ["storage_100gb"]


def test_unchanged_input_writes_no_timeline_row(owner_api, customer):
    owner_api.patch("/api/v1/billing/subscription", {"seats": 2})
    before = _state(customer)
    assert owner_api.patch("/api/v1/billing/subscription", {"seats": 2}).status_code == 200
    assert _state(customer) == before


def test_an_older_catalogue_version_can_be_read(staff, customer):
    staff.patch("/api/v1/billing/plans", {"slug": "team", "prices": {"GBP": {"month": "40"}}})
    api = ApiClient(make_member(customer, Role.AGENT))
    current = api.get("/api/v1/billing/plans").json()
    old = api.get("/api/v1/billing/plans?version=1").json()
    assert (current["catalogue_version"], old["catalogue_version"]) == (2, 1)
    assert next(p for p in old["items"] if p["slug"] == "team")["prices"]["GBP"]["month"] == "35.00"
    assert api.get("/api/v1/billing/addons?version=1").json()["catalogue_version"] == 1
    assert api.get("/api/v1/billing/plans?version=9").status_code == 404
