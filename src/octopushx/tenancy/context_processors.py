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
        # A reseller admin working inside a customer through its support grant (no membership of its own).
        "support_tenant": tenant if _in_support_session(request, tenant, membership) else None,
    }


def _in_support_session(request, tenant, membership) -> bool:
    from octopushx.tenancy.support import SESSION_FLAG

    if tenant is None or membership is None or not membership._state.adding:  # a real membership is saved
        return False
    session = getattr(request, "session", None)
    return session is not None and session.get(SESSION_FLAG) == str(tenant.pk)
