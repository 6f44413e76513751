"""Subscriptions keep their catalogue version until platform staff move them (audited, on the timeline)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from octopushx.billing import catalogue, services
from octopushx.billing.models import CatalogueVersion, ChangeKind, Plan, Subscription, SubscriptionChange
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry
from octopushx.tenancy.roles import Role
from tests.conftest import ApiClient, make_member, make_org

SYSTEM = Actor.system("test")


def _team_at_40():
    return catalogue.publish(SYSTEM, {"plan": {"slug": "team", "prices": {"GBP": {"month": "40"}}}})


def test_staff_move_older_subscriptions_to_the_current_version(staff, customer):
    services.change_subscription(customer, SYSTEM, addons=["studio", {"slug": "minutes_1000", "quantity": 2}])
    _team_at_40()
    response = staff.post("/api/v1/billing/subscriptions/migrate", {})
    assert response.status_code == 200
    assert response.json() == {"catalogue_version": 2, "moved": 1, "kept": []}
    subscription = Subscription.objects.get(tenant=customer)
    assert subscription.version.number == 2
    assert subscription.plan.prices.get(interval="month").amount == Decimal("40")
    assert sorted((a.addon.slug, a.addon.version.number, a.quantity) for a in subscription.addons.all()) == [
        ("minutes_1000", 2, 2),
        ("studio", 2, 1),
    ]
    change = SubscriptionChange.objects.get(subscription=subscription, kind=ChangeKind.MIGRATED)
    assert change.state["catalogue_version"] == 2
    entry = AuditEntry.objects.get(tenant=customer, action="subscription.migrated")
    assert entry.personal.changes["catalogue_version"] == [1, 2]
    assert staff.post("/api/v1/billing/subscriptions/migrate", {}).json()["moved"] == 0  # idempotent


def test_a_subscription_whose_plan_is_gone_stays_with_the_reason(customer):
    services.change_subscription(customer, SYSTEM, plan="starter")
    catalogue.publish(
        SYSTEM,
        {"plan": {"create": True, "slug": "solo", "name": "Solo", "included_minutes_per_seat": 1,
                  "prices": {"GBP": {"month": "5"}}}},
    )  # fmt: skip
    # A version without Starter, as an operator retiring it would publish.
    data = catalogue.snapshot(catalogue.current_version())
    data["plans"] = [p for p in data["plans"] if p["slug"] != "starter"]
    catalogue.write_version(catalogue.MODELS, data, number=3, note="", by="test", at=customer.created_at)
    assert CatalogueVersion.objects.count() == 3 and not Plan.objects.filter(version__number=3, slug="starter")
    result = services.migrate_subscriptions(SYSTEM)
    assert result["moved"] == 0
    assert result["kept"] == [{"organization_id": str(customer.pk), "reason": "Version 3 has no plan 'starter'"}]
    assert Subscription.objects.get(tenant=customer).version.number == 1


def test_only_older_versions_named_are_moved(customer):
    with pytest.raises(Exception) as exc:
        services.migrate_subscriptions(SYSTEM, from_version=1)
    assert "from_version" in exc.value.message_dict
    _team_at_40()
    other = make_org("Second Ltd")  # starts on version 2
    assert services.migrate_subscriptions(SYSTEM, from_version=1)["moved"] == 1
    assert Subscription.objects.get(tenant=other).version.number == 2


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.AUDITOR])
def test_customers_cannot_move_subscriptions(customer, role):
    _team_at_40()
    response = ApiClient(make_member(customer, role)).post("/api/v1/billing/subscriptions/migrate", {})
    assert response.status_code == 403
    assert Subscription.objects.get(tenant=customer).version.number == 1
