"""A member's own time zone: the profile page and ``PATCH /api/v1/me``; empty means the organisation's."""

from __future__ import annotations

import pytest

from octopushx.accounts.models import User
from octopushx.core.models import AuditEntry
from octopushx.tenancy.roles import Role

pytestmark = pytest.mark.django_db


def test_me_shows_the_effective_zone_and_patch_sets_it(api_as, org):
    client = api_as(Role.AGENT)
    me = client.get("/api/v1/me").json()["user"]
    assert me["time_zone"] == "" and me["effective_time_zone"] == "Europe/London"
    changed = client.patch("/api/v1/me", {"time_zone": "America/New_York"})
    assert changed.status_code == 200, changed.content
    assert changed.json()["user"]["effective_time_zone"] == "America/New_York"
    assert AuditEntry.objects.filter(tenant=org, action="user.profile_updated").exists()
    back = client.patch("/api/v1/me", {"time_zone": ""}).json()["user"]
    assert back["time_zone"] == "" and back["effective_time_zone"] == "Europe/London"


@pytest.mark.parametrize(
    ("body", "field"), [({"time_zone": "Mars/Olympus"}, "time_zone"), ({"shoe_size": 9}, "shoe_size")]
)
def test_bad_profile_input_is_422(api_as, body, field):
    response = api_as(Role.AGENT).patch("/api/v1/me", body)
    assert response.status_code == 422 and field in response.json()["errors"]


def test_profile_page_sets_the_zone(web_as):
    client = web_as(Role.MANAGER)
    url = "/accounts/profile/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"full_name": "Mia Manager", "time_zone": "Asia/Tokyo"})
    assert response.status_code == 302
    user = User.objects.get(full_name="Mia Manager")
    assert user.time_zone == "Asia/Tokyo"
    assert b"Asia/Tokyo" in client.get(url).content
