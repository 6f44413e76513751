"""Web forms outside the CRM (organisation settings, the public privacy form, …) refuse control
characters and bidirectional overrides the same way: 400 naming the field, nothing saved."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from octopushx.shield.privacy.models import PrivacyRequest
from octopushx.tenancy.models import Organization
from octopushx.tenancy.roles import Role


def test_organisation_name_with_a_bidi_override_is_refused_and_nothing_changes(org, web_as):
    response = web_as(Role.OWNER).post(reverse("tenancy:settings"), {"name": "Acme\u202e", "default_region": "GB"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "“name”" in page and "bidirectional override" in page and "nothing was saved" in page
    assert Organization.objects.get(pk=org.pk).name == org.name


def test_public_privacy_form_refuses_a_nul(org):
    response = Client().post(
        "/privacy/request/", {"org": str(org.pk), "kind": "access", "email": "grace@example.test", "details": "x\x00"}
    )
    assert response.status_code == 400
    assert not PrivacyRequest.objects.exists()


def test_crm_forms_still_show_the_error_on_the_field(org, web_as):
    response = web_as(Role.ADMIN).post(reverse("crm:contact_new"), {"first_name": "Ada\u202e", "last_name": "L"})
    assert response.status_code in (200, 422)


def test_webhooks_are_not_people_s_forms(org):
    # CSRF-exempt machine endpoints answer by their own rules (here: no valid signature).
    response = Client().post(f"/calls/webhooks/{org.pk}/generic", {"caller": "x\x01"})
    assert response.status_code != 400
