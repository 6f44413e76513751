"""Deleting a tenant shreds its data key: its encrypted files can never be read again."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from octopushx.core import blobs
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry, TenantKey
from octopushx.tenancy import services
from octopushx.tenancy.models import Membership
from octopushx.tenancy.roles import Role
from tests.conftest import make_member


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
