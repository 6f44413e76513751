"""Billing on (the operator's switch) and a fixed clock for the billing tests."""

from __future__ import annotations

from datetime import date

import pytest

from octopushx.billing import clock
from octopushx.core.context import Actor
from octopushx.tenancy.services import platform_org
from tests.conftest import ApiClient, make_member, make_org

SYSTEM = Actor.system("test")
DAY_ONE = date(2026, 3, 2)


@pytest.fixture
def billing_on(settings):
    settings.BILLING_ENABLED = True
    return settings


@pytest.fixture(autouse=True)
def _clock():
    with clock.frozen(DAY_ONE):
        yield


@pytest.fixture
def customer(db, billing_on):
    """A customer organisation created with billing on: it starts its trial on DAY_ONE."""
    return make_org("Billed Ltd")


@pytest.fixture
def staff(db):
    """An API client of a platform admin (platform staff)."""
    return ApiClient(make_member(platform_org(), "admin", email="staff@example.test"))


# --- the reseller programme ---------------------------------------------------------------------


def make_reseller(name: str = "Resell Co"):
    from octopushx.tenancy.models import OrgKind

    return make_org(name, kind=OrgKind.RESELLER)


@pytest.fixture
def reseller(db, billing_on):
    return make_reseller()


@pytest.fixture
def reseller_admin(reseller):
    """An API client of the reseller's admin."""
    return ApiClient(make_member(reseller, "admin", email="admin@resell.test"))


@pytest.fixture
def other_reseller_admin(db, billing_on):
    return ApiClient(make_member(make_reseller("Other Resell"), "admin", email="admin@other-resell.test"))


from tests.billing.stripe_fake import stripe_fake  # noqa: E402, F401 (the fake Stripe, for test_stripe_*)
