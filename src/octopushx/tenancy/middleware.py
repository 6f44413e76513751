"""Sets ``request.tenant``, ``request.membership`` and ``request.actor`` for signed-in users."""

from __future__ import annotations

from django.shortcuts import redirect, render
from django.urls import reverse

from octopushx.core.context import Actor
from octopushx.tenancy.models import Membership

SESSION_KEY = "tenant_id"
# Paths a signed-in user may reach before satisfying the tenant's 2FA or terms policies.
OPEN_PREFIXES = (
    "/accounts/",
    "/static/",
    "/healthz",
    "/readyz",
    "/metrics",
    "/api/",
    "/invitations/",
    "/legal/",
)

# What a member of a suspended tenant can still reach: their own account, the switcher, the
# legal pages. The API answers suspended tenants itself (403 with the reason code).
SUSPENDED_OPEN_PREFIXES = (
    "/accounts/login",
    "/accounts/logout/",
    "/accounts/security/",
    "/accounts/sessions/",
    "/switch/",
    "/static/",
    "/healthz",
    "/readyz",
    "/metrics",
    "/api/",
    "/legal/",
)


def suspended_page(request):
    from octopushx.tenancy.suspension import reason_label

    tenant = request.tenant
    context = {"suspended": tenant, "reason": reason_label(tenant.suspension_reason)}
    return render(request, "tenancy/suspended.html", context, status=403)


def memberships_of(user) -> list[Membership]:
    return list(
        Membership.objects.filter(user=user, tenant__deleted_at__isnull=True)
        .select_related("tenant", "tenant__parent", "team")
        .order_by("tenant__name")
    )


class TenantMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.tenant = None
        request.membership = None
        request.memberships = []
        if request.user.is_authenticated:
            request.memberships = memberships_of(request.user)
            wanted = request.session.get(SESSION_KEY)
            chosen = next((m for m in request.memberships if str(m.tenant_id) == wanted), None)
            active = next((m for m in request.memberships if m.tenant.suspended_at is None), None)
            chosen = chosen or active or (request.memberships[0] if request.memberships else None)
            if chosen is not None:
                request.tenant, request.membership = chosen.tenant, chosen
                if wanted != str(chosen.tenant_id):
                    request.session[SESSION_KEY] = str(chosen.tenant_id)
        request.actor = Actor.from_request(request) if request.user.is_authenticated else None
        if (
            request.tenant is not None
            and request.tenant.suspended_at is not None
            and not request.path.startswith(SUSPENDED_OPEN_PREFIXES)
        ):
            return suspended_page(request)
        if (
            request.tenant is not None
            and request.tenant.require_2fa
            and not request.user.is_verified()
            and not request.path.startswith(OPEN_PREFIXES)
        ):
            return redirect(reverse("accounts:two_factor") + "?required=1")
        return self.get_response(request)
