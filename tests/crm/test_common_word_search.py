"""A common word walks the page's order; a rare one is read through the search indexes first.

Both must give the same rows, in the list's order, limited to what the member sees. On PostgreSQL
the planner's estimate picks the way (``queries._common``), pinned here each way in turn; SQLite
decides by the number of matches its index holds, so the test holds there too.
"""

from __future__ import annotations

import pytest

from octopushx.crm import queries
from octopushx.tenancy.models import Team
from tests.conftest import make_member

from .conftest import make_contact


def _names(client, **params) -> list[str]:
    response = client.get("/api/v1/contacts", {"limit": 3, **params})
    assert response.status_code == 200, response.content
    return [f"{c['first_name']} {c['last_name']}" for c in response.json()["items"]]


@pytest.fixture
def members(api_as, org):
    admin, manager, agent = api_as("admin"), api_as("manager"), api_as("agent")
    team = Team.objects.create(tenant=org, name="North")
    for client in (manager, agent):
        client.membership.team = team
        client.membership.save(update_fields=["team"])
    return admin, manager, agent, make_member(org, "agent", email="outside@example.test")


@pytest.mark.parametrize("common", [True, False], ids=["walked", "read-through-indexes"])
def test_a_common_prefix_finds_the_same_ordered_rows_for_each_role(members, org, monkeypatch, common):
    admin, manager, agent, outsider = members
    monkeypatch.setattr(queries, "_common", lambda qs, condition: common)
    monkeypatch.setattr(queries, "MATCH_CAP", 3)  # "blac" matches more contacts than the ids read first
    make_contact(org, first_name="Ann", last_name="Blackford", owner=agent.membership)
    make_contact(org, first_name="Ben", last_name="Blackwell", owner=outsider)  # another team's
    make_contact(org, first_name="Cleo", last_name="Blacksmith", owner=manager.membership)
    make_contact(org, first_name="Dev", last_name="Brown", email="dev.blackley@example.com", owner=agent.membership)
    make_contact(org, first_name="Eve", last_name="Black", owner=agent.membership)
    make_contact(org, first_name="Finn", last_name="White", owner=agent.membership)

    assert _names(admin, q="BLÂC") == ["Eve Black", "Dev Brown", "Cleo Blacksmith"]
    assert _names(admin, q="blac", ordering="last_name") == ["Eve Black", "Ann Blackford", "Cleo Blacksmith"]
    everyone = ["Eve Black", "Dev Brown", "Cleo Blacksmith", "Ben Blackwell", "Ann Blackford"]
    assert _names(admin, q="blac", limit=10) == everyone
    assert _names(manager, q="blac", limit=10) == ["Eve Black", "Dev Brown", "Cleo Blacksmith", "Ann Blackford"]
    assert _names(agent, q="blac", limit=10) == ["Eve Black", "Dev Brown", "Ann Blackford"]
    assert _names(agent, q="blac ann") == ["Ann Blackford"]


def test_a_common_words_next_page_continues_in_order(admin_api, org, monkeypatch):
    monkeypatch.setattr(queries, "_common", lambda qs, condition: True)
    for index in range(5):
        make_contact(org, first_name=f"Ada{index}", last_name="Blackwood")
    first = admin_api.get("/api/v1/contacts", {"q": "blackw", "limit": 3}).json()
    second = admin_api.get("/api/v1/contacts", {"q": "blackw", "limit": 3, "cursor": first["next"]}).json()
    names = [c["first_name"] for c in first["items"] + second["items"]]
    assert names == ["Ada4", "Ada3", "Ada2", "Ada1", "Ada0"] and second["next"] is None
