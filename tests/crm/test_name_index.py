"""The contact search index on SQLite (migration 0010): folded names and addresses, kept current by
triggers on every write."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection

from octopushx.core.context import Actor
from octopushx.crm import dedupe, queries, services

from .conftest import make_contact

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL uses trigram indexes (0010)")
MIGRATION = importlib.import_module("octopushx.crm.migrations.0010_accent_insensitive_search")


def _text(pk) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM crm_search_text WHERE source_id = %s", [pk.hex])
        row = cursor.fetchone()
    return row[0] if row else None


def _found(word: str, org) -> list:
    return sorted(queries._indexed_ids(org, word, ("name", "email"), 100))


@pytest.mark.django_db
def test_every_trigger_exists():
    """A later migration that rebuilds the contacts table on SQLite drops its triggers: recreate them."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        present = {row[0] for row in cursor.fetchall()}
    assert len(MIGRATION.TRIGGERS) == 10 and set(MIGRATION.TRIGGERS) <= present
    assert queries._has_search_index()
    assert not present & {"crm_contact_name_contact_ai", "crm_contact_name_ai"}  # 0006's are gone


@pytest.mark.django_db
def test_the_index_follows_every_change_of_name(org, other_org):
    actor = Actor.system("test")
    contact = make_contact(org, first_name="Ada", last_name="Lovelace")
    make_contact(other_org, first_name="Ada", last_name="Lovelace")
    assert _text(contact.pk) == "ada lovelace" and _found("ovela", org) == [contact.pk]
    services.update_contact(org, actor, contact, {"last_name": "Bÿrön"})
    assert _text(contact.pk) == "ada byron" and _found("ovela", org) == [] and _found("BYR", org) == [contact.pk]
    nameless = make_contact(org, first_name="", last_name="", email="x@example.com")
    assert _text(nameless.pk) == ""
    pk = contact.pk
    services.delete_contact(org, actor, contact)
    assert _text(pk) is None and _found("byron", org) == []


@pytest.mark.django_db
def test_the_index_follows_every_change_of_address(org):
    actor = Actor.system("test")
    contact = make_contact(org, first_name="Ada", emails=["ada.latin1@one.example", "countess@home.example"])
    assert _found("latin1", org) == [contact.pk] and _found("countess", org) == [contact.pk]
    services.update_contact(org, actor, contact, {"emails": ["ada@élan.example"]})
    assert _found("latin1", org) == [] and _found("countess", org) == [] and _found("elan", org) == [contact.pk]
    pk = contact.pk
    services.delete_contact(org, actor, contact)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM crm_search_text WHERE object_id = %s", [pk.hex])
        assert cursor.fetchone()[0] == 0


@pytest.mark.django_db
def test_a_merge_and_its_undo_keep_the_index(org):
    actor = Actor.system("test")
    keep = make_contact(org, first_name="Ada", last_name="Lovelace", email="ada@one.example")
    other = make_contact(org, first_name="Augusta", last_name="King", email="augusta@two.example")
    other_pk = other.pk
    record = dedupe.merge(org, actor, keep, other)
    assert _found("augusta", org) == [keep.pk]  # the address moved to the kept contact
    assert _found("king", org) == []
    restored = dedupe.undo(org, actor, record)
    assert restored.pk == other_pk and _found("king", org) == [other_pk]
    assert _found("augusta", org) == [other_pk]


@pytest.mark.django_db
def test_search_reads_names_through_the_index_and_walks_the_page_for_common_words(admin_api, org, monkeypatch):
    for index in range(4):
        make_contact(org, first_name=f"Ada{index}", last_name="Quartermain", email=f"ada{index}@x.example")
    make_contact(org, first_name="Grace", last_name="Hopper", email="grace@x.example")

    def names(**params) -> list[str]:
        return [c["first_name"] for c in admin_api.get("/api/v1/contacts", params).json()["items"]]

    assert names(q="rterma") == ["Ada3", "Ada2", "Ada1", "Ada0"]
    assert names(q="opper") == ["Grace"]
    monkeypatch.setattr(queries, "MATCH_CAP", 2)  # "ada" now matches more than the cap
    assert names(q="ada", limit=3) == ["Ada3", "Ada2", "Ada1"]
    assert names(q="ada2 quarter") == ["Ada2"]
    assert names(q="ADA quärter", limit=2) == ["Ada3", "Ada2"]
