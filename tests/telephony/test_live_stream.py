"""The live event stream and its polling fallback: members who take calls only, their own events only."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from octopushx.telephony import live
from octopushx.tenancy.roles import Role
from tests.conftest import make_member
from tests.telephony.live_calls import answer, hang_up, ring

STREAM = reverse("telephony:live_stream")
STATE = reverse("telephony:live_state")


@pytest.fixture(autouse=True)
def short_streams(settings):
    settings.LIVE_STREAM_SECONDS = 0.6
    settings.LIVE_HEARTBEAT_SECONDS = 0.2
    live._slots = None
    yield
    live._slots = None


def _events(response) -> list[dict]:
    """Read the stream to its end (the test client then closes it, as a server does). Every event of a (short) stream: {"event": name, "data": parsed} or {"comment": text}."""
    text = b"".join(response.streaming_content).decode()
    events = []
    for block in text.strip().split("\n\n"):
        if block.startswith(":"):
            events.append({"comment": block[1:].strip()})
            continue
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append({"event": fields.get("event", "message"), "data": json.loads(fields["data"])})
    return events


def _open(client):
    """Start a stream (its first chunk subscribes and lists the live calls); returns the response."""
    response = client.get(STREAM)
    assert response.status_code == 200
    first = next(iter(response.streaming_content)).decode()
    assert first.startswith("retry: ") and "event: sync" in first
    return response, json.loads(first.split("data: ", 1)[1])


def test_the_stream_needs_a_signed_in_member(client):
    response = client.get(STREAM)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.get(STATE).status_code == 302


def test_an_auditor_has_no_live_line(org, web_as):
    client = web_as(Role.AUDITOR)
    assert client.get(STREAM).status_code == 403
    assert client.get(STATE).status_code == 403


def test_the_stream_is_an_unbuffered_event_stream(org, web_as):
    client = web_as(Role.AGENT)
    response = client.get(STREAM)
    assert response["Content-Type"].startswith("text/event-stream")
    assert response["Cache-Control"] == "no-cache"
    assert response["X-Accel-Buffering"] == "no"
    assert "Content-Encoding" not in response
    events = _events(response)
    assert events[0] == {"event": "sync", "data": {"calls": []}}
    assert {"comment": "keep-alive"} in events[1:]  # heartbeats while nothing happens
    assert live.slots().open == 0


def test_a_ringing_call_reaches_the_agents_open_stream(org, client):
    ann = make_member(org, Role.AGENT)
    client.force_login(ann.user)
    response, _ = _open(client)
    call = ring(org, ann.user)
    events = _events(response)
    assert {"event": "message", "data": {"type": "call.ringing", "phone_call_id": str(call.pk)}} in events


def test_another_members_call_is_not_in_my_stream(org, client):
    ann, bob = make_member(org, Role.AGENT, "ann@acme.test"), make_member(org, Role.AGENT, "bob@acme.test")
    client.force_login(ann.user)
    response, _ = _open(client)
    ring(org, bob.user)
    assert [e for e in _events(response) if e.get("event") == "message"] == []


def test_another_tenants_call_never_reaches_the_stream_even_naming_me(org, other_org, client):
    ann = make_member(org, Role.AGENT)
    client.force_login(ann.user)
    response, _ = _open(client)
    ring(other_org, ann.user)  # a call of another organisation that (wrongly) names Ann
    assert [e for e in _events(response) if e.get("event") == "message"] == []
    assert client.get(STATE).json()["calls"] == []


def test_a_new_stream_starts_with_the_live_calls_it_may_have_missed(org, client):
    ann = make_member(org, Role.AGENT)
    client.force_login(ann.user)
    call = ring(org, ann.user)
    response, sync = _open(client)
    _events(response)
    assert sync == {"calls": [{"id": str(call.pk), "state": "ringing"}]}


def test_the_agent_hears_answered_and_a_colleague_rung_with_them_hears_ended(org, client):
    ann, bob = make_member(org, Role.AGENT, "ann@acme.test"), make_member(org, Role.AGENT, "bob@acme.test")
    call = ring(org, ann.user, bob.user)
    client.force_login(bob.user)
    bob_stream, _ = _open(client)
    answer(call, ann.user)
    events = [e["data"] for e in _events(bob_stream) if e.get("event") == "message"]
    assert events == [{"type": "call.ended", "phone_call_id": str(call.pk)}]
    client.force_login(ann.user)
    assert client.get(STATE).json()["calls"] == [{"id": str(call.pk), "state": "on_call"}]
    hang_up(call)
    assert client.get(STATE).json()["calls"] == []


def test_past_the_process_limit_the_stream_answers_204_and_the_page_polls(org, web_as, settings):
    settings.LIVE_MAX_STREAMS = 1
    live._slots = None
    client = web_as(Role.AGENT)
    first, _ = _open(client)
    refused = client.get(STREAM)
    assert refused.status_code == 204
    assert refused["Retry-After"] == str(settings.LIVE_POLL_SECONDS)
    _events(first)  # the stream ends (its time is up) and gives its slot back
    assert live.slots().open == 0
    assert client.get(STREAM).status_code == 200


def test_the_polling_fallback_lists_the_live_calls(org, client):
    ann = make_member(org, Role.AGENT)
    client.force_login(ann.user)
    call = ring(org, ann.user)
    data = client.get(STATE).json()
    assert data["calls"] == [{"id": str(call.pk), "state": "ringing"}]
    assert data["poll_seconds"] == 4
