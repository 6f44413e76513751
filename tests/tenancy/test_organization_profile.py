"""The organisation profile: admins change it, owners the 2FA policy; bad input changes nothing."""

from __future__ import annotations

from django.urls import reverse

from octopushx.core.models import AuditEntry
from octopushx.tenancy.models import Organization
from octopushx.tenancy.roles import Role


def test_get_organization(org, api_as):
    body = api_as(Role.AGENT).get("/api/v1/organization").json()
    assert body["id"] == str(org.pk) and body["name"] == "Acme Support" and body["require_2fa"] is False


def test_admin_updates_the_profile_and_it_is_audited(org, api_as):
    api = api_as(Role.ADMIN)
    response = api.patch("/api/v1/organization", {"name": "Acme Help", "brand_color": "#112233"})
    assert response.status_code == 200 and response.json()["name"] == "Acme Help"
    org.refresh_from_db()
    assert (org.name, org.brand_color) == ("Acme Help", "#112233")
    entry = AuditEntry.objects.get(tenant=org, action="organization.updated")
    assert entry.personal.changes == {"name": ["Acme Support", "Acme Help"], "brand_color": ["", "#112233"]}
    assert entry.actor_token == api.token


def test_unchanged_values_write_no_audit_entry(org, api_as):
    api_as(Role.ADMIN).patch("/api/v1/organization", {"name": "Acme Support"})
    assert not AuditEntry.objects.filter(tenant=org, action="organization.updated").exists()


def test_patch_bad_input_is_422_and_changes_nothing(org, api_as):
    api = api_as(Role.OWNER)
    cases = [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": None}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"default_region": "Britain"}, "default_region"),
        ({"default_region": "12"}, "default_region"),
        ({"brand_color": "red; background: url(x)"}, "brand_color"),
        ({"require_2fa": "perhaps"}, "require_2fa"),
    ]
    for body, field in cases:
        response = api.patch("/api/v1/organization", body)
        assert response.status_code == 422, (body, response.content)
        assert field in response.json()["errors"], (body, response.json())
    fresh = Organization.objects.get(pk=org.pk)
    assert (fresh.name, fresh.default_region, fresh.brand_color, fresh.require_2fa) == ("Acme Support", "GB", "", False)
    assert not AuditEntry.objects.filter(tenant=org, action="organization.updated").exists()


def test_settings_page_saves(org, web_as):
    client = web_as(Role.ADMIN)
    response = client.post(reverse("tenancy:settings"), {"name": "Acme Two", "default_region": "de"})
    assert response.status_code == 302
    org.refresh_from_db()
    assert (org.name, org.default_region) == ("Acme Two", "DE")


def test_settings_page_shows_errors_and_changes_nothing(org, web_as):
    client = web_as(Role.ADMIN)
    response = client.post(reverse("tenancy:settings"), {"name": "", "default_region": "GB"})
    assert response.status_code == 200
    org.refresh_from_db()
    assert org.name == "Acme Support"
