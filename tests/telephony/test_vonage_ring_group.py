"""Vonage ring groups and queues through the Voice API: members rung into the caller's conversation,
the first answer hangs up the others, the timeouts move the caller on (the SDK against the local fake)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from octopushx.calls import services as call_services
from octopushx.core import jobs
from octopushx.core.context import Actor
from octopushx.core.models import Job, JobState
from octopushx.telephony import callbacks, services, vonage_legs
from octopushx.telephony.models import PhoneCall, Presence
from tests.telephony import fakes
from tests.telephony.providers import CALLER, LINE, LINES, connect, open_line, path_of, vonage_post

pytestmark = pytest.mark.django_db

OWNER, ANN = LINES["owner@acme.test"].lstrip("+"), LINES["ann@acme.test"].lstrip("+")
HOLD = "https://octopushx.test/static/hold.mp3"


@pytest.fixture
def line(line_org, fake_provider):
    """The support line on Vonage: billing rings the owner and Ann at once; 3 is a queue with a 60 s wait."""
    definition = open_line()
    blocks = {b["id"]: b for b in definition["blocks"]}
    blocks["billing"]["members"] = ["owner@acme.test", "ann@acme.test"]
    blocks["menu"]["options"]["3"] = "hold"
    definition["blocks"].append({"id": "hold", "type": "queue", "team": "Support", "hold_music": HOLD,
                                 "max_wait_s": 60, "next": "vm"})  # fmt: skip
    flow, _ = services.create_flow(line_org, Actor.system("test"), definition)
    wired = connect(line_org, flow=flow)
    call_services.update_settings(line_org, Actor.system("test"), {
        "vonage_application_id": fakes.VONAGE_APP_ID, "vonage_private_key": fakes.VONAGE_PRIVATE_KEY,
        "vonage_api_key": fakes.VONAGE_API_KEY, "vonage_api_secret": fakes.VONAGE_API_SECRET,
    })  # fmt: skip
    return wired


def _call(client, line, uuid: str, digits: str) -> list[dict]:
    """An inbound Vonage call: answer → menu → ``digits``; the NCCO the choice answers with."""
    body = {"to": LINE.lstrip("+"), "from": CALLER.lstrip("+"), "uuid": uuid, "conversation_uuid": f"CON-{uuid}"}
    menu = vonage_post(client, f"/hooks/telephony/vonage/answer/{line['vonage'].pk}", body, method="get").json()
    choice = path_of(menu[-1]["eventUrl"][0])
    answer = vonage_post(client, choice, {"uuid": uuid, "conversation_uuid": f"CON-{uuid}", "dtmf": {"digits": digits}})
    assert answer.status_code == 200, answer.content
    return answer.json()


def _notify(client, ncco: list[dict], uuid: str):
    notify = next(a for a in ncco if a["action"] == "notify")
    return vonage_post(client, path_of(notify["eventUrl"][0]),
                       {"uuid": uuid, "conversation_uuid": f"CON-{uuid}", **notify["payload"]})  # fmt: skip


def _leg_event(client, line, leg: str, status: str, to: str, at=None):
    body = {"uuid": leg, "conversation_uuid": f"CON-{leg}", "status": status, "to": to, "direction": "outbound",
            "timestamp": (at or timezone.now()).isoformat()}  # fmt: skip
    return vonage_post(client, f"/hooks/telephony/vonage/event/{line['vonage'].pk}", body)


def _due(kind: str) -> None:
    """The delayed job's moment has come."""
    Job.objects.filter(kind=kind).update(run_after=timezone.now() - timedelta(seconds=1))


def _placed(fake) -> dict[str, str]:
    """Placed legs by the number they ring."""
    return {c["request"]["to"][0]["number"]: c["uuid"] for c in fake.vonage.calls}


def test_a_simultaneous_group_rings_every_member_into_the_callers_conversation(client, line, fake_provider):
    ncco = _call(client, line, "v-1", "1")
    assert _notify(client, ncco, "v-1").status_code == 204  # the webhook answers at once; a job rings
    assert fake_provider.vonage.calls == []
    jobs.drain()
    requests = [c["request"] for c in fake_provider.vonage.calls]
    assert sorted(r["to"][0]["number"] for r in requests) == sorted([OWNER, ANN])
    conversation = next(a for a in ncco if a["action"] == "conversation")["name"]
    assert conversation == f"{line['flow'].pk}-billing-v-1"
    for request in requests:
        assert request["ncco"] == [{"action": "conversation", "name": conversation, "startOnEnter": True,
                                    "endOnExit": True}]  # fmt: skip
        assert request["from"] == {"type": "phone", "number": LINE.lstrip("+")}
        assert request["event_url"] == [f"https://octopushx.test/hooks/telephony/vonage/event/{line['vonage'].pk}"]
        assert request["ringing_timer"] == 20
    # every Voice API request carried the application's JWT (the fake refuses others)
    assert all(s.headers["authorization"].startswith("Bearer ") for s in fake_provider.seen("POST", "/v1/calls"))


def test_the_first_answer_hangs_up_the_other_member_and_sets_the_agent(client, line, fake_provider):
    _notify(client, _call(client, line, "v-1", "1"), "v-1")
    jobs.drain()
    legs = _placed(fake_provider)
    _leg_event(client, line, legs[ANN], "ringing", ANN)
    response = _leg_event(client, line, legs[ANN], "answered", ANN)
    assert response.json()["known_call"] is True  # the member's leg belongs to the caller's call
    jobs.drain()
    assert fake_provider.vonage.updates == [{"uuid": legs[OWNER], "action": "hangup"}]
    phone_call = PhoneCall.objects.get(provider_call_id="v-1")
    ann = Presence.objects.get(phone_number=LINES["ann@acme.test"]).user
    assert phone_call.agent == ann and phone_call.answered_at is not None
    assert phone_call.ringing_users == []
    assert Presence.objects.get(user=ann).status == "busy"
    # the owner's hung-up leg reports its end: still Ann's call; the timeout later changes nothing
    _leg_event(client, line, legs[OWNER], "cancelled", OWNER)
    _due(vonage_legs.RING_TIMEOUT_JOB)
    jobs.drain()
    phone_call.refresh_from_db()
    assert phone_call.agent == ann and len(fake_provider.vonage.updates) == 1
    assert Job.objects.get(kind=vonage_legs.RING_TIMEOUT_JOB).result == {"skipped": "a member answered"}


def test_a_repeated_notify_rings_nobody_twice(client, line, fake_provider):
    ncco = _call(client, line, "v-1", "1")
    _notify(client, ncco, "v-1")
    jobs.drain()
    assert _notify(client, ncco, "v-1").status_code == 204
    jobs.drain()
    assert len(fake_provider.vonage.calls) == 2
    assert Job.objects.filter(kind=vonage_legs.RING_JOB).count() == 1
    assert Job.objects.filter(kind=vonage_legs.RING_TIMEOUT_JOB).count() == 1
    # a retried ring job skips the legs already placed
    job = Job.objects.get(kind=vonage_legs.RING_JOB)
    assert vonage_legs.ring_members(job) == {"placed": 0, "failed": 0}
    assert len(fake_provider.vonage.calls) == 2


def test_nobody_answers_the_caller_is_transferred_to_next(client, line, fake_provider):
    _notify(client, _call(client, line, "v-2", "1"), "v-2")
    jobs.drain()
    legs = _placed(fake_provider)
    timeout = Job.objects.get(kind=vonage_legs.RING_TIMEOUT_JOB)
    assert timeout.state == JobState.QUEUED and timeout.run_after > timezone.now() + timedelta(seconds=15)
    _due(vonage_legs.RING_TIMEOUT_JOB)
    jobs.drain()
    updates = fake_provider.vonage.updates
    assert sorted(u["uuid"] for u in updates if u["action"] == "hangup") == sorted(legs.values())
    step = f"https://octopushx.test/hooks/telephony/vonage/voice/{line['flow'].pk}/billing?step=timeout"
    assert [u for u in updates if u["action"] == "transfer"] == [
        {"uuid": "v-2", "action": "transfer", "destination": {"type": "ncco", "url": [step]}}
    ]
    # Vonage fetches the URL it was transferred to: the voicemail's NCCO, and the route says why
    fetched = vonage_post(client, path_of(step) + "&uuid=v-2&conversation_uuid=CON-v-2", {}, method="get")
    assert fetched.status_code == 200, fetched.content
    assert [a["action"] for a in fetched.json()] == ["talk", "record", "talk"]
    phone_call = PhoneCall.objects.get(provider_call_id="v-2")
    assert ("billing", "nobody answered in 20 s → vm") in [(e["block"], e["what"]) for e in phone_call.route]
    assert phone_call.agent is None
    # run again (a duplicate delivery): no second transfer
    assert vonage_legs.ring_timeout(Job.objects.get(kind=vonage_legs.RING_TIMEOUT_JOB))["skipped"]
    assert len([u for u in fake_provider.vonage.updates if u["action"] == "transfer"]) == 1


def test_a_queued_caller_moves_on_when_the_maximum_wait_runs_out(client, line, fake_provider):
    ncco = _call(client, line, "v-3", "3")
    assert [a["action"] for a in ncco][-2:] == ["notify", "conversation"]
    assert _notify(client, ncco, "v-3").status_code == 204
    _notify(client, ncco, "v-3")  # repeated: one clock
    job = Job.objects.get(kind=vonage_legs.QUEUE_TIMEOUT_JOB)
    assert job.run_after > timezone.now() + timedelta(seconds=50)
    jobs.drain()
    assert fake_provider.vonage.updates == []  # not yet
    _due(vonage_legs.QUEUE_TIMEOUT_JOB)
    jobs.drain()
    step = f"https://octopushx.test/hooks/telephony/vonage/voice/{line['flow'].pk}/hold?step=left"
    assert fake_provider.vonage.updates == [
        {"uuid": "v-3", "action": "transfer", "destination": {"type": "ncco", "url": [step]}}
    ]
    fetched = vonage_post(client, path_of(step), {"uuid": "v-3", "conversation_uuid": "CON-v-3"})
    assert [a["action"] for a in fetched.json()] == ["talk", "record", "talk"]
    route = PhoneCall.objects.get(provider_call_id="v-3").route
    assert ("hold", "left the queue → vm") in [(e["block"], e["what"]) for e in route]


def test_a_connected_queued_caller_stays(client, line, fake_provider):
    _notify(client, _call(client, line, "v-4", "3"), "v-4")
    PhoneCall.objects.filter(provider_call_id="v-4").update(answered_at=timezone.now())
    _due(vonage_legs.QUEUE_TIMEOUT_JOB)
    jobs.drain()
    assert fake_provider.vonage.updates == []


def test_provider_down_is_logged_and_the_caller_still_moves_on(client, line, fake_provider, caplog):
    caplog.set_level(logging.WARNING)
    fake_provider.outage = 503
    assert _notify(client, _call(client, line, "v-5", "1"), "v-5").status_code == 204
    jobs.drain()
    ring = Job.objects.get(kind=vonage_legs.RING_JOB)
    assert (ring.state, ring.result) == (JobState.DONE, {"placed": 0, "failed": 2})
    assert "Vonage failed while ringing a member (HTTP 503)" in caplog.text
    assert "Vonage failed while moving the call on (HTTP 503)" in caplog.text
    _due(vonage_legs.RING_TIMEOUT_JOB)
    jobs.drain()
    timeout = Job.objects.get(kind=vonage_legs.RING_TIMEOUT_JOB)
    assert timeout.state == JobState.QUEUED and "503" in timeout.last_error  # retried with backoff
    fake_provider.outage = None
    _due(vonage_legs.RING_TIMEOUT_JOB)
    jobs.drain()
    assert [u["uuid"] for u in fake_provider.vonage.updates if u["action"] == "transfer"] == ["v-5"]
    assert all(secret not in caplog.text for secret in fakes.SECRETS)


def test_a_leg_event_of_another_call_is_not_taken_for_a_member(client, line, fake_provider):
    response = _leg_event(client, line, "unknown-leg", "answered", ANN)
    assert response.json()["known_call"] is False
    assert callbacks.placed_leg(line["flow"].tenant, "vonage", "unknown-leg") is None


def test_the_caller_hanging_up_stops_the_members_ringing_at_once(client, line, fake_provider):
    _notify(client, _call(client, line, "v-6", "1"), "v-6")
    jobs.drain()
    legs = _placed(fake_provider)
    body = {"uuid": "v-6", "conversation_uuid": "CON-v-6", "status": "completed", "duration": "12",
            "timestamp": timezone.now().isoformat()}  # fmt: skip
    vonage_post(client, f"/hooks/telephony/vonage/event/{line['vonage'].pk}", body)
    jobs.drain()  # the ring group's clock was made due by the caller's end
    updates = fake_provider.vonage.updates
    assert sorted(u["uuid"] for u in updates if u["action"] == "hangup") == sorted(legs.values())
    assert not [u for u in updates if u["action"] == "transfer"]
    assert PhoneCall.objects.get(provider_call_id="v-6").call.outcome == "abandoned"
