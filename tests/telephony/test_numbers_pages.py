"""The Phone numbers page, My phone line, and the call button beside CRM numbers; secrets never leave."""

from __future__ import annotations

import logging

from django.urls import reverse

from octopushx.crm.models import Company, Contact, ContactPhone
from octopushx.telephony.models import PhoneNumber, Presence, ProviderAccount
from octopushx.tenancy.roles import Role
from tests.conftest import ApiClient, make_member
from tests.telephony import fakes
from tests.telephony.test_accounts_api import TWILIO, VONAGE
from tests.telephony.test_click_to_call import _connected

CUSTOMER = "+447400123456"


def _form(body):
    return {k: v for k, v in body.items()}


def test_an_owner_connects_twilio_on_the_page_and_sees_its_numbers(line_org, web_as, fake_provider):
    client = web_as(Role.OWNER)
    response = client.post(reverse("telephony:connect"), _form(TWILIO))
    assert response.status_code == 302
    page = client.get(reverse("telephony:numbers")).content.decode()
    assert "+442079460001" in page and "+442079460002" in page
    assert "Disconnect Twilio" in page and "bought in the provider's console" in page


def test_wrong_credentials_on_the_page_are_422_and_nothing_is_saved(line_org, web_as, fake_provider):
    client = web_as(Role.ADMIN)
    response = client.post(reverse("telephony:connect"), {**TWILIO, "auth_token": "nope"})
    assert response.status_code == 422
    assert "Twilio refused the credentials" in response.content.decode()
    assert not ProviderAccount.objects.exists()


def test_assigning_on_the_page_answers_the_row_with_its_webhook_state(line_org, web_as, fake_provider):
    number = _connected(line_org)
    from octopushx.core.context import Actor
    from octopushx.telephony import services
    from tests.telephony.samples import support_line

    flow, _ = services.create_flow(line_org, Actor.system("test"), support_line())
    client = web_as(Role.ADMIN)
    response = client.post(reverse("telephony:assign", args=[number.pk]), {"flow_id": str(flow.pk)}, HTTP_HX_REQUEST="true")  # fmt: skip
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<tr id="number-{number.pk}"') and "bg-green-lt" in html
    number.refresh_from_db()
    assert number.flow == flow and number.webhooks_set_at is not None


def test_agents_have_no_numbers_page_but_set_their_line(line_org, web_as, fake_provider):
    client = web_as(Role.AGENT)
    assert client.get(reverse("telephony:numbers")).status_code == 403
    assert client.post(reverse("telephony:connect"), _form(TWILIO)).status_code == 403
    assert client.get(reverse("telephony:line")).status_code == 200
    response = client.post(reverse("telephony:line"), {"phone_number": "07911 123456", "sip_uri": ""})
    assert response.status_code == 302
    assert Presence.objects.get(tenant=line_org).phone_number == "+447911123456"
    response = client.post(reverse("telephony:line"), {"phone_number": "nonsense", "sip_uri": ""})
    assert response.status_code == 422 and "Not a valid phone number" in response.content.decode()


def test_another_organisations_number_cannot_be_assigned(line_org, other_org, web_as, fake_provider):
    number = _connected(line_org)
    client = web_as(Role.OWNER, tenant=other_org)
    assert client.post(reverse("telephony:assign", args=[number.pk]), {"flow_id": ""}).status_code == 404
    assert client.post(reverse("telephony:webhooks", args=[number.pk])).status_code == 404


def _contact(org, owner):
    contact = Contact.objects.create(tenant=org, first_name="Dana", last_name="Customer", owner=owner, phone=CUSTOMER)
    ContactPhone.objects.create(tenant=org, contact=contact, number=CUSTOMER, is_primary=True)
    return contact


def test_the_contact_page_shows_a_call_button_only_when_a_provider_is_connected(line_org, client):
    member = make_member(line_org, Role.AGENT, email="caller@acme.test")
    client.force_login(member.user)
    contact = _contact(line_org, member.user)
    url = reverse("crm:contact", args=[contact.pk])
    assert 'aria-label="Call +44 7400 123456"' not in client.get(url).content.decode()
    PhoneNumber.objects.create(
        tenant=line_org,
        provider="twilio",
        number="+442079460001",
        account=ProviderAccount.objects.create(tenant=line_org, provider="twilio", account_id=fakes.TWILIO_SID),
    )
    page = client.get(url).content.decode()
    assert 'aria-label="Call +44 7400 123456"' in page
    assert "Calling your phone…" in page


def test_the_contact_list_has_call_buttons(line_org, client, fake_provider):
    _connected(line_org)
    member = make_member(line_org, Role.AGENT, email="caller@acme.test")
    client.force_login(member.user)
    _contact(line_org, member.user)
    page = client.get(reverse("crm:contacts")).content.decode()
    assert 'aria-label="Call +44 7400 123456"' in page


def test_the_company_page_has_a_call_button_too(line_org, client, fake_provider):
    _connected(line_org)
    member = make_member(line_org, Role.AGENT, email="caller@acme.test")
    client.force_login(member.user)
    company = Company.objects.create(tenant=line_org, name="Acme Buyer", phone="+442071838750", owner=member.user)
    page = client.get(reverse("crm:company", args=[company.pk])).content.decode()
    assert 'aria-label="Call +44 20 7183 8750"' in page


def test_the_call_button_places_the_call_and_answers_inline(line_org, client, fake_provider):
    _connected(line_org)
    member = make_member(line_org, Role.AGENT, email="caller@acme.test")
    client.force_login(member.user)
    contact = _contact(line_org, member.user)
    data = {"to": CUSTOMER, "contact_id": str(contact.pk), "next": "/"}
    response = client.post(reverse("telephony:call"), data, HTTP_HX_REQUEST="true")
    assert response["X-Call-Status"] == "422" and "Set your phone line" in response.content.decode()
    assert fake_provider.twilio.calls == []
    Presence.objects.create(tenant=line_org, user=member.user, phone_number="+447911123456")
    response = client.post(reverse("telephony:call"), data, HTTP_HX_REQUEST="true")
    assert response["X-Call-Status"] == "201" and "Calling your phone…" in response.content.decode()
    assert len(fake_provider.twilio.calls) == 1
    contact_page = client.get(reverse("crm:contact", args=[contact.pk])).content.decode()
    assert "Outbound call · Ringing…" in contact_page


def test_secrets_never_appear_in_answers_pages_or_logs(line_org, client, fake_provider, caplog):
    caplog.set_level(logging.DEBUG)
    owner = make_member(line_org, Role.OWNER, email="boss@acme.test")
    api = ApiClient(owner)
    bodies = []
    for body in (TWILIO, VONAGE, {**TWILIO, "auth_token": "wrong"}):
        bodies.append(api.post("/api/v1/telephony/accounts", body).content.decode())
    bodies.append(api.put("/api/v1/telephony/line", {"phone_number": "+447911123456"}).content.decode())
    bodies.append(api.post("/api/v1/telephony/calls", {"to": CUSTOMER}).content.decode())
    fake_provider.outage = 503
    bodies.append(api.post("/api/v1/telephony/calls", {"to": CUSTOMER}).content.decode())
    bodies.append(api.post("/api/v1/telephony/numbers/sync").content.decode())
    fake_provider.outage = None
    for path in ("/api/v1/telephony/accounts", "/api/v1/telephony/numbers", "/api/v1/calls/settings"):
        bodies.append(api.get(path).content.decode())
    client.force_login(owner.user)
    for name in ("telephony:numbers", "telephony:line", "calls:settings"):
        page = client.get(reverse(name))
        assert page.status_code == 200
        bodies.append(page.content.decode())
    bodies.append(client.post(reverse("telephony:connect"), {**VONAGE, "api_secret": "bad"}).content.decode())
    logged = "\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records)
    assert len(bodies) > 10 and "+442079460001" in "".join(bodies)  # the answers did say things
    for secret in fakes.SECRETS:
        needle = secret.splitlines()[1] if "PRIVATE KEY" in secret else secret
        assert all(needle not in body for body in bodies), secret[:20]
        assert needle not in logged, secret[:20]
