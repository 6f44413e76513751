"""Support access: a customer's owner lets its reseller's admins in for a while; the switcher
lets them in only while the grant lasts, and every step is audited in both organisations."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from octopushx.core.models import AuditEntry
from octopushx.tenancy.middleware import SESSION_KEY
from octopushx.tenancy.models import OrgKind, SupportGrant
from octopushx.tenancy.roles import Role
from tests.conftest import ApiClient, make_member, make_org

URL = "/api/v1/organization/support-access"


def _setup(db=None):
    reseller = make_org("Helpful Reseller", kind=OrgKind.RESELLER)
    customer = make_org("Needs Help Ltd", kind=OrgKind.CUSTOMER, parent=reseller)
    owner = make_member(customer, Role.OWNER, email="owner@needs-help.test")
    helper = make_member(reseller, Role.ADMIN, email="helper@reseller.test")
    return reseller, customer, owner, helper


def _me(client) -> dict:
    return client.get("/api/v1/me").json()


def test_without_a_grant_the_reseller_admin_cannot_switch_in(db, client):
    _, customer, _, helper = _setup()
    client.force_login(helper.user)
    assert client.post(reverse("tenancy:switch"), {"tenant": str(customer.pk)}).status_code == 404
    assert _me(client)["tenant"]["id"] != str(customer.pk)


def test_with_a_grant_the_reseller_admin_enters_as_admin_and_it_is_audited(db, client):
    reseller, customer, owner, helper = _setup()
    assert ApiClient(owner).post(URL, {"hours": 8}).json()["granted"] is True
    client.force_login(helper.user)
    assert client.post(reverse("tenancy:switch"), {"tenant": str(customer.pk)}).status_code == 302
    me = _me(client)
    assert me["tenant"]["id"] == str(customer.pk) and me["role"] == "admin"
    for org in (customer, reseller):
        assert AuditEntry.objects.filter(tenant=org, action="support_access.granted").exists()
        assert AuditEntry.objects.filter(tenant=org, action="support_access.entered").exists()


def test_an_expired_grant_ends_the_session_inside(db, client):
    _, customer, owner, helper = _setup()
    ApiClient(owner).post(URL, {"hours": 1})
    client.force_login(helper.user)
    client.post(reverse("tenancy:switch"), {"tenant": str(customer.pk)})
    SupportGrant.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert _me(client)["tenant"]["id"] != str(customer.pk)
    assert client.post(reverse("tenancy:switch"), {"tenant": str(customer.pk)}).status_code == 404


def test_revoking_ends_access_at_once(db, client):
    reseller, customer, owner, helper = _setup()
    api = ApiClient(owner)
    api.post(URL, {"hours": 24})
    client.force_login(helper.user)
    client.post(reverse("tenancy:switch"), {"tenant": str(customer.pk)})
    assert api.delete(URL).json()["granted"] is False
    assert _me(client)["tenant"]["id"] == str(reseller.pk)
    assert AuditEntry.objects.filter(tenant=reseller, action="support_access.revoked").exists()


def test_switching_back_to_ones_own_organisation_ends_the_support_session(db, client):
    reseller, customer, owner, helper = _setup()
    ApiClient(owner).post(URL, {"hours": 24})
    client.force_login(helper.user)
    client.post(reverse("tenancy:switch"), {"tenant": str(customer.pk)})
    client.post(reverse("tenancy:switch"), {"tenant": str(reseller.pk)})
    assert client.session[SESSION_KEY] == str(reseller.pk)
    assert _me(client)["tenant"]["id"] == str(reseller.pk)


def test_another_resellers_admin_and_reseller_agents_never_enter(db, client):
    _, customer, owner, _ = _setup()
    ApiClient(owner).post(URL, {"hours": 24})
    other = make_member(make_org("Other Reseller", kind=OrgKind.RESELLER), Role.OWNER, email="o@other.test")
    client.force_login(other.user)
    assert client.post(reverse("tenancy:switch"), {"tenant": str(customer.pk)}).status_code == 404
    agent = make_member(customer.parent, Role.AGENT, email="agent@reseller.test")
    client.force_login(agent.user)
    assert client.post(reverse("tenancy:switch"), {"tenant": str(customer.pk)}).status_code == 404


def test_only_owners_grant_and_bad_hours_are_refused(db):
    _, customer, owner, _ = _setup()
    admin = ApiClient(make_member(customer, Role.ADMIN))
    assert admin.post(URL, {"hours": 24}).status_code == 403
    assert admin.get(URL).json()["granted"] is False
    for hours in (0, -5, 100000):
        response = ApiClient(owner).post(URL, {"hours": hours})
        assert response.status_code == 422 and "hours" in response.json()["errors"]
    assert not SupportGrant.objects.exists()


def test_a_direct_customer_has_no_reseller_to_grant(db):
    direct = make_member(make_org("Direct Ltd"), Role.OWNER)
    response = ApiClient(direct).post(URL, {"hours": 24})
    assert response.status_code == 422 and not SupportGrant.objects.exists()


def test_the_owner_grants_and_revokes_from_settings(db, client):
    _, customer, owner, _ = _setup()
    client.force_login(owner.user)
    page = client.get(reverse("tenancy:settings")).content.decode()
    assert "Support access for Helpful Reseller" in page and "Not granted" in page
    client.post(reverse("tenancy:support_access"), {"action": "grant", "hours": "72"})
    assert "Granted until" in client.get(reverse("tenancy:settings")).content.decode()
    client.post(reverse("tenancy:support_access"), {"action": "revoke"})
    assert SupportGrant.objects.get().revoked_at is not None


def test_a_banner_says_so_inside_and_leads_back(db, client):
    reseller, customer, owner, helper = _setup()
    ApiClient(owner).post(URL, {"hours": 8})
    client.force_login(helper.user)
    assert "support-banner" not in client.get(reverse("tenancy:settings")).content.decode()
    client.post(reverse("tenancy:switch"), {"tenant": str(customer.pk)})
    page = client.get(reverse("tenancy:settings")).content.decode()
    assert "support-banner" in page and "Back to Helpful Reseller" in page
