"""The public request form, the verification and download links, and the staff queue."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from octopushx.core import blobs
from octopushx.core.context import Actor, client_ip
from octopushx.shield.privacy import services
from octopushx.shield.privacy.models import PrivacyRequest, RequestKind, RequestSource, RequestState
from octopushx.tenancy.models import Organization, OrgKind
from octopushx.tenancy.roles import Perm
from octopushx.tenancy.views import _form_errors, requires

PUBLIC_KINDS = [(k, label) for k, label in RequestKind.choices if k != RequestKind.RECTIFICATION]


def _public_tenant(request) -> Organization:
    try:
        return Organization.objects.get(
            pk=request.GET.get("org") or request.POST.get("org"),
            kind=OrgKind.CUSTOMER,
            deleted_at__isnull=True,
            suspended_at__isnull=True,
        )
    except (Organization.DoesNotExist, ValueError, ValidationError):
        raise Http404("No such organisation")


def public_form(request):
    """No account needed; the answer is the same whether or not the person is known."""
    tenant = _public_tenant(request)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            services.receive(
                tenant,
                Actor(ip=client_ip(request), label_override="data subject (public form)"),
                kind=request.POST.get("kind", ""),
                source=RequestSource.FORM,
                email=request.POST.get("email", ""),
                details=request.POST.get("details", ""),
            )
            return render(
                request, "shield/privacy_sent.html", {"org": tenant, "brand": tenant.brand, "accent": tenant.accent}
            )
        except ValidationError as exc:
            errors = exc.message_dict
    return render(
        request,
        "shield/privacy_form.html",
        {
            "org": tenant,
            "brand": tenant.brand,
            "accent": tenant.accent,
            "kinds": PUBLIC_KINDS,
            "errors": errors,
            "data": request.POST,
        },
    )


def verify_link(request):
    verified = services.verify_by_link(request.GET.get("token", ""))
    return render(request, "shield/privacy_verified.html", {"verified": verified}, status=200 if verified else 404)


def download(request):
    claimed = services.claim_download(request.GET.get("token", ""))
    if claimed is None:
        return render(request, "shield/privacy_verified.html", {"download_gone": True}, status=404)
    response = StreamingHttpResponse(blobs.read(claimed.result_blob), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="my-data-{timezone.now():%Y%m%d}.zip"'
    return response


@requires(Perm.ADMIN)
def queue(request):
    tenant = request.tenant
    if request.method == "POST":
        try:
            created = services.receive(
                tenant, request.actor, kind=request.POST.get("kind", ""), source=RequestSource.STAFF,
                email=request.POST.get("email", ""), phone=request.POST.get("phone", ""),
                contact_id=request.POST.get("contact_id", ""), details=request.POST.get("details", ""),
            )  # fmt: skip
            messages.success(request, "The request is recorded.")
            return redirect("shield:privacy_request", request_id=created.pk)
        except ValidationError as exc:
            messages.error(request, _form_errors(exc))
    qs = PrivacyRequest.objects.for_tenant(tenant)
    state = request.GET.get("state", "")
    if state in RequestState.values:
        qs = qs.filter(state=state)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = [(r, services.is_overdue(r, now)) for r in page]
    return render(
        request,
        "shield/privacy_queue.html",
        {"rows": rows, "page": page, "states": RequestState.choices, "state": state,
         "kinds": [k for k in RequestKind.choices if k[0] != RequestKind.RECTIFICATION],
         "public_url": f"/privacy/request/?org={tenant.pk}"},
    )  # fmt: skip


@requires(Perm.ADMIN)
def detail(request, request_id):
    privacy_request = PrivacyRequest.objects.get_for_tenant(request.tenant, request_id)
    return render(
        request,
        "shield/privacy_detail.html",
        {"r": privacy_request, "overdue": services.is_overdue(privacy_request)},
    )


@requires(Perm.ADMIN)
@require_POST
def act(request, request_id, action):
    tenant = request.tenant
    privacy_request = PrivacyRequest.objects.get_for_tenant(tenant, request_id)
    reason = request.POST.get("reason", "")
    steps = {
        "verify": lambda: services.attest(tenant, request.actor, privacy_request, reason),
        "extend": lambda: services.extend(tenant, request.actor, privacy_request, reason),
        "reject": lambda: services.reject(tenant, request.actor, privacy_request, reason),
        "fulfil": lambda: services.fulfil(tenant, request.actor, privacy_request),
        "lift": lambda: services.lift_restriction(tenant, request.actor, privacy_request),
        "link": lambda: request.session.__setitem__(
            "privacy_link", services.staff_download_link(tenant, request.actor, privacy_request)
        ),
    }
    if action not in steps:
        raise Http404("No such action")
    try:
        steps[action]()
        messages.success(request, "Done.")
    except ValidationError as exc:
        messages.error(request, _form_errors(exc))
    return redirect("shield:privacy_request", request_id=privacy_request.pk)
