"""API: export an organisation as one streamed ZIP; schedule, cancel and certify its termination.

The organisation's own owners act on it with their token; platform staff (owners and admins of
the platform organisation) on any customer or reseller. Anyone else gets a 404, as for a
missing organisation; another role of the organisation itself gets a 403.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, StreamingHttpResponse
from ninja import Router, Schema

from octopushx.shield.offboarding import export, services
from octopushx.shield.offboarding.models import Termination
from octopushx.tenancy.models import Organization, OrgKind
from octopushx.tenancy.roles import Role

router = Router(tags=["offboarding"])


class TerminationIn(Schema):
    notice_days: int = services.NOTICE_DEFAULT_DAYS
    reason: str = ""
    confirm: str  # the organisation's name, exactly


class TerminationOut(Schema):
    id: UUID
    organization_id: UUID
    organization_name: str
    state: str
    notice_days: int
    reason: str
    requested_at: datetime
    requested_by: str
    due_at: datetime
    cancelled_at: datetime | None
    completed_at: datetime | None
    key_id: str
    files_deleted: int
    users_deleted: int
    rows_deleted: int
    counts: dict[str, int]
    certificate_sha256: str

    @staticmethod
    def resolve_requested_by(obj):
        return obj.requested_by_label

    @staticmethod
    def resolve_rows_deleted(obj):
        return sum(obj.counts.values())


def _is_staff(request) -> bool:
    membership = getattr(request, "membership", None)
    return (
        request.tenant is not None
        and request.tenant.kind == OrgKind.PLATFORM
        and membership is not None
        and membership.role in (Role.OWNER, Role.ADMIN)
    )


def _organization(request, org_id: UUID) -> Organization:
    """The organisation the caller may offboard: its own (owners only, else 403) or any, for staff."""
    org = Organization.objects.filter(pk=org_id, deleted_at__isnull=True).select_related("parent").first()
    if org is None or org.kind == OrgKind.PLATFORM:
        raise Http404("No organisation with that id")
    if request.tenant is not None and request.tenant.pk == org.pk:
        if request.membership.role != Role.OWNER:
            raise PermissionDenied("Only an owner of the organisation or platform staff can do this")
        return org
    if _is_staff(request):
        return org
    raise Http404("No organisation with that id")


def _is_owner(request) -> bool:
    membership = getattr(request, "membership", None)
    return membership is not None and membership.role == Role.OWNER


def _visible_terminations(request):
    """Staff see every termination; an owner those of their own organisation."""
    if _is_staff(request):
        return Termination.objects.all()
    if _is_owner(request):
        return Termination.objects.filter(organization_id=request.tenant.pk)
    raise PermissionDenied("Only an owner of the organisation or platform staff can do this")


def _termination(request, termination_id: UUID) -> Termination:
    try:
        termination = _visible_terminations(request).filter(pk=termination_id).first()
    except PermissionDenied:
        termination = None
    if termination is None:
        raise Http404("No termination with that id")
    return termination


@router.get(
    "/organizations/{org_id}/export",
    response={200: None},
    summary="Export a whole organisation (streamed ZIP)",
    description=(
        "Every table of the organisation as CSV, every stored file (recordings included) decrypted, and "
        "`manifest.json` with each file's row count, size and sha256. Streamed: the download starts at once."
    ),
)
def export_organization(request, org_id: UUID):
    org = _organization(request, org_id)
    services.start_export(org, request.actor)
    response = StreamingHttpResponse(
        export.stream(org, generated_by=request.actor.label), content_type="application/zip"
    )
    response["Content-Disposition"] = f'attachment; filename="{export.filename(org)}"'
    response["Cache-Control"] = "private, no-store"
    return response


@router.post(
    "/organizations/{org_id}/termination",
    response={201: TerminationOut},
    summary="Give notice to terminate an organisation",
    description=(
        f"`notice_days` from {services.NOTICE_MIN_DAYS} to {services.NOTICE_MAX_DAYS} (default "
        f"{services.NOTICE_DEFAULT_DAYS}); `confirm` repeats the organisation's name. The organisation is "
        "suspended at once; its owners can still export and cancel until the notice ends."
    ),
)
def request_termination(request, org_id: UUID, data: TerminationIn):
    org = _organization(request, org_id)
    termination = services.request_termination(
        org, request.actor, notice_days=data.notice_days, reason=data.reason, confirm=data.confirm
    )
    return 201, termination


@router.get("/organizations/{org_id}/termination", response=TerminationOut, summary="The organisation's termination")
def get_termination(request, org_id: UUID):
    org = _organization(request, org_id)
    termination = services.open_termination(org)
    if termination is None:
        raise Http404("No termination under way")
    return termination


@router.post(
    "/organizations/{org_id}/termination/cancel", response=TerminationOut, summary="Cancel a termination during notice"
)
def cancel_termination(request, org_id: UUID):
    org = _organization(request, org_id)
    return services.cancel_termination(org, request.actor)


@router.get(
    "/terminations", response=list[TerminationOut], summary="Terminations (staff: all; an owner: their organisation's)"
)
def list_terminations(request):
    return list(_visible_terminations(request)[:500])


@router.get("/terminations/{termination_id}", response=TerminationOut, summary="One termination")
def get_termination_record(request, termination_id: UUID):
    return _termination(request, termination_id)


@router.get(
    "/terminations/{termination_id}/certificate",
    response={200: None},
    summary="The certificate of deletion (PDF)",
)
def certificate(request, termination_id: UUID):
    termination = _termination(request, termination_id)
    if not termination.certificate_pdf:
        raise Http404("The organisation has not been deleted yet")
    response = HttpResponse(bytes(termination.certificate_pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="certificate-of-deletion-{termination.pk}.pdf"'
    return response
