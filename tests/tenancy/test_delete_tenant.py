"""Deleting a tenant shreds its data key: its encrypted files can never be read again."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from octopushx.core import blobs
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry, TenantKey
from octopushx.tenancy import services
from octopushx.tenancy.models import Membership, OrgKind
from octopushx.tenancy.roles import Role
from tests.conftest import make_member, make_org


def test_deleting_a_tenant_shreds_its_key_and_files(org, other_org):
    make_member(org, Role.OWNER)
    blob = blobs.store(org, b"a recording nobody may hear again", filename="call.wav")
    kept = blobs.store(other_org, b"another tenant's file", filename="other.wav")
    assert TenantKey.objects.filter(tenant=org).exists()
    services.delete_tenant(org, Actor.system("test"))
    org.refresh_from_db()
    assert org.deleted_at is not None
    assert not TenantKey.objects.filter(tenant=org).exists()
    assert not Membership.objects.filter(tenant=org).exists()
    with pytest.raises(Exception):  # noqa: B017 - any failure is fine, plaintext is not
        blobs.read_bytes(blob)
    assert blobs.read_bytes(kept) == b"another tenant's file"


def test_deletion_is_audited_in_the_parent(org):
    services.delete_tenant(org, Actor.system("test"))
    assert AuditEntry.objects.filter(tenant=org.parent, action="organization.deleted", object_id=str(org.pk)).exists()


def test_deleted_tenant_members_can_no_longer_sign_in_there(org, client):
    member = make_member(org, Role.OWNER)
    client.force_login(member.user)
    services.delete_tenant(org, Actor.system("test"))
    assert client.get("/api/v1/me").status_code == 401


def test_the_platform_cannot_be_deleted(db):
    with pytest.raises(ValidationError):
        services.delete_tenant(services.platform_org(), Actor.system("test"))


def test_owner_deletes_the_organisation_on_the_settings_page(org, web_as):
    client = web_as(Role.OWNER)
    blob = blobs.store(org, b"secret recording", filename="call.wav")
    page = client.get(reverse("tenancy:settings")).content.decode()
    assert "Delete this organisation" in page
    response = client.post(reverse("tenancy:delete"), {"confirm": "Acme Support"})
    assert response.status_code == 302 and response["Location"] == "/"
    org.refresh_from_db()
    assert org.deleted_at is not None and not TenantKey.objects.filter(tenant=org).exists()
    with pytest.raises(Exception):  # noqa: B017
        blobs.read_bytes(blob)
    assert client.get(reverse("tenancy:members")).status_code == 302  # no organisation left


def test_wrong_name_deletes_nothing(org, web_as):
    client = web_as(Role.OWNER)
    response = client.post(reverse("tenancy:delete"), {"confirm": "acme"})
    assert response.status_code == 302 and response["Location"] == reverse("tenancy:settings")
    org.refresh_from_db()
    assert org.deleted_at is None


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER, Role.AGENT, Role.AUDITOR])
def test_only_an_owner_deletes(org, web_as, role):
    client = web_as(role)
    assert "Delete this organisation" not in client.get(reverse("tenancy:settings")).content.decode()
    assert client.post(reverse("tenancy:delete"), {"confirm": "Acme Support"}).status_code == 403
    org.refresh_from_db()
    assert org.deleted_at is None


def test_service_refuses_a_non_owner(org):
    admin = make_member(org, Role.ADMIN)
    with pytest.raises(PermissionDenied):
        services.delete_tenant(org, Actor(user=admin.user, role=Role.ADMIN))


def test_a_reseller_with_customers_is_not_deleted(db):
    reseller = make_org("Reseller", OrgKind.RESELLER, parent=services.platform_org())
    make_org("Customer", parent=reseller)
    with pytest.raises(ValidationError):
        services.delete_tenant(reseller, Actor.system("test"))
    reseller.refresh_from_db()
    assert reseller.deleted_at is None


def test_delete_needs_post(org, web_as):
    assert web_as(Role.OWNER).get(reverse("tenancy:delete")).status_code == 405
