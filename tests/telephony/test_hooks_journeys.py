"""Whole inbound calls through the signed provider webhooks: answered, voicemail, missed, abandoned."""

from __future__ import annotations

import base64
from datetime import timedelta
from xml.etree import ElementTree

import pytest
from django.utils import timezone

from octopushx.calls.models import Call, CallStatus
from octopushx.core import jobs
from octopushx.crm.models import Contact, ContactPhone, Task
from octopushx.telephony.models import PhoneCall, Presence
from tests.telephony.providers import (
    CALLER,
    LINE,
    SID,
    TOKEN,
    connect,
    path_of,
    seen_requests,
    twilio_post,
    twilio_time,
    vonage_post,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def line(line_org):
    return connect(line_org)


@pytest.fixture
def dana(line_org):
    contact = Contact.objects.create(tenant=line_org, first_name="Dana", last_name="Caller")
    ContactPhone.objects.create(tenant=line_org, contact=contact, number=CALLER, is_primary=True)
    return contact


def _twiml(response) -> ElementTree.Element:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/xml")
    return ElementTree.fromstring(response.content)


def _call_params(**extra) -> dict:
    return {"AccountSid": SID, "CallSid": "CA100", "From": CALLER, "To": LINE, "Direction": "inbound", **extra}


def _status(client, line, status: str, at, sequence: int, **extra):
    params = _call_params(CallStatus=status, Timestamp=twilio_time(at), SequenceNumber=str(sequence), **extra)
    return twilio_post(client, f"/hooks/telephony/twilio/status/{line['twilio'].pk}", params)


def _ring_billing(client, line) -> ElementTree.Element:
    """Incoming → hours (redirect) → menu → "1" → the billing ring group's Dial."""
    number = line["numbers"]["twilio"]
    start = _twiml(twilio_post(client, f"/hooks/telephony/twilio/incoming/{number.pk}", _call_params()))
    redirect = start.find("Redirect").text
    menu = _twiml(twilio_post(client, path_of(redirect), _call_params()))
    gather = menu.find("Gather").get("action")
    return _twiml(twilio_post(client, path_of(gather), _call_params(Digits="1")))


def test_menu_to_ring_group_answered_recorded_and_analysed_with_contact_and_agent(client, line, dana, recordings):
    dial = _ring_billing(client, line)
    assert dial.find("Dial/Number").text == "+447700900001"  # the owner's line
    phone_call = PhoneCall.objects.get(provider_call_id="CA100")
    owner = Presence.objects.get(phone_number="+447700900001").user
    assert phone_call.ringing_users == [str(owner.pk)]
    assert [(e["block"], e["what"]) for e in phone_call.route] == [
        ("hours", "open → menu"), ("menu", "menu played"), ("menu", "pressed 1 → billing"),
        ("billing", f"ringing {owner.email}"),
    ]  # fmt: skip
    started = timezone.now() - timedelta(seconds=100)
    after = path_of(dial.find("Dial").get("action"))
    done = _twiml(twilio_post(client, after, _call_params(DialCallStatus="completed", DialCallSid="CA200",
                                                          DialCallDuration="80")))  # fmt: skip
    assert done.find("Hangup") is not None
    assert Presence.objects.get(user=owner).status == "busy"
    recording = twilio_post(client, f"/hooks/telephony/twilio/recording/{line['flow'].pk}/billing", _call_params(
        RecordingSid="RE1", RecordingUrl=f"{recordings}/2010-04-01/Accounts/{SID}/Recordings/RE1",
        RecordingStatus="completed", RecordingChannels="2"))  # fmt: skip
    assert recording.status_code == 200, recording.content
    assert (
        _status(client, line, "completed", started + timedelta(seconds=100), 3, CallDuration="100").status_code == 200
    )
    jobs.drain()
    phone_call.refresh_from_db()
    call = Call.objects.get(pk=phone_call.call_id)
    assert call.status == CallStatus.ANALYSED, call.failure_reason
    assert (call.outcome, call.contact, call.agent, call.channel_roles) == ("answered", dana, owner, "customer,agent")
    assert (phone_call.state, phone_call.agent, phone_call.duration) == ("completed", owner, 100)
    assert phone_call.answered_at is not None and phone_call.ended_at is not None
    assert Presence.objects.get(user=owner).status == "available"
    fetched = seen_requests()[0]  # the fetch job downloads with the tenant's own Twilio credentials
    assert fetched["path"].endswith("/RE1.wav?RequestedChannels=2")
    assert fetched["auth"] == "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()


def test_menu_timeout_goes_to_voicemail_transcribed_with_a_task_for_the_team(client, line, dana, recordings):
    number = line["numbers"]["twilio"]
    start = _twiml(twilio_post(client, f"/hooks/telephony/twilio/incoming/{number.pk}", _call_params()))
    menu = _twiml(twilio_post(client, path_of(start.find("Redirect").text), _call_params()))
    for _ in range(3):  # silence: the menu plays twice more, then no_input → voicemail
        action = path_of(menu.find("Gather").get("action"))
        menu = _twiml(twilio_post(client, action, _call_params(Digits="")))
    assert menu.find("Record") is not None
    recorded = path_of(menu.find("Record").get("action"))
    assert _twiml(twilio_post(client, recorded, _call_params())).find("Hangup") is not None
    response = twilio_post(client, f"/hooks/telephony/twilio/recording/{line['flow'].pk}/vm", _call_params(
        RecordingSid="RE9", RecordingUrl=f"{recordings}/Recordings/RE9", RecordingStatus="completed",
        RecordingChannels="1"))  # fmt: skip
    assert response.json()["voicemail"] is True
    _status(client, line, "completed", timezone.now(), 5, CallDuration="60")
    jobs.drain()
    phone_call = PhoneCall.objects.get(provider_call_id="CA100")
    call = phone_call.call
    call.refresh_from_db()
    assert (call.outcome, call.status, call.channel_roles) == ("voicemail", CallStatus.ANALYSED, "")
    assert [e["what"] for e in phone_call.route if e["block"] == "menu"][-1] == "no key → vm"
    tasks = Task.objects.filter(tenant=line["flow"].tenant)
    assert sorted(t.assignee.email for t in tasks) == ["ann@acme.test", "bob@acme.test"]
    assert all(t.contact == dana and str(call.pk) in t.description for t in tasks)
    jobs.drain()  # a second run of the job makes no second task
    assert Task.objects.filter(tenant=line["flow"].tenant).count() == 2


def test_ring_group_nobody_answers_then_caller_hangs_up_is_missed(client, line):
    dial = _ring_billing(client, line)
    after = path_of(dial.find("Dial").get("action"))
    voicemail = _twiml(twilio_post(client, after, _call_params(DialCallStatus="no-answer")))
    assert voicemail.find("Redirect").text.endswith("/vm")  # the group's `next`
    _status(client, line, "completed", timezone.now() + timedelta(seconds=40), 4, CallDuration="40")
    phone_call = PhoneCall.objects.get(provider_call_id="CA100")
    assert phone_call.call.outcome == "missed" and phone_call.call.status == CallStatus.NO_RECORDING
    assert phone_call.ringing_users == [] and phone_call.agent is None


def test_caller_hanging_up_within_15_seconds_is_abandoned(client, line):
    number = line["numbers"]["twilio"]
    twilio_post(client, f"/hooks/telephony/twilio/incoming/{number.pk}", _call_params())
    _status(client, line, "completed", timezone.now() + timedelta(seconds=9), 2, CallDuration="9")
    call = PhoneCall.objects.get(provider_call_id="CA100").call
    assert (call.outcome, call.status) == ("abandoned", CallStatus.NO_RECORDING)


def test_vonage_answer_events_and_connect_outcome(client, line, dana):
    account = line["vonage"]
    body = {"to": LINE.lstrip("+"), "from": CALLER.lstrip("+"), "uuid": "v-1", "conversation_uuid": "CON-1"}
    answer = vonage_post(client, f"/hooks/telephony/vonage/answer/{account.pk}", body, method="get")
    assert answer.status_code == 200, answer.content
    ncco = answer.json()
    assert [a["action"] for a in ncco][-1] == "input"  # hours → menu inline
    choice = path_of(ncco[-1]["eventUrl"][0])
    ring = vonage_post(client, choice, {"uuid": "v-1", "conversation_uuid": "CON-1", "dtmf": {"digits": "1"}})
    assert any(a["action"] == "notify" for a in ring.json())
    phone_call = PhoneCall.objects.get(provider_call_id="v-1")
    assert phone_call.contact == dana and phone_call.conversation_id == "CON-1"
    assert [e["block"] for e in phone_call.route] == ["hours", "menu", "menu", "billing"]
    # the owner's leg joins the conversation and answers (a leg of the call, found by its conversation)
    event = f"/hooks/telephony/vonage/event/{account.pk}"
    now = timezone.now()
    vonage_post(client, event, {"uuid": "leg-1", "conversation_uuid": "CON-1", "status": "answered",
                                "to": "447700900001", "timestamp": now.isoformat()})  # fmt: skip
    vonage_post(client, event, {"uuid": "v-1", "conversation_uuid": "CON-1", "status": "completed",
                                "duration": "70", "timestamp": (now + timedelta(seconds=70)).isoformat()})  # fmt: skip
    phone_call.refresh_from_db()
    assert phone_call.agent.email == "owner@acme.test" and phone_call.call.outcome == "answered"
    assert phone_call.duration == 70 and phone_call.state == "completed"


def test_the_call_page_shows_the_route_and_the_outcome(client, line, web_as):
    dial = _ring_billing(client, line)
    twilio_post(client, path_of(dial.find("Dial").get("action")), _call_params(DialCallStatus="no-answer"))
    _status(client, line, "completed", timezone.now() + timedelta(seconds=40), 4, CallDuration="40")
    call = PhoneCall.objects.get(provider_call_id="CA100").call
    page = web_as("owner").get(f"/calls/{call.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="call-route"' in html and 'data-testid="call-outcome">Missed' in html
    assert "pressed 1 → billing" in html and 'data-testid="call-no-recording"' in html


def test_vonage_voicemail_recording_is_found_by_its_conversation(client, line, recordings):
    account = line["vonage"]
    body = {"to": LINE.lstrip("+"), "from": CALLER.lstrip("+"), "uuid": "v-2", "conversation_uuid": "CON-2"}
    vonage_post(client, f"/hooks/telephony/vonage/answer/{account.pk}", body, method="get")
    response = vonage_post(client, f"/hooks/telephony/vonage/recording/{line['flow'].pk}/vm", {
        "recording_url": f"{recordings}/v1/files/rec-2", "recording_uuid": "rec-2", "conversation_uuid": "CON-2",
    })  # fmt: skip
    assert response.status_code == 200 and response.json()["voicemail"] is True
    call = PhoneCall.objects.get(provider_call_id="v-2").call
    call.refresh_from_db()
    assert call.status == CallStatus.FETCHING and call.recording_url.endswith("/rec-2")


def test_a_click_to_call_recording_on_the_account_url_enters_the_intake_dual_channel(client, line, recordings):
    from octopushx.telephony import calllog

    phone_call, _ = calllog.open_call(line["flow"].tenant, provider="twilio", provider_call_id="CA-out",
                                      direction="outbound", from_number=LINE, to_number=CALLER)  # fmt: skip
    response = twilio_post(client, f"/hooks/telephony/twilio/recording/{line['twilio'].pk}", {
        "AccountSid": SID, "CallSid": "CA-out", "RecordingSid": "RE5", "RecordingUrl": f"{recordings}/RE5",
        "RecordingStatus": "completed", "RecordingChannels": "2",
    })  # fmt: skip
    assert response.status_code == 200 and response.json()["voicemail"] is False
    call = Call.objects.get(pk=phone_call.call_id)
    assert (call.status, call.channel_roles) == (CallStatus.FETCHING, "agent,customer")


def test_a_call_over_the_line_limits_hears_why_hangs_up_and_is_logged_refused(client, line):
    from octopushx.telephony.models import CallState, LineLimits

    tenant = line["flow"].tenant
    LineLimits.objects.create(tenant=tenant, max_concurrent_calls=1, monthly_minutes=0)
    PhoneCall.objects.create(tenant=tenant, provider="twilio", provider_call_id="CA-live", state=CallState.IN_PROGRESS)
    number = line["numbers"]["twilio"]
    url = f"/hooks/telephony/twilio/incoming/{number.pk}"
    refused = _twiml(twilio_post(client, url, _call_params()))
    assert [child.tag for child in refused] == ["Say", "Hangup"]
    assert "lines are busy" in refused.find("Say").text
    again = _twiml(twilio_post(client, url, _call_params()))  # the provider retried the first webhook
    assert ElementTree.tostring(again) == ElementTree.tostring(refused)
    _status(client, line, "completed", timezone.now() + timedelta(seconds=6), 2, CallDuration="6")
    phone_call = PhoneCall.objects.get(provider_call_id="CA100")
    assert [entry["block"] for entry in phone_call.route] == ["limits"]
    assert (phone_call.call.outcome, phone_call.call.status) == ("refused", CallStatus.NO_RECORDING)
