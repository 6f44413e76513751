"""The provider webhooks trust nothing: signatures, tenants, suspended organisations, unknown ids, duplicates."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from octopushx.telephony.models import CallEvent, PhoneCall, PhoneNumber
from octopushx.tenancy.models import Team
from tests.conftest import make_member
from tests.telephony.providers import (
    CALLER,
    LINE,
    SID,
    connect,
    twilio_post,
    twilio_time,
    vonage_post,
)

pytestmark = pytest.mark.django_db
OTHER_SID = "AC" + "9" * 32
OTHER_TOKEN = "twilio-token-of-other"
OTHER_SECRET = "vonage-secret-of-other"


@pytest.fixture
def line(line_org):
    return connect(line_org)


@pytest.fixture
def other_line(other_org):
    Team.objects.create(tenant=other_org, name="Support")
    make_member(other_org, email="owner@acme.test")
    return connect(other_org, sid=OTHER_SID, token=OTHER_TOKEN, secret=OTHER_SECRET, line="+441134960999")


def _incoming(number) -> str:
    return f"/hooks/telephony/twilio/incoming/{number.pk}"


def _params(**extra) -> dict:
    return {"AccountSid": SID, "CallSid": "CA1", "From": CALLER, "To": LINE, **extra}


def test_incoming_call_answers_the_start_block_and_logs_a_ringing_call_once(client, line):
    first = twilio_post(client, _incoming(line["numbers"]["twilio"]), _params())
    again = twilio_post(client, _incoming(line["numbers"]["twilio"]), _params())
    assert first.status_code == 200 and first.content == again.content
    assert f"/hooks/telephony/twilio/voice/{line['flow'].pk}/menu".encode() in first.content
    phone_call = PhoneCall.objects.get()
    assert (phone_call.state, phone_call.direction, phone_call.flow) == ("ringing", "inbound", line["flow"])
    assert [e["block"] for e in phone_call.route] == ["hours"]  # the repeated delivery added nothing


def test_a_bad_twilio_signature_is_403_and_stores_nothing(client, line):
    response = twilio_post(client, _incoming(line["numbers"]["twilio"]), _params(), token="not-the-token")
    status = twilio_post(client, f"/hooks/telephony/twilio/status/{line['twilio'].pk}",
                         _params(CallStatus="completed"), signature="forged")  # fmt: skip
    assert (response.status_code, status.status_code) == (403, 403)
    assert not PhoneCall.objects.exists() and not CallEvent.objects.exists()


def test_a_bad_vonage_jwt_is_403_and_stores_nothing(client, line):
    body = {"uuid": "v-1", "status": "completed", "timestamp": timezone.now().isoformat()}
    response = vonage_post(client, f"/hooks/telephony/vonage/event/{line['vonage'].pk}", body, secret="wrong")
    assert response.status_code == 403 and not CallEvent.objects.exists()


def test_another_tenants_token_cannot_drive_this_tenants_number(client, line, other_line):
    response = twilio_post(client, _incoming(line["numbers"]["twilio"]), _params(AccountSid=OTHER_SID),
                           token=OTHER_TOKEN)  # fmt: skip
    assert response.status_code == 403 and not PhoneCall.objects.exists()


def test_unknown_number_account_or_flow_is_404(client, line):
    missing = uuid.uuid4()
    assert twilio_post(client, f"/hooks/telephony/twilio/incoming/{missing}", _params()).status_code == 404
    assert twilio_post(client, f"/hooks/telephony/twilio/status/{missing}", _params()).status_code == 404
    assert twilio_post(client, f"/hooks/telephony/twilio/voice/{missing}/menu", _params()).status_code == 404
    # the Vonage account's id on the Twilio status URL is no Twilio account
    assert twilio_post(client, f"/hooks/telephony/twilio/status/{line['vonage'].pk}", _params()).status_code == 404


def test_vonage_answer_for_another_tenants_number_is_404(client, line, other_line):
    body = {"to": "441134960999", "from": CALLER.lstrip("+"), "uuid": "v-9", "conversation_uuid": "CON-9"}
    response = vonage_post(client, f"/hooks/telephony/vonage/answer/{line['vonage'].pk}", body, method="get")
    assert response.status_code == 404 and not PhoneCall.objects.exists()


def test_a_step_for_a_call_of_another_tenant_is_404(client, line, other_line):
    twilio_post(client, _incoming(line["numbers"]["twilio"]), _params())
    step = f"/hooks/telephony/twilio/voice/{other_line['flow'].pk}/menu?step=choice&attempt=0"
    response = twilio_post(client, step, _params(AccountSid=OTHER_SID, Digits="1"), token=OTHER_TOKEN)
    assert response.status_code == 404
    assert [e["block"] for e in PhoneCall.objects.get().route] == ["hours"]


def test_a_suspended_organisation_is_refused(client, line):
    tenant = line["flow"].tenant
    tenant.suspended_at = timezone.now()
    tenant.save(update_fields=["suspended_at"])
    response = twilio_post(client, _incoming(line["numbers"]["twilio"]), _params())
    assert response.status_code == 403 and not PhoneCall.objects.exists()


def test_a_number_with_no_flow_says_it_is_not_in_use_and_hangs_up(client, line):
    PhoneNumber.objects.filter(pk=line["numbers"]["twilio"].pk).update(flow=None)
    response = twilio_post(client, _incoming(line["numbers"]["twilio"]), _params())
    assert b"This number is not in use." in response.content and b"<Hangup" in response.content
    assert not PhoneCall.objects.exists()


def test_missing_call_sid_is_a_clear_422(client, line):
    response = twilio_post(client, _incoming(line["numbers"]["twilio"]), {"AccountSid": SID, "From": CALLER})
    assert response.status_code == 422 and response.json()["errors"] == {"CallSid": ["Required"]}


def _status(client, line, call_sid: str, status: str, at, sequence: int = 0, **extra):
    params = _params(CallSid=call_sid, CallStatus=status, Timestamp=twilio_time(at), SequenceNumber=str(sequence),
                     **extra)  # fmt: skip
    return twilio_post(client, f"/hooks/telephony/twilio/status/{line['twilio'].pk}", params)


def test_an_unknown_call_id_is_stored_for_inspection_and_answered_200(client, line):
    response = _status(client, line, "CA-unknown", "completed", timezone.now())
    assert response.status_code == 200 and response.json() == {"stored": True, "duplicate": False,
                                                                  "known_call": False}  # fmt: skip
    event = CallEvent.objects.get()
    assert event.phone_call is None and event.status == "completed" and event.provider_call_id == "CA-unknown"


def test_a_duplicate_status_callback_is_stored_once(client, line):
    twilio_post(client, _incoming(line["numbers"]["twilio"]), _params())
    moment = timezone.now()
    first = _status(client, line, "CA1", "completed", moment, 3, CallDuration="40")
    second = _status(client, line, "CA1", "completed", moment, 3, CallDuration="40")
    assert (first.json()["stored"], second.json()["stored"], second.status_code) == (True, False, 200)
    assert CallEvent.objects.count() == 1 and PhoneCall.objects.get().state == "completed"


def test_an_event_that_came_before_the_call_is_adopted_when_the_call_is_logged(client, line):
    _status(client, line, "CA1", "ringing", timezone.now())
    twilio_post(client, _incoming(line["numbers"]["twilio"]), _params())
    assert CallEvent.objects.get().phone_call == PhoneCall.objects.get()


def test_a_child_leg_belongs_to_its_parent_call_and_names_the_agent(client, line):
    twilio_post(client, _incoming(line["numbers"]["twilio"]), _params())
    _status(client, line, "CA-leg", "in-progress", timezone.now(), ParentCallSid="CA1", To="+447700900002")
    phone_call = PhoneCall.objects.get()
    assert CallEvent.objects.get().phone_call == phone_call
    assert phone_call.agent.email == "ann@acme.test" and phone_call.answered_at is not None
    assert phone_call.call.agent == phone_call.agent
