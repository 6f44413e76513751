"""Home's set-up cards: admins are asked to connect a provider; members who take calls, to set their line."""

from __future__ import annotations

from django.test import RequestFactory

from octopushx.telephony import home
from octopushx.telephony.models import PhoneNumber, Presence, ProviderAccount
from octopushx.tenancy.roles import Role
from tests.conftest import make_member


def _request(org, membership):
    request = RequestFactory().get("/")
    request.tenant, request.membership, request.user = org, membership, membership.user
    return request


def test_an_admin_is_asked_to_connect_a_provider_until_one_is(line_org):
    admin = make_member(line_org, Role.ADMIN, email="admin@acme.test")
    assert home.phone_numbers(_request(line_org, admin)).url == "/telephony/numbers/"
    ProviderAccount.objects.create(tenant=line_org, provider="twilio", account_id="AC" + "1" * 32)
    assert home.phone_numbers(_request(line_org, admin)) is None


def test_an_agent_is_asked_for_a_line_once_calls_can_be_placed(line_org):
    agent = make_member(line_org, Role.AGENT, email="caller@acme.test")
    assert home.phone_line(_request(line_org, agent)) is None  # nothing to call with yet
    account = ProviderAccount.objects.create(tenant=line_org, provider="twilio", account_id="AC" + "1" * 32)
    PhoneNumber.objects.create(tenant=line_org, account=account, provider="twilio", number="+442079460001")
    assert home.phone_line(_request(line_org, agent)).url == "/telephony/line/"
    Presence.objects.create(tenant=line_org, user=agent.user, phone_number="+447911123456")
    assert home.phone_line(_request(line_org, agent)) is None
