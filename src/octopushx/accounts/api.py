"""API: the signed-in identity and personal tokens."""

from __future__ import annotations

import json
from datetime import datetime
from uuid import UUID

from django.core.exceptions import PermissionDenied
from ninja import Router, Schema
from pydantic import ConfigDict, Field

from octopushx.accounts import services
from octopushx.accounts.models import ApiToken
from octopushx.api.errors import ErrorOut

router = Router(tags=["accounts"])


class UserOut(Schema):
    id: UUID
    email: str
    full_name: str
    time_zone: str = Field("", description="Your own time zone (IANA); empty: the organisation's")
    effective_time_zone: str = Field("", description="The zone your scheduled reports arrive in")


class TenantOut(Schema):
    id: UUID
    name: str
    kind: str


class MeOut(Schema):
    user: UserOut
    tenant: TenantOut
    role: str
    token: str | None = None


def _me(request) -> dict:
    token = request.auth if isinstance(request.auth, ApiToken) else None
    user = request.user
    return {
        "user": {
            "id": user.pk,
            "email": user.email,
            "full_name": user.full_name,
            "time_zone": user.time_zone,
            "effective_time_zone": services.zone_name(user, request.tenant),
        },
        "tenant": request.tenant,
        "role": request.membership.role,
        "token": token.name if token else None,
    }


@router.get("/me", response=MeOut, summary="The caller's user, organisation and role")
def me(request):
    return _me(request)


class ProfileIn(Schema):
    model_config = ConfigDict(extra="allow")
    full_name: str | None = None
    time_zone: str | None = Field(
        None, description="IANA name such as Europe/Paris; empty or null: the organisation's time zone"
    )


@router.patch(
    "/me",
    response={200: MeOut, 422: ErrorOut},
    summary="Change your name or time zone (scheduled reports arrive at their time in it)",
)
def update_me(request, payload: ProfileIn):
    data = json.loads(request.body or b"{}")
    tenants = [m.tenant for m in request.user.memberships.select_related("tenant")]
    services.update_profile(request.user, request.actor, tenants, data)
    return _me(request)


class TokenOut(Schema):
    id: UUID
    name: str
    prefix: str
    state: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


class TokenIn(Schema):
    name: str
    expires_at: datetime | None = None


class TokenCreatedOut(TokenOut):
    token: str


@router.get("/tokens", response=list[TokenOut], summary="Your tokens in this organisation")
def list_tokens(request):
    return list(ApiToken.objects.filter(tenant=request.tenant, user=request.user))


@router.post("/tokens", response={201: TokenCreatedOut}, summary="Create a token (the secret is shown once)")
def create_token(request, data: TokenIn):
    if not isinstance(request.auth, ApiToken):
        refused = services.token_creation_refused(request.user, request.tenant, verified=request.user.is_verified())
        if refused:
            raise PermissionDenied(refused)
    token, plaintext = services.create_token(
        request.tenant, request.actor, request.user, name=data.name, expires_at=data.expires_at
    )
    out = TokenOut.from_orm(token).dict()
    return 201, {**out, "token": plaintext}


@router.delete("/tokens/{token_id}", response={204: None}, summary="Revoke one of your tokens")
def revoke_token(request, token_id: UUID):
    from django.shortcuts import get_object_or_404

    token = get_object_or_404(ApiToken, pk=token_id, tenant=request.tenant, user=request.user)
    services.revoke_token(token, request.actor)
    return 204, None
