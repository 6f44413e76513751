"""Click-to-call: the member's line, POST /api/v1/telephony/calls, and the bridge hook the provider fetches."""

from __future__ import annotations

import hashlib
import time
from xml.etree import ElementTree

import jwt
import pytest
from twilio.request_validator import RequestValidator

from octopushx.calls.models import Call, CallStatus
from octopushx.core.context import Actor
from octopushx.crm.models import Contact, ContactPhone
from octopushx.telephony import accounts
from octopushx.telephony.models import PhoneCall, PhoneNumber, Presence
from octopushx.tenancy.roles import Role
from tests.conftest import ApiClient, make_member
from tests.telephony import fakes
from tests.telephony.test_accounts_api import TWILIO, VONAGE

CALLS = "/api/v1/telephony/calls"
LINE = "/api/v1/telephony/line"
CUSTOMER = "+447400123456"

pytestmark = pytest.mark.django_db


def _connected(org, provider="twilio"):
    owner = make_member(org, Role.OWNER, email=f"owner-{provider}@acme.test")
    body = TWILIO if provider == "twilio" else VONAGE
    actor = Actor(user=owner.user, role=Role.OWNER)
    accounts.connect(org, actor, provider, {k: v for k, v in body.items() if k != "provider"})
    return PhoneNumber.objects.filter(tenant=org, provider=provider).order_by("number").first()


def _agent(org, line="+447911123456"):
    api = ApiClient(make_member(org, Role.AGENT, email="caller@acme.test"))
    if line:
        assert api.put(LINE, {"phone_number": line}).status_code == 200
    return api


def test_a_member_sets_their_line_in_e164(line_org, api_as):
    api = api_as(Role.AGENT)
    response = api.put(LINE, {"phone_number": "07911 123456"})
    assert response.status_code == 200
    assert response.json() == {"phone_number": "+447911123456", "sip_uri": "", "rings": "+447911123456"}
    response = api.put(LINE, {"phone_number": "+447911123456", "sip_uri": "sip:ann@acme.sip.twilio.com"})
    assert response.json()["rings"] == "sip:ann@acme.sip.twilio.com"
    assert api.get(LINE).json()["sip_uri"] == "sip:ann@acme.sip.twilio.com"


def test_a_bad_line_is_422_by_field_and_nothing_changes(line_org, api_as):
    api = api_as(Role.AGENT)
    response = api.put(LINE, {"phone_number": "12", "sip_uri": "alice"})
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"phone_number", "sip_uri"}
    assert not Presence.objects.exists()


def test_auditors_have_no_line(line_org, api_as):
    assert api_as(Role.AUDITOR).put(LINE, {"phone_number": "+447911123456"}).status_code == 403


def test_click_to_call_rings_the_agent_then_logs_a_live_call_on_the_contact(line_org, fake_provider):
    origin = _connected(line_org)
    api = _agent(line_org)
    contact = Contact.objects.create(
        tenant=line_org, first_name="Dana", last_name="Customer", owner=api.membership.user
    )
    ContactPhone.objects.create(tenant=line_org, contact=contact, number=CUSTOMER, is_primary=True)
    response = api.post(CALLS, {"to": "07400 123456", "contact_id": str(contact.pk)})
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["state"], data["direction"], data["to_number"], data["from_number"]) == ("queued", "outbound", CUSTOMER, origin.number)  # fmt: skip
    placed = fake_provider.twilio.calls[0]["params"]
    assert (placed["To"], placed["From"]) == ("+447911123456", origin.number)  # the agent's line rings first
    assert placed["Url"] == f"https://octopushx.test/hooks/telephony/twilio/bridge/{data['id']}"
    assert placed["StatusCallback"] == f"https://octopushx.test/hooks/telephony/twilio/status/{origin.account_id}"
    phone_call = PhoneCall.objects.get(pk=data["id"])
    assert phone_call.provider_call_id == fake_provider.twilio.calls[0]["sid"] == data["provider_call_id"]
    call = Call.objects.get(pk=data["call_id"])
    assert (call.status, call.contact, call.agent.email) == (CallStatus.LIVE, contact, "caller@acme.test")


def test_click_to_call_through_vonage_rings_the_agents_sip_uri(line_org, fake_provider):
    origin = _connected(line_org, "vonage")
    api = _agent(line_org, line=None)
    api.put(LINE, {"sip_uri": "sip:caller@acme.example"})
    response = api.post(CALLS, {"to": CUSTOMER})
    assert response.status_code == 201, response.json()
    request = fake_provider.vonage.calls[0]["request"]
    assert request["to"] == [{"uri": "sip:caller@acme.example", "type": "sip"}]
    assert request["from"] == {"number": origin.number.lstrip("+"), "type": "phone"}
    assert request["answer_url"] == [f"https://octopushx.test/hooks/telephony/vonage/bridge/{response.json()['id']}"]


def test_without_a_line_the_call_is_422_naming_where_to_set_it(line_org, fake_provider):
    _connected(line_org)
    response = _agent(line_org, line=None).post(CALLS, {"to": CUSTOMER})
    assert response.status_code == 422
    assert "Set your phone line first (Telephony → My phone line)" in response.json()["errors"]["line"][0]
    assert fake_provider.twilio.calls == [] and not PhoneCall.objects.exists()


def test_premium_rate_and_invalid_numbers_are_refused(line_org, fake_provider):
    _connected(line_org)
    api = _agent(line_org)
    response = api.post(CALLS, {"to": "+449098790000"})
    assert response.status_code == 422
    assert response.json()["errors"]["to"] == ["Premium-rate numbers cannot be called"]
    response = api.post(CALLS, {"to": "12345"})
    assert response.status_code == 422 and "not a valid phone number" in response.json()["errors"]["to"][0]
    assert fake_provider.twilio.calls == [] and not PhoneCall.objects.exists()


def test_over_the_line_limits_the_call_is_422_with_the_reason_and_nothing_is_placed(line_org, fake_provider):
    from octopushx.telephony.models import CallState, LineLimits

    _connected(line_org)
    LineLimits.objects.create(tenant=line_org, max_concurrent_calls=1, monthly_minutes=0)
    PhoneCall.objects.create(tenant=line_org, provider="twilio", provider_call_id="CA-live", state=CallState.RINGING)
    response = _agent(line_org).post(CALLS, {"to": CUSTOMER})
    assert response.status_code == 422 and response.json()["errors"]["limit"]
    assert fake_provider.twilio.calls == [] and PhoneCall.objects.count() == 1


def test_without_a_connected_account_the_call_is_422(line_org, fake_provider):
    response = _agent(line_org).post(CALLS, {"to": CUSTOMER})
    assert response.status_code == 422
    assert "Connect a Twilio or Vonage account" in response.json()["errors"]["__all__"][0]


def test_a_provider_failure_is_502_and_writes_no_call(line_org, fake_provider):
    _connected(line_org)
    api = _agent(line_org)
    fake_provider.fail("/Calls.json", 503)
    response = api.post(CALLS, {"to": CUSTOMER})
    assert response.status_code == 502 and "Twilio failed while placing the call" in response.json()["detail"]
    fake_provider.fail("/Calls.json", 401)
    response = api.post(CALLS, {"to": CUSTOMER})
    assert response.status_code == 422
    assert not PhoneCall.objects.exists() and not Call.objects.exists()


def test_a_contact_of_another_organisation_or_not_the_agents_to_see_is_404(line_org, other_org, fake_provider):
    _connected(line_org)
    api = _agent(line_org)
    stranger = Contact.objects.create(tenant=other_org, first_name="Not", last_name="Ours")
    assert api.post(CALLS, {"to": CUSTOMER, "contact_id": str(stranger.pk)}).status_code == 404
    colleague = make_member(line_org, Role.AGENT, email="colleague@acme.test").user
    theirs = Contact.objects.create(tenant=line_org, first_name="Their", last_name="Lead", owner=colleague)
    assert api.post(CALLS, {"to": CUSTOMER, "contact_id": str(theirs.pk)}).status_code == 404
    assert fake_provider.twilio.calls == []


def test_auditors_cannot_place_calls(line_org, api_as, fake_provider):
    _connected(line_org)
    assert api_as(Role.AUDITOR).post(CALLS, {"to": CUSTOMER}).status_code == 403


# --- the bridge -----------------------------------------------------------------------------------


def _placed(org, provider="twilio") -> PhoneCall:
    _connected(org, provider)
    response = _agent(org).post(CALLS, {"to": CUSTOMER})
    assert response.status_code == 201, response.json()
    return PhoneCall.objects.get(pk=response.json()["id"])


def test_the_bridge_dials_the_customer_with_the_org_number_and_records_both_channels(line_org, client, fake_provider):
    phone_call = _placed(line_org)
    url = f"http://testserver/hooks/telephony/twilio/bridge/{phone_call.pk}"
    params = {"CallSid": phone_call.provider_call_id, "AccountSid": fakes.TWILIO_SID, "CallStatus": "in-progress"}
    signature = RequestValidator(fakes.TWILIO_TOKEN).compute_signature(url, params)
    response = client.post(url, params, HTTP_X_TWILIO_SIGNATURE=signature)
    assert response.status_code == 200, response.content
    dial = ElementTree.fromstring(response.content).find("Dial")
    assert dial.get("callerId") == phone_call.from_number and dial.get("record") == "record-from-answer-dual"
    account_id = phone_call.number.account_id
    assert (
        dial.get("recordingStatusCallback") == f"https://octopushx.test/hooks/telephony/twilio/recording/{account_id}"
    )
    assert dial.find("Number").text == CUSTOMER


def test_an_unsigned_bridge_request_is_403_and_changes_nothing(line_org, client, fake_provider):
    phone_call = _placed(line_org)
    url = f"/hooks/telephony/twilio/bridge/{phone_call.pk}"
    before = PhoneCall.objects.values().get(pk=phone_call.pk)
    assert client.post(url, {"CallSid": "x"}, HTTP_X_TWILIO_SIGNATURE="bad").status_code == 403
    assert client.post(f"/hooks/telephony/twilio/bridge/{'0' * 8}-0000-4000-8000-{'0' * 12}").status_code == 403
    assert PhoneCall.objects.values().get(pk=phone_call.pk) == before


def test_the_vonage_bridge_answers_an_ncco_connect_with_recording(line_org, client, fake_provider):
    phone_call = _placed(line_org, "vonage")
    body = b'{"uuid": "x", "status": "answered"}'
    token = jwt.encode(
        {"iat": int(time.time()), "payload_hash": hashlib.sha256(body).hexdigest()},
        fakes.VONAGE_SIGNATURE_SECRET,
        algorithm="HS256",
    )
    url = f"/hooks/telephony/vonage/bridge/{phone_call.pk}"
    response = client.post(url, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.content
    record, connect = response.json()
    assert record["action"] == "record" and record["channels"] == 2
    assert connect["endpoint"] == [{"type": "phone", "number": CUSTOMER.lstrip("+")}]
    assert connect["from"] == phone_call.from_number.lstrip("+")
    wrong = jwt.encode({"iat": int(time.time())}, "not-the-secret", algorithm="HS256")
    assert client.post(url, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {wrong}").status_code == 403  # fmt: skip
