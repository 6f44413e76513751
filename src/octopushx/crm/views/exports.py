"""Exports of lists and selections: start one, follow it, download the file."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render

from octopushx.crm import exports
from octopushx.crm.downloads import blob_response
from octopushx.crm.models import Export
from octopushx.crm.views._shared import _errors_text, _htmx
from octopushx.crm.views.lists import LIST_URL
from octopushx.tenancy.roles import Perm, has_perm
from octopushx.tenancy.views import requires


@requires(Perm.EXPORT)
def export_list(request):
    """Export the list the user is looking at (its filters), then follow the export's page."""
    if request.method == "POST":
        object_type = request.POST.get("object_type", "")
        filters = {k: v for k, v in request.POST.items() if k not in ("csrfmiddlewaretoken", "object_type", "format")}
        try:
            export = exports.start(
                request.tenant,
                request.actor,
                object_type,
                filters=filters,
                fmt=request.POST.get("format", "csv"),
                membership=request.membership,
            )
        except ValidationError as exc:
            messages.error(request, _errors_text(exc))
            return redirect(LIST_URL.get(object_type, "crm:contacts"))
        return redirect("crm:export", export_id=export.pk)
    recent = Export.objects.for_tenant(request.tenant).filter(created_by=request.user)[:20]
    return render(request, "crm/exports.html", {"exports": recent})


def _own_export(request, export_id) -> Export:
    export = Export.objects.get_for_tenant(request.tenant, export_id)
    if export.created_by_id != request.user.pk and not has_perm(request.membership.role, Perm.ADMIN):
        raise Http404("No export with that id")
    return export


@requires(Perm.EXPORT)
def export_detail(request, export_id):
    export = _own_export(request, export_id)
    template = "crm/_export_status.html" if _htmx(request) else "crm/export.html"
    return render(request, template, {"export": export})


@requires(Perm.EXPORT)
def export_download(request, export_id):
    export = _own_export(request, export_id)
    if export.file is None:
        raise Http404("The export is not ready")
    return blob_response(export.file)
