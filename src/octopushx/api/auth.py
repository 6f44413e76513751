"""API authentication (Bearer token or the browser session) and permission checks."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from ninja.security import APIKeyCookie, HttpBearer

from octopushx.accounts.services import authenticate_token, has_2fa
from octopushx.core.context import Actor
from octopushx.tenancy import suspension
from octopushx.tenancy.middleware import TWO_FACTOR_REQUIRED, needs_second_factor
from octopushx.tenancy.models import Membership
from octopushx.tenancy.roles import Perm, has_perm

TOKEN_NEEDS_2FA = (
    "Two-factor sign-in is mandatory in {name}: the tokens of members who have not turned it on are refused. "
    "Turn it on under Security & 2FA and this token works again"
)


class TenantSuspended(Exception):
    def __init__(self, tenant):
        self.tenant = tenant


class TwoFactorRequired(Exception):
    """The caller lacks the second factor the organisation requires (403, code ``2fa_required``)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class BearerToken(HttpBearer):
    def authenticate(self, request, token):
        api_token = authenticate_token(token)
        if api_token is None:
            return None
        membership = Membership.objects.filter(tenant=api_token.tenant, user=api_token.user).first()
        if membership is None:
            return None
        membership.tenant, membership.user = api_token.tenant, api_token.user  # read with the token already
        membership.request_memo = {}  # loaded for this request: what it may see is worked out once
        request.user = api_token.user
        request.tenant = api_token.tenant
        request.membership = membership
        request.actor = Actor.from_request(request, user=api_token.user, token=api_token)
        if api_token.tenant.suspended_at is not None and not suspension.path_open(api_token.tenant, request.path):
            raise TenantSuspended(api_token.tenant)
        if api_token.tenant.require_2fa and not has_2fa(api_token.user):
            # A token must not outlive the policy: it would sign in without the second factor.
            raise TwoFactorRequired(TOKEN_NEEDS_2FA.format(name=api_token.tenant.name))
        return api_token


class BrowserSession(APIKeyCookie):
    """The signed-in browser session (CSRF-checked), so pages can call the API."""

    param_name = "sessionid"

    def authenticate(self, request, key):
        if not request.user.is_authenticated or getattr(request, "membership", None) is None:
            return None
        if request.tenant.suspended_at is not None and not suspension.path_open(request.tenant, request.path):
            raise TenantSuspended(request.tenant)
        if needs_second_factor(request):
            raise TwoFactorRequired(TWO_FACTOR_REQUIRED.format(name=request.tenant.name))
        return request.user


def require(request, perm: Perm) -> None:
    membership = getattr(request, "membership", None)
    if not has_perm(membership.role if membership else None, perm):
        raise PermissionDenied(f"Your role cannot do this ({perm.value})")
