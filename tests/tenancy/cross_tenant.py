"""Factories for the cross-tenant route walk (tests/test_cross_tenant.py): tenancy's path parameters."""

from __future__ import annotations

import uuid

from octopushx.core.context import Actor
from octopushx.tenancy import branding


def _brand_domain(tenant, user):
    """A custom domain of the brand ``tenant`` shows (its own when it is a reseller or the platform)."""
    owner = tenant if tenant.kind in branding.BRAND_OWNER_KINDS else branding.brand_owner(tenant)
    return branding.add_domain(owner, Actor.system("test"), f"crm-{uuid.uuid4().hex[:8]}.example").pk


FACTORIES = {"domain_id": _brand_domain}
