"""Transcript search: whole words, every word, case-insensitive; tenant- and permission-scoped;
only the current analysis. The same tests run on SQLite (FTS5) and PostgreSQL (tsvector)."""

from __future__ import annotations

from octopushx.calls import search, services
from octopushx.core.context import Actor
from tests.calls.factories import analysed_call
from tests.conftest import make_member


def _hits(client, q):
    response = client.get("/api/v1/calls/search", {"q": q})
    assert response.status_code == 200, response.json()
    return response.json()["items"]


def test_search_finds_lines_with_every_word(org, api_as):
    call = analysed_call(org, lines=[("customer", "My boiler is broken again"), ("agent", "Sorry about the boiler")])
    client = api_as("admin")
    hits = _hits(client, "BOILER broken")
    assert [(h["call_id"], h["index"], h["speaker"]) for h in hits] == [(str(call.pk), 0, "customer")]
    assert hits[0]["highlights"] == ["boiler", "broken"]
    assert len(_hits(client, "boiler")) == 2
    assert _hits(client, "boil") == []  # whole words only, on both databases
    assert _hits(client, "  ") == []


def test_search_is_tenant_scoped(org, other_org, api_as):
    analysed_call(other_org, lines=[("customer", "secret merger plans")])
    assert _hits(api_as("owner"), "merger") == []


def test_search_respects_call_visibility(org, api_as):
    client = api_as("agent")
    analysed_call(org, agent=client.membership.user, lines=[("customer", "refund for my order")])
    analysed_call(org, agent=make_member(org, "agent", email="b@acme.test").user, lines=[("customer", "refund please")])
    hits = _hits(client, "refund")
    assert len(hits) == 1 and hits[0]["text"] == "refund for my order"


def test_search_sees_corrections_and_only_the_current_run(org, api_as):
    from octopushx.calls.models import Call
    from tests.calls.factories import analysis

    call = analysed_call(org, lines=[("customer", "the invoice is wrong")])
    client = api_as("admin")
    services.correct(
        org, Actor(user=client.membership.user), call, {"utterances": [{"index": 0, "text": "the statement is wrong"}]}
    )
    assert _hits(client, "invoice") == []
    assert len(_hits(client, "statement")) == 1
    services.save_result(Call.objects.get(pk=call.pk), 2, None, analysis([("agent", "a new transcript")]), [])
    assert _hits(client, "statement") == []
    assert len(_hits(client, "transcript")) == 1


def test_quotes_and_operators_in_queries_are_plain_words(org, api_as):
    analysed_call(org, lines=[("agent", "press NEAR the OR button")])
    client = api_as("admin")
    assert len(_hits(client, 'NEAR "OR" *')) == 1
    assert _hits(client, "AND") == []


def test_highlight_marks_whole_words():
    assert search.highlight("Boiler boils", "boiler") == [("Boiler", True), (" boils", False)]
