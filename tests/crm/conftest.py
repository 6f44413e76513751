"""CRM fixtures: an admin API client and small factories that go through the services."""

from __future__ import annotations

import pytest

from octopushx.core.context import Actor
from octopushx.crm import services


def actor_for(membership) -> Actor:
    return Actor(user=membership.user, role=membership.role)


def make_contact(org, owner=None, **data):
    data.setdefault("first_name", "Ada")
    data.setdefault("last_name", "Lovelace")
    if owner is not None:
        data["owner_id"] = str(owner.user.pk)
    return services.create_contact(org, Actor.system("test"), data)


def make_company(org, owner=None, **data):
    data.setdefault("name", "Initech")
    if owner is not None:
        data["owner_id"] = str(owner.user.pk)
    return services.create_company(org, Actor.system("test"), data)


def make_deal(org, owner=None, **data):
    data.setdefault("name", "Big deal")
    data.setdefault("value", "1000")
    if owner is not None:
        data["owner_id"] = str(owner.user.pk)
    return services.create_deal(org, Actor.system("test"), data)


@pytest.fixture
def admin_api(api_as):
    return api_as("admin")
