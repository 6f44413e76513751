"""API: the white-label brand (``/branding``), its logo and favicon, and its custom domains."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import Http404
from ninja import File, Router, Schema
from ninja.files import UploadedFile

from octopushx.api.auth import require
from octopushx.tenancy import branding
from octopushx.tenancy.roles import Perm

router = Router(tags=["branding"])


class BrandingOut(Schema):
    organization_id: UUID | None
    editable: bool
    product_name: str
    primary_color: str
    support_email: str
    support_url: str
    sender_name: str
    sender_email: str
    logo_url: str
    favicon_url: str


class BrandingPatch(Schema):
    product_name: str | None = None
    primary_color: str | None = None
    support_email: str | None = None
    support_url: str | None = None
    sender_name: str | None = None
    sender_email: str | None = None


class DomainIn(Schema):
    domain: str


class TxtRecordOut(Schema):
    type: str
    name: str
    value: str


class DomainOut(Schema):
    id: UUID
    domain: str
    verified: bool
    verified_at: datetime | None
    created_at: datetime
    txt_record: TxtRecordOut

    @staticmethod
    def resolve_verified(obj):
        return obj.verified_at is not None

    @staticmethod
    def resolve_txt_record(obj):
        return {"type": "TXT", "name": obj.record_name, "value": obj.record_value}


def _out(request) -> dict:
    tenant = request.tenant
    editable = tenant.kind in branding.BRAND_OWNER_KINDS
    resolved = branding.for_organization(tenant)
    return {
        "organization_id": resolved.owner_id if editable else None,
        "editable": editable,
        **{
            key: getattr(resolved, key)
            for key in (
                "product_name",
                "primary_color",
                "support_email",
                "support_url",
                "sender_name",
                "sender_email",
                "logo_url",
                "favicon_url",
            )
        },
    }


def _owner(request):
    require(request, Perm.ADMIN)
    branding.check_owner(request.tenant)
    return request.tenant


@router.get("/branding", response=BrandingOut)
def get_branding(request):
    """The brand the caller's organisation shows (a customer's is its reseller's)."""
    return _out(request)


@router.patch("/branding", response=BrandingOut)
def update_branding(request, data: BrandingPatch):
    owner = _owner(request)
    branding.update_brand(owner, request.actor, **data.dict(exclude_unset=True))
    request.tenant.refresh_from_db()  # the name and colour live on the organisation
    return _out(request)


def _upload(request, kind: str, file: UploadedFile) -> dict:
    owner = _owner(request)
    limit = branding.IMAGE_LIMITS[kind]["max_bytes"]
    if file.size is not None and file.size > limit:
        raise ValidationError({"file": [f"The {kind} must be at most {limit // 1024} KB"]})
    branding.set_image(owner, request.actor, kind, file.read(limit + 1), filename=file.name or kind)
    return _out(request)


@router.post("/branding/logo", response=BrandingOut)
def upload_logo(request, file: File[UploadedFile]):
    """Replace the logo (PNG, JPEG, GIF or WebP, at most 1 MB)."""
    return _upload(request, "logo", file)


@router.post("/branding/favicon", response=BrandingOut)
def upload_favicon(request, file: File[UploadedFile]):
    """Replace the favicon (PNG, ICO or GIF, at most 256 KB)."""
    return _upload(request, "favicon", file)


@router.get("/branding/domains", response=list[DomainOut])
def list_domains(request):
    require(request, Perm.ADMIN)
    return list(branding.domains_visible_to(request.tenant, request.actor))


@router.post("/branding/domains", response={201: DomainOut})
def add_domain(request, data: DomainIn):
    """Claim a domain; the answer names the TXT record to create before verifying."""
    owner = _owner(request)
    return 201, branding.add_domain(owner, request.actor, data.domain)


def _domain(request, domain_id: UUID):
    require(request, Perm.ADMIN)
    record = branding.domains_visible_to(request.tenant, request.actor).filter(pk=domain_id).first()
    if record is None:
        raise Http404("No domain with that id")
    return record


@router.post("/branding/domains/{domain_id}/verify", response=DomainOut)
def verify_domain(request, domain_id: UUID):
    """Look up the TXT record; 422 with the record to create when it is not there yet."""
    return branding.verify_domain(_domain(request, domain_id), request.actor)


@router.delete("/branding/domains/{domain_id}", response={204: None})
def remove_domain(request, domain_id: UUID):
    branding.remove_domain(_domain(request, domain_id), request.actor)
    return 204, None
