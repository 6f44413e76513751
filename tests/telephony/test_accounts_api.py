"""/api/v1/telephony/accounts and /numbers against the local provider fake: roles, tenants, bad input, outages."""

from __future__ import annotations

from octopushx.calls import services as call_services
from octopushx.core.models import AuditEntry
from octopushx.telephony.models import PhoneNumber, ProviderAccount
from octopushx.tenancy.roles import Role
from tests.telephony import fakes
from tests.telephony.samples import support_line

ACCOUNTS = "/api/v1/telephony/accounts"
NUMBERS = "/api/v1/telephony/numbers"
TWILIO = {"provider": "twilio", "account_sid": fakes.TWILIO_SID, "auth_token": fakes.TWILIO_TOKEN}
VONAGE = {
    "provider": "vonage",
    "application_id": fakes.VONAGE_APP_ID,
    "private_key": fakes.VONAGE_PRIVATE_KEY,
    "signature_secret": fakes.VONAGE_SIGNATURE_SECRET,
    "api_key": fakes.VONAGE_API_KEY,
    "api_secret": fakes.VONAGE_API_SECRET,
}


def _connect(api, body=TWILIO):
    response = api.post(ACCOUNTS, body)
    assert response.status_code == 201, response.json()
    return response.json()


def _flow(api):
    response = api.post("/api/v1/telephony/flows", {"definition": support_line()})
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def test_connecting_twilio_checks_the_credentials_seals_them_and_lists_the_numbers(line_org, api_as, fake_provider):
    data = _connect(api_as(Role.ADMIN))
    assert (data["provider"], data["account_id"], data["status"], data["numbers"]) == ("twilio", fakes.TWILIO_SID, "connected", 2)  # fmt: skip
    assert data["auth_token_set"] is True and data["api_key_secret_set"] is False
    assert call_services.credential(line_org, "twilio_auth_token") == fakes.TWILIO_TOKEN
    assert fake_provider.seen("GET", f"/Accounts/{fakes.TWILIO_SID}.json")
    numbers = sorted(PhoneNumber.objects.filter(tenant=line_org).values_list("number", flat=True))
    assert numbers == ["+442079460001", "+442079460002"]
    assert AuditEntry.objects.filter(tenant=line_org, action="provider_account.connected").count() == 1


def test_an_api_key_is_used_for_rest_and_the_auth_token_is_still_checked(line_org, api_as, fake_provider):
    body = {**TWILIO, "api_key_sid": fakes.TWILIO_KEY_SID, "api_key_secret": fakes.TWILIO_KEY_SECRET}
    api = api_as(Role.ADMIN)
    data = _connect(api, body)
    assert data["api_key_sid"] == fakes.TWILIO_KEY_SID and data["api_key_secret_set"] is True
    users = {r.headers["authorization"] for r in fake_provider.seen("GET", "IncomingPhoneNumbers")}
    assert len(users) == 1 and users.pop().startswith("Basic ")
    fake_provider.twilio.accounts[fakes.TWILIO_SID]["auth_token"] = "rotated"
    response = api.post(ACCOUNTS, body)
    assert response.status_code == 422  # the key works, the token (which signs webhooks) does not


def test_wrong_credentials_are_422_with_a_clear_message_and_nothing_is_saved(line_org, api_as, fake_provider):
    response = api_as(Role.ADMIN).post(ACCOUNTS, {**TWILIO, "auth_token": "wrong-token"})
    assert response.status_code == 422
    assert "Twilio refused the credentials" in response.json()["errors"]["__all__"][0]
    assert not ProviderAccount.objects.exists()
    assert call_services.credential(line_org, "twilio_auth_token") == ""


def test_missing_and_malformed_fields_are_422_by_field_before_the_provider_is_asked(line_org, api_as, fake_provider):
    api = api_as(Role.ADMIN)
    response = api.post(ACCOUNTS, {"provider": "twilio", "account_sid": "XX1"})
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert "account_sid" in errors and errors["auth_token"] == ["Required"]
    response = api.post(ACCOUNTS, {**VONAGE, "private_key": "not a key"})
    assert response.status_code == 422 and "private_key" in response.json()["errors"]
    assert fake_provider.requests == []


def test_a_provider_outage_is_502_and_nothing_is_saved(line_org, api_as, fake_provider):
    fake_provider.outage = 503
    response = api_as(Role.ADMIN).post(ACCOUNTS, TWILIO)
    assert response.status_code == 502
    assert "try again" in response.json()["detail"]
    assert not ProviderAccount.objects.exists()


def test_connecting_vonage_checks_the_api_key_and_the_private_key(line_org, api_as, fake_provider):
    data = _connect(api_as(Role.OWNER), VONAGE)
    assert (data["provider"], data["account_id"], data["numbers"]) == ("vonage", fakes.VONAGE_APP_ID, 2)
    assert data["private_key_set"] and data["signature_secret_set"] and data["api_secret_set"]
    assert fake_provider.seen("GET", "/v1/calls")  # the JWT signed with the private key was accepted
    assert call_services.credential(line_org, "vonage_signature_secret") == fakes.VONAGE_SIGNATURE_SECRET


def test_a_vonage_private_key_of_another_application_is_422(line_org, api_as, fake_provider):
    other = fakes.pem(fakes._rsa_key())
    response = api_as(Role.ADMIN).post(ACCOUNTS, {**VONAGE, "private_key": other})
    assert response.status_code == 422
    assert "Vonage refused the credentials while checking the private key" in response.json()["errors"]["__all__"][0]


def test_disconnecting_forgets_the_secrets_and_the_numbers(line_org, api_as, fake_provider):
    api = api_as(Role.ADMIN)
    account = _connect(api)
    response = api.delete(f"{ACCOUNTS}/{account['id']}")
    assert response.status_code == 204
    assert not ProviderAccount.objects.exists() and not PhoneNumber.objects.exists()
    assert call_services.credential(line_org, "twilio_auth_token") == ""
    assert AuditEntry.objects.filter(tenant=line_org, action="provider_account.disconnected").exists()


def test_agents_cannot_see_accounts_and_managers_cannot_connect(line_org, api_as, fake_provider):
    agent, manager = api_as(Role.AGENT), api_as(Role.MANAGER)
    assert agent.get(ACCOUNTS).status_code == 403
    assert agent.get(NUMBERS).status_code == 403
    assert manager.get(ACCOUNTS).status_code == 200
    assert manager.post(ACCOUNTS, TWILIO).status_code == 403
    assert fake_provider.requests == []


def test_another_organisations_account_and_numbers_are_404(line_org, other_org, api_as, fake_provider):
    account = _connect(api_as(Role.ADMIN))
    number = PhoneNumber.objects.filter(tenant=line_org).first()
    outsider = api_as(Role.OWNER, tenant=other_org)
    assert outsider.delete(f"{ACCOUNTS}/{account['id']}").status_code == 404
    assert outsider.patch(f"{NUMBERS}/{number.pk}", {"flow_id": None}).status_code == 404
    assert outsider.get(NUMBERS).json()["items"] == []
    assert ProviderAccount.objects.count() == 1


def test_assigning_a_number_sets_twilio_webhooks_to_our_urls(line_org, api_as, fake_provider):
    api = api_as(Role.ADMIN)
    account = _connect(api)
    flow_id = _flow(api)
    number = PhoneNumber.objects.get(number="+442079460001")
    response = api.patch(f"{NUMBERS}/{number.pk}", {"flow_id": flow_id})
    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["flow"]["id"] == flow_id and data["webhooks_set_at"] and data["webhook_error"] == ""
    stored = fake_provider.twilio.numbers[fakes.TWILIO_SID][0]
    assert stored["voice_url"] == f"https://octopushx.test/hooks/telephony/twilio/incoming/{number.pk}"
    assert stored["status_callback"] == f"https://octopushx.test/hooks/telephony/twilio/status/{account['id']}"
    assert (stored["voice_method"], stored["status_callback_method"]) == ("POST", "POST")


def test_assigning_a_vonage_number_sets_the_application_urls_and_links_the_number(line_org, api_as, fake_provider):
    api = api_as(Role.ADMIN)
    account = _connect(api, VONAGE)
    number = PhoneNumber.objects.get(number="+447700900501")
    response = api.patch(f"{NUMBERS}/{number.pk}", {"flow_id": _flow(api)})
    assert response.status_code == 200 and response.json()["webhook_error"] == ""
    hooks = fake_provider.vonage.applications[fakes.VONAGE_APP_ID]["capabilities"]["voice"]["webhooks"]
    assert hooks["answer_url"]["address"] == f"https://octopushx.test/hooks/telephony/vonage/answer/{account['id']}"
    assert hooks["event_url"]["address"] == f"https://octopushx.test/hooks/telephony/vonage/event/{account['id']}"
    assert fake_provider.vonage.numbers[0]["app_id"] == fakes.VONAGE_APP_ID


def test_refused_webhooks_are_kept_on_the_number_and_a_retry_sets_them(line_org, api_as, fake_provider):
    api = api_as(Role.ADMIN)
    _connect(api)
    number = PhoneNumber.objects.get(number="+442079460001")
    fake_provider.fail("IncomingPhoneNumbers/PN", 500)
    data = api.patch(f"{NUMBERS}/{number.pk}", {"flow_id": _flow(api)}).json()
    assert data["webhooks_set_at"] is None and "Twilio failed" in data["webhook_error"]
    fake_provider.failures.clear()
    data = api.post(f"{NUMBERS}/{number.pk}/webhooks").json()
    assert data["webhooks_set_at"] and data["webhook_error"] == ""


def test_an_unknown_flow_is_422_and_the_number_is_unchanged(line_org, api_as, fake_provider):
    api = api_as(Role.ADMIN)
    _connect(api)
    number = PhoneNumber.objects.get(number="+442079460001")
    response = api.patch(f"{NUMBERS}/{number.pk}", {"flow_id": "not-a-flow"})
    assert response.status_code == 422 and "flow_id" in response.json()["errors"]
    number.refresh_from_db()
    assert number.flow_id is None and fake_provider.seen("POST", "IncomingPhoneNumbers/PN") == []


def test_sync_adds_new_numbers_and_removes_gone_ones(line_org, api_as, fake_provider):
    api = api_as(Role.ADMIN)
    _connect(api)
    numbers = fake_provider.twilio.numbers[fakes.TWILIO_SID]
    numbers.pop(1)
    numbers.append({"sid": "PN" + "c" * 32, "phone_number": "+442079460003", "friendly_name": "New"})
    data = api.post(f"{NUMBERS}/sync").json()
    assert (data["added"], data["removed"]) == (["+442079460003"], ["+442079460002"])
    assert [n["number"] for n in data["items"]] == ["+442079460001", "+442079460003"]


def test_sync_while_the_provider_is_down_is_502_and_keeps_the_numbers(line_org, api_as, fake_provider):
    api = api_as(Role.ADMIN)
    _connect(api)
    fake_provider.outage = 500
    response = api.post(f"{NUMBERS}/sync")
    assert response.status_code == 502
    assert PhoneNumber.objects.filter(tenant=line_org).count() == 2


def test_a_number_another_organisation_connected_is_skipped(line_org, other_org, api_as, fake_provider):
    _connect(api_as(Role.ADMIN))
    response = api_as(Role.OWNER, tenant=other_org).post(ACCOUNTS, TWILIO)
    assert response.status_code == 201
    assert PhoneNumber.objects.filter(tenant=other_org).count() == 0
    assert PhoneNumber.objects.filter(tenant=line_org).count() == 2
