"""Settings → Offboarding: an owner downloads the whole organisation and gives (or withdraws) notice."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from octopushx.shield.offboarding import export, services
from octopushx.tenancy.models import OrgKind
from octopushx.tenancy.roles import Perm
from octopushx.tenancy.views import _form_errors, requires


def _own_organisation(request):
    if request.tenant.kind == OrgKind.PLATFORM:
        raise PermissionDenied("The platform organisation cannot be exported or terminated here")
    return request.tenant


@requires(Perm.OWNER)
def offboarding_page(request):
    """The export download and the termination notice, for the organisation's owners."""
    org = _own_organisation(request)
    form = {"notice_days": services.NOTICE_DEFAULT_DAYS, "reason": ""}
    if request.method == "POST":
        form = {"notice_days": request.POST.get("notice_days", ""), "reason": request.POST.get("reason", "")}
        try:
            termination = services.request_termination(
                org,
                request.actor,
                notice_days=form["notice_days"],
                reason=form["reason"],
                confirm=request.POST.get("confirm", ""),
            )
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, _form_errors(exc) if isinstance(exc, ValidationError) else str(exc))
        else:
            messages.success(request, f"Notice given: {org.name} will be deleted on {termination.due_at:%d %b %Y}.")
            return redirect("offboarding:page")
    return render(
        request,
        "shield/offboarding/page.html",
        {
            "org": org,
            "termination": services.open_termination(org),
            "form": form,
            "notice_min": services.NOTICE_MIN_DAYS,
            "notice_max": services.NOTICE_MAX_DAYS,
        },
    )


@requires(Perm.OWNER)
@require_GET
def export_download(request):
    """The whole organisation as one ZIP, streamed as it is written."""
    org = _own_organisation(request)
    services.start_export(org, request.actor)
    response = StreamingHttpResponse(
        export.stream(org, generated_by=request.actor.label), content_type="application/zip"
    )
    response["Content-Disposition"] = f'attachment; filename="{export.filename(org)}"'
    response["Cache-Control"] = "private, no-store"
    return response


@requires(Perm.OWNER)
@require_POST
def cancel(request):
    org = _own_organisation(request)
    try:
        services.cancel_termination(org, request.actor)
    except ValidationError as exc:
        messages.error(request, _form_errors(exc))
    else:
        messages.success(request, f"The termination is cancelled; {org.name} works again.")
    return redirect("offboarding:page")
