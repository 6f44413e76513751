"""Sets ``request.tenant``, ``request.membership`` and ``request.actor`` for signed-in users."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from octopushx.core.context import Actor
from octopushx.tenancy import support, suspension
from octopushx.tenancy.models import Membership, Organization

SESSION_KEY = "tenant_id"
# Paths a signed-in user may reach before accepting the current terms (see shield.legal).
OPEN_PREFIXES = (
    "/accounts/",
    "/static/",
    "/brand-assets/",
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
    "/brand-assets/",
    "/healthz",
    "/readyz",
    "/metrics",
    "/api/",
    "/legal/",
)


# All that a session which has not passed the second factor its organisation requires may
# reach: enrolment and confirmation (/accounts/security/), the sign-in steps (the code is asked
# at /accounts/login/verify/), sign-out, static files and the health checks. Everything else,
# pages, htmx fragments and session-authenticated API calls alike, is refused.
TWO_FACTOR_OPEN_PREFIXES = (
    "/accounts/security/",
    "/accounts/login/",
    "/accounts/logout/",
    "/static/",
    "/brand-assets/",
    "/healthz",
    "/readyz",
    "/metrics",
)
TWO_FACTOR_REQUIRED = "Two-factor sign-in is mandatory in {name}: turn it on or confirm this browser with a code first"


def needs_second_factor(request) -> bool:
    """The browser session lacks the second factor its organisation requires."""
    tenant = getattr(request, "tenant", None)
    return (
        tenant is not None and tenant.require_2fa and request.user.is_authenticated and not request.user.is_verified()
    )


def second_factor_page(request):
    """Where an unverified session ends up: the enrolment page, told the right way for each caller."""
    target = reverse("accounts:two_factor") + "?required=1"
    if request.path.startswith("/api/"):
        detail = TWO_FACTOR_REQUIRED.format(name=request.tenant.name)
        return JsonResponse({"detail": detail, "errors": {}, "code": "2fa_required"}, status=403)
    if request.headers.get("HX-Request") == "true":
        # htmx would swap the enrolment page into the fragment's place; send the browser there.
        response = HttpResponse(status=403)
        response["HX-Redirect"] = target
        return response
    return redirect(target)


def suspended_page(request):
    from octopushx.tenancy.suspension import explanation, reason_label

    tenant = request.tenant
    context = {
        "suspended": tenant,
        "reason": reason_label(tenant.suspension_reason),
        "explanation": explanation(tenant),
    }
    return render(request, "tenancy/suspended.html", context, status=403)


def support_session(user, tenant_id: str) -> Membership | None:
    """The membership a reseller admin works with inside a customer, while its support grant is live."""
    try:
        customer = Organization.objects.select_related("parent").filter(pk=tenant_id).first()
    except (ValueError, ValidationError):
        return None
    if customer is None or not support.can_enter(user, customer):
        return None
    return support.support_membership(user, customer)


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
            if chosen is None and wanted and request.session.get(support.SESSION_FLAG) == wanted:
                chosen = support_session(request.user, wanted)
                if chosen is None:  # the grant expired or was revoked: back to one's own organisations
                    request.session.pop(support.SESSION_FLAG, None)
            active = next((m for m in request.memberships if m.tenant.suspended_at is None), None)
            chosen = chosen or active or (request.memberships[0] if request.memberships else None)
            if chosen is not None:
                chosen.request_memo = {}  # loaded for this request: what it may see is worked out once
                request.tenant, request.membership = chosen.tenant, chosen
                if wanted != str(chosen.tenant_id):
                    request.session[SESSION_KEY] = str(chosen.tenant_id)
        request.actor = Actor.from_request(request) if request.user.is_authenticated else None
        if (
            request.tenant is not None
            and request.tenant.suspended_at is not None
            and not request.path.startswith(SUSPENDED_OPEN_PREFIXES)
            and not suspension.path_open(request.tenant, request.path)
        ):
            return suspended_page(request)
        if needs_second_factor(request) and not request.path.startswith(TWO_FACTOR_OPEN_PREFIXES):
            if not (request.path.startswith("/api/") and "HTTP_AUTHORIZATION" in request.META):
                return second_factor_page(request)
            # A Bearer token speaks for its own user (api.auth checks that user's 2FA); without a
            # valid one the API falls back to this session, which api.auth refuses as well.
        return self.get_response(request)
