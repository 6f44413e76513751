"""API: the signed-in identity and personal tokens."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from django.core.exceptions import PermissionDenied
from ninja import Router, Schema

from octopushx.accounts import services
from octopushx.accounts.models import ApiToken

router = Router(tags=["accounts"])


class UserOut(Schema):
    id: UUID
    email: str
    full_name: str


class TenantOut(Schema):
    id: UUID
    name: str
    kind: str


class MeOut(Schema):
    user: UserOut
    tenant: TenantOut
    role: str
    token: str | None = None


@router.get("/me", response=MeOut, summary="The caller's user, organisation and role")
def me(request):
    token = request.auth if isinstance(request.auth, ApiToken) else None
    return {
        "user": request.user,
        "tenant": request.tenant,
        "role": request.membership.role,
        "token": token.name if token else None,
    }


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
