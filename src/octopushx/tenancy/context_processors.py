from __future__ import annotations

from octopushx.tenancy import branding
from octopushx.tenancy.roles import Perm, has_perm


def request_brand(request) -> branding.ResolvedBrand:
    """The request's brand, resolved once per request."""
    resolved = getattr(request, "_resolved_brand", None)
    if resolved is None:
        resolved = branding.for_request(request)
        request._resolved_brand = resolved
    return resolved


def tenancy(request) -> dict:
    tenant = getattr(request, "tenant", None)
    membership = getattr(request, "membership", None)
    role = membership.role if membership else None
    resolved = request_brand(request)
    return {
        "tenant": tenant,
        "membership": membership,
        "memberships": getattr(request, "memberships", []),
        "role": role,
        "brand": resolved.product_name,
        "accent": resolved.primary_color,
        "branding": resolved,
        "can": {perm.value: has_perm(role, perm) for perm in Perm},
    }
