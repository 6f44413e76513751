"""The public request form, the verification and download links, and the staff queue."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from octopushx.core import audit_labels, blobs
from octopushx.core.context import Actor, client_ip
from octopushx.core.models import AuditEntry
from octopushx.shield.privacy import services
from octopushx.shield.privacy.models import PrivacyRequest, RequestKind, RequestSource, RequestState
from octopushx.tenancy.models import Organization, OrgKind
from octopushx.tenancy.roles import Perm, has_perm
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


@requires(Perm.AUDIT)
def queue(request):
    """Auditors read the queue; admins and owners also record requests."""
    tenant = request.tenant
    if request.method == "POST":
        if not has_perm(request.membership.role, Perm.ADMIN):
            raise PermissionDenied("Your role cannot do this (admin)")
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
    now = timezone.now()
    chosen = services.queue_filter(request.GET)
    qs = services.filter_queue(PrivacyRequest.objects.for_tenant(tenant), chosen, now)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    rows = [(r, services.is_overdue(r, now)) for r in page]
    state = ",".join(chosen.states)
    open_states = ",".join(sorted(str(s) for s in services.OPEN_STATES))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "shield/privacy_queue.html",
        {"rows": rows, "page": page, "states": RequestState.choices, "state": state, "open_states": open_states,
         "narrowed": chosen.chips(), "filter_errors": chosen.errors, "query": query.urlencode(),
         "kinds": [k for k in RequestKind.choices if k[0] != RequestKind.RECTIFICATION],
         "public_url": f"/privacy/request/?org={tenant.pk}"},
    )  # fmt: skip


# What each kind of request does to the records the preview lists, and its button.
PREVIEW_HEADINGS = {
    RequestKind.ACCESS: "What the archive will hold",
    RequestKind.EXPORT: "What the archive will hold",
    RequestKind.ERASURE: "What will be erased",
    RequestKind.RECTIFICATION: "What will be corrected",
    RequestKind.RESTRICTION: "Whose processing will be restricted",
    RequestKind.OBJECTION: "Whose processing will be restricted (and consent withdrawn)",
}
FULFIL_BUTTONS = {
    RequestKind.ACCESS: "Build the archive",
    RequestKind.EXPORT: "Build the archive",
    RequestKind.RECTIFICATION: "Apply the corrections",
    RequestKind.RESTRICTION: "Restrict processing",
    RequestKind.OBJECTION: "Restrict processing",
}


@requires(Perm.AUDIT)
def detail(request, request_id):
    privacy_request = PrivacyRequest.objects.get_for_tenant(request.tenant, request_id)
    # Checked before anything happens: only while the request waits (afterwards it would find nothing,
    # and while its job runs the page refreshes every two seconds without showing it).
    waiting = privacy_request.is_open and privacy_request.state != RequestState.IN_PROGRESS
    context = {
        "r": privacy_request,
        "overdue": services.is_overdue(privacy_request),
        "preview": services.preview(request.tenant, privacy_request) if waiting else None,
        "preview_heading": PREVIEW_HEADINGS[privacy_request.kind],
        "fulfil_button": FULFIL_BUTTONS.get(privacy_request.kind, ""),
        "summary": services.summary(privacy_request),
        "timeline": _timeline(request.tenant, privacy_request),
    }
    # While the job runs, the state panel asks again every two seconds and replaces itself.
    if request.headers.get("HX-Request") == "true":
        return render(request, "shield/_privacy_request.html", context)
    return render(request, "shield/privacy_detail.html", context)


def _timeline(tenant, privacy_request: PrivacyRequest) -> list:
    """Each step of the request from its audit entries, oldest first, in people's words."""
    entries = AuditEntry.objects.filter(
        tenant=tenant, object_type="privacyrequest", object_id=str(privacy_request.pk)
    ).select_related("personal", "actor_user", "actor_token")
    return audit_labels.present(tenant, entries.order_by("seq"))


def _day(moment) -> str:
    moment = timezone.localtime(moment)
    return f"{moment.day} {moment:%b %Y}"


def _outcome(privacy_request: PrivacyRequest, action: str, value) -> str:
    """The flash after ``action``, read from the request's state now, so the two always agree."""
    privacy_request.refresh_from_db()
    kind = privacy_request.get_kind_display().split(" (")[0].lower()
    if action == "fulfil":
        if privacy_request.state == RequestState.COMPLETED:
            return services.summary(privacy_request)
        return f"The {kind} request is in progress: it runs in the background and this page shows the result."
    if action == "verify":
        return f"Identity confirmed. The request is due by {_day(privacy_request.due_at)}."
    if action == "extend":
        return f"Due date extended to {_day(privacy_request.due_at)}."
    if action == "reject":
        return "The request is rejected; the reason is recorded."
    if action == "lift":
        return f"Restriction lifted on {value} contact{'s' if value != 1 else ''}."
    return "A new one-time download link is shown below (valid 7 days)."


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
        "fulfil": lambda: services.fulfil(
            tenant,
            request.actor,
            privacy_request,
            confirmed=request.POST.get("confirm") == "yes",
            preview_digest=request.POST.get("preview", ""),
        ),  # fmt: skip
        "lift": lambda: services.lift_restriction(tenant, request.actor, privacy_request),
        "link": lambda: request.session.__setitem__(
            "privacy_link", services.staff_download_link(tenant, request.actor, privacy_request)
        ),
    }
    if action not in steps:
        raise Http404("No such action")
    try:
        value = steps[action]()
        messages.success(request, _outcome(privacy_request, action, value))
    except ValidationError as exc:
        messages.error(request, _form_errors(exc))
    return redirect("shield:privacy_request", request_id=privacy_request.pk)
