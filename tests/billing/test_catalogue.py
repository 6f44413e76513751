"""The catalogue: seeded by migrate, versioned on every change, old versions untouched."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from octopushx.billing import catalogue, services
from octopushx.billing.models import AddOn, CatalogueVersion, Plan, Price
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry
from octopushx.tenancy.roles import Role
from octopushx.tenancy.services import platform_org
from tests.conftest import make_member

SYSTEM = Actor.system("test")


def _price(plan_or_addon, interval="month", currency="GBP") -> Decimal:
    return plan_or_addon.prices.get(currency=currency, interval=interval).amount


def test_an_emptied_catalogue_is_seeded_again_on_first_read(db):
    # A database flushed after migrating (transactional tests, a restored empty dump) still sells.
    Price.objects.all().delete()
    Plan.objects.all().delete()
    AddOn.objects.all().delete()
    CatalogueVersion.objects.all().delete()
    version = catalogue.current_version()
    assert version.number == 1
    assert [p.slug for p in version.plans.all()] == ["starter", "team", "enterprise"]
    assert catalogue.current_version() == version  # once


def test_migrate_seeds_the_default_catalogue(db):
    version = catalogue.current_version()
    assert version.number == 1
    plans = {p.slug: p for p in version.plans.all()}
    assert list(plans) == ["starter", "team", "enterprise"]
    assert [_price(plans[s]) for s in plans] == [Decimal("15"), Decimal("35"), Decimal("60")]
    assert [_price(plans[s], "year") for s in plans] == [Decimal("150"), Decimal("350"), Decimal("600")]
    assert [plans[s].included_minutes_per_seat for s in plans] == [100, 500, 2000]
    addons = {a.slug: a for a in version.addons.all()}
    assert set(addons) == {"minutes_1000", "studio", "storage_100gb", "extra_seats"}
    assert _price(addons["minutes_1000"]) == Decimal("20") and addons["minutes_1000"].minutes == 1000
    assert _price(addons["studio"]) == Decimal("10") and addons["studio"].included_in == ["enterprise"]
    assert _price(addons["storage_100gb"]) == Decimal("15") and addons["storage_100gb"].storage_gb == 100
    assert "studio" in plans["enterprise"].features and "studio" not in plans["team"].features


def test_a_price_change_publishes_a_new_version_and_keeps_the_old(db):
    version = catalogue.publish(SYSTEM, {"plan": {"slug": "team", "prices": {"GBP": {"month": "39"}}}})
    assert version.number == 2
    old_team = Plan.objects.get(version__number=1, slug="team")
    new_team = version.plans.get(slug="team")
    assert _price(old_team) == Decimal("35") and _price(new_team) == Decimal("39")
    assert _price(new_team, "year") == Decimal("390")  # ten monthly prices unless given
    assert version.plans.count() == 3 and version.addons.count() == 4
    assert _price(version.plans.get(slug="starter")) == Decimal("15")


def test_subscriptions_keep_their_catalogue_version(customer):
    subscription = services.current_subscription(customer)
    assert subscription.version.number == 1
    catalogue.publish(SYSTEM, {"plan": {"slug": "team", "prices": {"GBP": {"month": "39"}}}})
    subscription = services.current_subscription(customer)
    assert subscription.version.number == 1 and _price(subscription.plan) == Decimal("35")


def test_a_new_plan_joins_the_next_version(db):
    version = catalogue.publish(
        SYSTEM,
        {
            "plan": {
                "create": True,
                "slug": "solo",
                "name": "Solo",
                "features": ["calls"],
                "included_minutes_per_seat": 50,
                "max_seats": 1,
                "prices": {"GBP": {"month": "9.99", "year": "99"}, "EUR": {"month": "11.50"}},
            }
        },
    )
    solo = version.plans.get(slug="solo")
    assert _price(solo, "year") == Decimal("99") and _price(solo, "year", "EUR") == Decimal("115")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"plan": {"slug": "gold", "name": "Gold"}}, "slug"),
        ({"plan": {"slug": "team", "prices": {"GBP": {"month": "35.001"}}}}, "team.prices.GBP"),
        ({"plan": {"slug": "team", "prices": {"GBP": {"month": "-5"}}}}, "team.prices.GBP"),
        ({"plan": {"slug": "team", "prices": {"XYZ": {"month": "5"}}}}, "team.prices.XYZ"),
        ({"plan": {"slug": "team", "features": ["teleportation"]}}, "team.features"),
        ({"plan": {"slug": "team", "min_seats": 0}}, "team.min_seats"),
        ({"plan": {"slug": "team", "name": "Team"}}, "__all__"),
        ({"plan": {"create": True, "slug": "team", "name": "Team again"}}, "slug"),
        ({"addon": {"slug": "studio", "included_in": ["platinum"]}}, "studio.included_in"),
        ({"addon": {"slug": "extra_seats", "prices": {"GBP": {"month": "5"}}}}, "extra_seats.prices"),
    ],
)
def test_a_bad_catalogue_change_is_refused_and_publishes_nothing(db, change, field):
    with pytest.raises(ValidationError) as exc:
        catalogue.publish(SYSTEM, change)
    assert field in exc.value.message_dict, exc.value.message_dict
    assert CatalogueVersion.objects.count() == 1
    assert Price.objects.filter(plan__slug="team", interval="month").get().amount == Decimal("35")


def test_only_platform_staff_publish(org):
    owner = make_member(org, Role.OWNER)
    with pytest.raises(PermissionDenied):
        catalogue.publish(Actor(user=owner.user, role=Role.OWNER), {"plan": {"slug": "team", "name": "Crew"}})
    staff = make_member(platform_org(), Role.ADMIN)
    catalogue.publish(Actor(user=staff.user, role=Role.ADMIN), {"plan": {"slug": "team", "name": "Crew"}})
    assert catalogue.current_version().plans.get(slug="team").name == "Crew"


def test_publishing_is_audited_on_the_platform(db):
    catalogue.publish(SYSTEM, {"addon": {"slug": "minutes_1000", "prices": {"GBP": {"month": "25"}}}}, note="2027")
    entry = AuditEntry.objects.get(tenant=platform_org(), action="catalogue.published")
    assert entry.personal.changes == {"version": [1, 2], "addon": [None, "minutes_1000"]}
    assert catalogue.current_version().note == "2027"
