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
