"""An organisation ready for the support line: owner@acme.test, a Support team of two agents."""

from __future__ import annotations

import pytest

from octopushx.tenancy.models import Team
from octopushx.tenancy.roles import Role
from tests.conftest import make_member
from tests.telephony.providers import recordings  # noqa: F401 (a fixture: the provider's recording store)


@pytest.fixture
def line_org(org):
    team = Team.objects.create(tenant=org, name="Support")
    make_member(org, Role.OWNER, email="owner@acme.test")
    for email in ("ann@acme.test", "bob@acme.test"):
        member = make_member(org, Role.AGENT, email=email)
        member.team = team
        member.save(update_fields=["team"])
    return org


@pytest.fixture(scope="session")
def _provider_server():
    from tests.telephony.fakes import ProviderFake

    fake = ProviderFake().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_provider(_provider_server, settings, monkeypatch):
    """The Twilio and Vonage SDKs pointed at a fresh local fake (``tests/telephony/fakes.py``)."""
    _provider_server.reset()
    settings.TWILIO_API_BASE = _provider_server.url
    settings.VONAGE_API_HOST = _provider_server.host
    settings.VONAGE_REST_HOST = _provider_server.host
    settings.BASE_URL = "https://octopushx.test"
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(_provider_server.cert_path))
    return _provider_server
