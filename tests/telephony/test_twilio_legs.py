"""A Twilio ring group rings several members at once: each leg's own status callback says who answered.

Twilio's Dial action reports only ``DialCallStatus``/``DialCallSid``, once the dial is over; the
``statusCallback`` on each ``<Number>``/``<Sip>``/``<Client>`` reports the leg (``ParentCallSid``, ``To``) as
it answers and ends, so the agent, their presence and the colleagues' caller cards follow the call live.
"""

from __future__ import annotations

from datetime import timedelta
from xml.etree import ElementTree

import pytest
from django.utils import timezone

from octopushx.core.context import Actor
from octopushx.telephony import callercard, services
from octopushx.telephony.models import CallEvent, PhoneCall, Presence
from octopushx.tenancy.models import Team
from tests.conftest import make_member
from tests.telephony.providers import (
    CALLER,
    LINE,
    LINES,
    SID,
    connect,
    open_line,
    path_of,
    twilio_post,
    twilio_time,
)

pytestmark = pytest.mark.django_db
OTHER_SID = "AC" + "9" * 32
OTHER_TOKEN = "twilio-token-of-other"
ANN, OWNER = LINES["ann@acme.test"], LINES["owner@acme.test"]


def _two_member_line() -> dict:
    definition = open_line()
    billing = next(b for b in definition["blocks"] if b["id"] == "billing")
    billing["members"] = ["owner@acme.test", "ann@acme.test"]  # simultaneous: both ring at once
    return definition


@pytest.fixture
def line(line_org):
    flow, _ = services.create_flow(line_org, Actor.system("test"), _two_member_line())
    return connect(line_org, flow=flow)


@pytest.fixture
def other_line(other_org):
    Team.objects.create(tenant=other_org, name="Support")
    make_member(other_org, email="owner@acme.test")
    return connect(other_org, sid=OTHER_SID, token=OTHER_TOKEN, secret="vonage-secret-of-other", line="+441134960999")


def _twiml(response) -> ElementTree.Element:
    assert response.status_code == 200, response.content
    return ElementTree.fromstring(response.content)


def _call(**extra) -> dict:
    return {"AccountSid": SID, "CallSid": "CA100", "From": CALLER, "To": LINE, "Direction": "inbound", **extra}


def _ring_billing(client, line) -> ElementTree.Element:
    number = line["numbers"]["twilio"]
    start = _twiml(twilio_post(client, f"/hooks/telephony/twilio/incoming/{number.pk}", _call()))
    menu = _twiml(twilio_post(client, path_of(start.find("Redirect").text), _call()))
    return _twiml(twilio_post(client, path_of(menu.find("Gather").get("action")), _call(Digits="1")))


def _leg(sid: str, to: str, status: str, at, sequence: int, **extra) -> dict:
    return {"AccountSid": SID, "CallSid": sid, "ParentCallSid": "CA100", "From": LINE, "To": to, "Direction":
            "outbound-dial", "CallStatus": status, "Timestamp": twilio_time(at), "SequenceNumber": str(sequence),
            **extra}  # fmt: skip


def _status(client, line, status: str, at, sequence: int, **extra):
    params = _call(CallStatus=status, Timestamp=twilio_time(at), SequenceNumber=str(sequence), **extra)
    return twilio_post(client, f"/hooks/telephony/twilio/status/{line['twilio'].pk}", params)


def _presence(email: str) -> str:
    return Presence.objects.get(user__email=email).status


def test_every_dialled_leg_reports_to_the_flows_leg_url(client, line):
    dial = _ring_billing(client, line)
    numbers = dial.findall("Dial/Number")
    assert [n.text for n in numbers] == [OWNER, ANN]
    leg_url = f"/hooks/telephony/twilio/leg/{line['flow'].pk}/billing"
    assert {path_of(n.get("statusCallback")) for n in numbers} == {leg_url}
    assert {(n.get("statusCallbackEvent"), n.get("statusCallbackMethod")) for n in numbers} == {
        ("answered completed", "POST")
    }


def test_the_second_member_answers_a_simultaneous_group_and_is_the_agent_busy_then_free(client, line):
    dial = _ring_billing(client, line)
    leg_url = path_of(dial.find("Dial/Number").get("statusCallback"))
    phone_call = PhoneCall.objects.get(provider_call_id="CA100")
    owner, ann = (Presence.objects.get(phone_number=n).user for n in (OWNER, ANN))
    assert phone_call.ringing_users == [str(owner.pk), str(ann.pk)]
    started = timezone.now()
    # Ann's leg answers; the owner's stops ringing (Twilio cancels it)
    answered = twilio_post(client, leg_url, _leg("CA-ann", ANN, "in-progress", started + timedelta(seconds=5), 1))
    assert answered.status_code == 200 and answered.json() == {"stored": True, "duplicate": False, "known_call": True}
    canceled = twilio_post(client, leg_url, _leg("CA-owner", OWNER, "canceled", started + timedelta(seconds=5), 1))
    assert canceled.status_code == 200
    phone_call.refresh_from_db()
    assert (phone_call.agent, phone_call.call.agent, phone_call.state) == (ann, ann, "ringing")
    assert phone_call.answered_at is not None
    assert (_presence("ann@acme.test"), _presence("owner@acme.test")) == ("busy", "available")
    # the owner's caller card now says a colleague answered; Ann's that she is on the call
    assert (callercard.relation(phone_call, owner), callercard.relation(phone_call, ann)) == ("taken", "on_call")
    # the dial ends: its action names only the leg, which is already known to be Ann's
    after = path_of(dial.find("Dial").get("action"))
    done = _twiml(twilio_post(client, after, _call(DialCallStatus="completed", DialCallSid="CA-ann",
                                                   DialCallDuration="60")))  # fmt: skip
    assert done.find("Hangup") is not None
    twilio_post(
        client, leg_url, _leg("CA-ann", ANN, "completed", started + timedelta(seconds=65), 2, CallDuration="60")
    )
    assert _status(client, line, "completed", started + timedelta(seconds=66), 3, CallDuration="66").status_code == 200
    phone_call.refresh_from_db()
    assert (phone_call.state, phone_call.agent, phone_call.call.agent) == ("completed", ann, ann)
    assert phone_call.call.outcome == "answered"
    assert (_presence("ann@acme.test"), _presence("owner@acme.test")) == ("available", "available")
    assert Presence.objects.get(user=ann).last_call_ended_at == phone_call.ended_at


def test_a_duplicate_leg_callback_is_stored_once(client, line):
    dial = _ring_billing(client, line)
    leg_url = path_of(dial.find("Dial/Number").get("statusCallback"))
    moment = timezone.now()
    first = twilio_post(client, leg_url, _leg("CA-ann", ANN, "in-progress", moment, 1))
    second = twilio_post(client, leg_url, _leg("CA-ann", ANN, "in-progress", moment, 1))
    assert first.json()["stored"] is True
    assert second.status_code == 200 and second.json() == {"stored": False, "duplicate": True, "known_call": True}
    assert CallEvent.objects.filter(provider_call_id="CA-ann").count() == 1
    assert PhoneCall.objects.get(provider_call_id="CA100").agent.email == "ann@acme.test"


def test_a_bad_signature_on_the_leg_url_is_403_and_stores_nothing(client, line):
    dial = _ring_billing(client, line)
    leg_url = path_of(dial.find("Dial/Number").get("statusCallback"))
    before = CallEvent.objects.count()
    forged = twilio_post(client, leg_url, _leg("CA-ann", ANN, "in-progress", timezone.now(), 1), signature="forged")
    wrong = twilio_post(client, leg_url, _leg("CA-ann", ANN, "in-progress", timezone.now(), 1), token="not-it")
    assert (forged.status_code, wrong.status_code) == (403, 403)
    assert CallEvent.objects.count() == before
    phone_call = PhoneCall.objects.get(provider_call_id="CA100")
    assert phone_call.agent is None and _presence("ann@acme.test") == "available"


def test_another_tenants_flow_or_an_unknown_flow_is_404(client, line, other_line):
    import uuid

    _ring_billing(client, line)
    before = CallEvent.objects.count()
    params = _leg("CA-ann", ANN, "in-progress", timezone.now(), 1, AccountSid=OTHER_SID)
    # signed by the other organisation, on its own flow: this call is none of its
    theirs = twilio_post(client, f"/hooks/telephony/twilio/leg/{other_line['flow'].pk}/billing", params,
                         token=OTHER_TOKEN)  # fmt: skip
    unknown = twilio_post(client, f"/hooks/telephony/twilio/leg/{uuid.uuid4()}/billing", _leg("CA-ann", ANN,
                          "in-progress", timezone.now(), 1))  # fmt: skip
    assert (theirs.status_code, unknown.status_code) == (404, 404)
    assert CallEvent.objects.count() == before
    assert PhoneCall.objects.get(provider_call_id="CA100").agent is None


def test_a_leg_callback_without_its_parent_is_a_clear_422(client, line):
    _ring_billing(client, line)
    params = _leg("CA-ann", ANN, "in-progress", timezone.now(), 1)
    del params["ParentCallSid"]
    response = twilio_post(client, f"/hooks/telephony/twilio/leg/{line['flow'].pk}/billing", params)
    assert response.status_code == 422 and response.json()["errors"] == {"ParentCallSid": ["Required"]}
    assert not CallEvent.objects.filter(provider_call_id="CA-ann").exists()
