from __future__ import annotations

from octopushx.tenancy.roles import Perm, has_perm


def tenancy(request) -> dict:
    tenant = getattr(request, "tenant", None)
    membership = getattr(request, "membership", None)
    role = membership.role if membership else None
    return {
        "tenant": tenant,
        "membership": membership,
        "memberships": getattr(request, "memberships", []),
        "role": role,
        "brand": tenant.brand if tenant else "OctopushX",
        "accent": tenant.accent if tenant else "#0f766e",
        "can": {perm.value: has_perm(role, perm) for perm in Perm},
    }
