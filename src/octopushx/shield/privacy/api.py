"""API: data-subject requests (owners and admins)."""

from __future__ import annotations

import json
from datetime import datetime
from uuid import UUID

from django.core.exceptions import ValidationError
from ninja import Router, Schema
from ninja.errors import HttpError
from pydantic import ValidationError as PydanticError

from octopushx.api.auth import require
from octopushx.api.errors import ErrorOut
from octopushx.api.pagination import paginate
from octopushx.shield.privacy import services
from octopushx.shield.privacy.models import PrivacyRequest, RequestSource
from octopushx.tenancy.roles import Perm, has_perm

router = Router(tags=["privacy requests"])


class RequestIn(Schema):
    kind: str
    email: str = ""
    phone: str = ""
    contact_id: str = ""
    details: str = ""
    changes: dict = {}


class ReasonIn(Schema):
    reason: str


class FulfilIn(Schema):
    confirm: bool = False  # erasure only: staff checked the preview and confirm it
    preview_digest: str = ""  # from the preview: refused if what the erasure finds changed since


class PrivacyPreviewItemOut(Schema):
    text: str
    url: str


class PreviewRowOut(Schema):
    key: str
    label: str
    count: int
    counted: str
    outcome: str
    items: list[PrivacyPreviewItemOut]
    more: int


class PrivacyPreviewOut(Schema):
    rows: list[PreviewRowOut]
    total: int
    digest: str


class RequestOut(Schema):
    id: UUID
    kind: str
    state: str
    source: str
    created_at: datetime
    verified_at: datetime | None
    due_at: datetime | None
    overdue: bool
    extension_reason: str
    completed_at: datetime | None
    rejection_reason: str
    result: dict
    summary: str
    download_link: str | None = None

    @staticmethod
    def resolve_overdue(obj):
        return services.is_overdue(obj)

    @staticmethod
    def resolve_summary(obj):
        return services.summary(obj)


class RequestPage(Schema):
    items: list[RequestOut]
    next: str | None


def _get(request, request_id) -> PrivacyRequest:
    return PrivacyRequest.objects.get_for_tenant(request.tenant, request_id)


@router.post("/privacy/requests", response={201: RequestOut}, summary="Record a data-subject request")
def create_request(request, data: RequestIn):
    require(request, Perm.ADMIN)
    created = services.receive(
        request.tenant, request.actor, kind=data.kind, source=RequestSource.API, email=data.email,
        phone=data.phone, contact_id=data.contact_id, details=data.details, changes=data.changes,
    )  # fmt: skip
    return 201, created


@router.get("/privacy/requests", response=RequestPage, summary="Data-subject requests, newest first")
def list_requests(request, state: str | None = None, cursor: str | None = None, limit: int = 50):
    require(request, Perm.AUDIT)
    qs = PrivacyRequest.objects.for_tenant(request.tenant)
    if state:
        qs = qs.filter(state=state)
    items, next_cursor = paginate(qs, cursor=cursor, limit=limit)
    return {"items": items, "next": next_cursor}


@router.get("/privacy/requests/{request_id}", response=RequestOut, summary="State, due date and download")
def get_request(request, request_id: UUID):
    require(request, Perm.AUDIT)
    privacy_request = _get(request, request_id)
    link = None
    # A fresh one-time link is an action (audited): only for those who act on requests.
    if (
        privacy_request.result_blob_id
        and privacy_request.downloaded_at is None
        and has_perm(request.membership.role, Perm.ADMIN)
    ):
        link = services.staff_download_link(request.tenant, request.actor, privacy_request)
    privacy_request.download_link = link
    return privacy_request


@router.post("/privacy/requests/{request_id}/verify", response=RequestOut, summary="Attest the identity")
def verify_request(request, request_id: UUID, data: ReasonIn):
    require(request, Perm.ADMIN)
    return services.attest(request.tenant, request.actor, _get(request, request_id), data.reason)


@router.post("/privacy/requests/{request_id}/extend", response=RequestOut, summary="Extend the due date")
def extend_request(request, request_id: UUID, data: ReasonIn):
    require(request, Perm.ADMIN)
    return services.extend(request.tenant, request.actor, _get(request, request_id), data.reason)


@router.post("/privacy/requests/{request_id}/reject", response=RequestOut, summary="Reject with a reason")
def reject_request(request, request_id: UUID, data: ReasonIn):
    require(request, Perm.ADMIN)
    return services.reject(request.tenant, request.actor, _get(request, request_id), data.reason)


@router.get(
    "/privacy/requests/{request_id}/preview",
    response=PrivacyPreviewOut,
    summary="What fulfilling would erase or export",
)
def preview_request(request, request_id: UUID):
    require(request, Perm.AUDIT)
    found = services.preview(request.tenant, _get(request, request_id))
    return {
        "rows": [
            {**row.__dict__, "items": [{"text": text, "url": url} for text, url in row.items]} for row in found.rows
        ],
        "total": found.total,
        "digest": found.digest,
    }


def _fulfil_input(request) -> FulfilIn:
    """The optional JSON body; a POST without one (most clients for access requests) confirms nothing."""
    if not request.body or not request.content_type.startswith("application/json"):
        return FulfilIn()
    try:
        body = json.loads(request.body)
    except ValueError:
        raise HttpError(400, "Cannot parse request body")  # as ninja answers for every other body
    if not isinstance(body, dict):
        # The API's one rule for JSON bodies (api.errors.JsonObjectParser); this body is read by hand
        # because it is optional.
        raise ValidationError({"__all__": [f"Expected an object ({{...}}), not {type(body).__name__}"]})
    try:
        return FulfilIn.model_validate(body)
    except PydanticError as exc:
        raise ValidationError({"confirm": [f"Send {{'confirm': true}} as JSON ({exc.error_count()} errors)"]})


@router.post(
    "/privacy/requests/{request_id}/fulfil",
    response={202: RequestOut, 400: ErrorOut},
    summary='Fulfil (runs as a job); an erasure needs {"confirm": true}',
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": FulfilIn.model_json_schema()}},
        }
    },
)
def fulfil_request(request, request_id: UUID):
    require(request, Perm.ADMIN)
    data = _fulfil_input(request)
    return 202, services.fulfil(
        request.tenant, request.actor, _get(request, request_id), confirmed=data.confirm,
        preview_digest=data.preview_digest,
    )  # fmt: skip
