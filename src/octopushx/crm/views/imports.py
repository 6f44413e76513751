"""Contact imports: upload, column mapping with preview, progress, error report."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render

from octopushx.crm import imports, services
from octopushx.crm.downloads import blob_response
from octopushx.crm.models import Import
from octopushx.crm.views._shared import _htmx
from octopushx.tenancy.roles import Perm, has_perm
from octopushx.tenancy.views import requires


def _own_import(request, import_id):
    record = Import.objects.get_for_tenant(request.tenant, import_id)
    if record.created_by_id != request.user.pk and not has_perm(request.membership.role, Perm.ADMIN):
        raise Http404("No import with that id")
    return record


@requires(Perm.WRITE)
def import_list(request):
    """Upload a file; the next page shows the column mapping and a preview."""
    errors: dict = {}
    status = 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            record = imports.create(
                request.tenant,
                request.actor,
                file=upload,
                filename=getattr(upload, "name", ""),
                match_on=request.POST.get("match_on", "email"),
                on_match=request.POST.get("on_match", "update"),
                start=False,
            )
            return redirect("crm:import", import_id=record.pk)
        except ValidationError as exc:
            errors = exc.message_dict
            status = 422
    recent = Import.objects.for_tenant(request.tenant)
    if not has_perm(request.membership.role, Perm.ADMIN):
        recent = recent.filter(created_by=request.user)
    return render(
        request,
        "crm/imports.html",
        {
            "imports": recent[:20],
            "errors": errors,
            "match_keys": imports.MATCH_KEYS,
            "max_mb": imports.MAX_BYTES // (1024 * 1024),
        },
        status=status,
    )


@requires(Perm.WRITE)
def import_detail(request, import_id):
    record = _own_import(request, import_id)
    errors: dict = {}
    status = 200
    if request.method == "POST" and record.status == "pending":
        mapping = {header: request.POST.get(f"map-{index}", "") for index, header in enumerate(record.headers)}
        try:
            imports.start(
                request.tenant,
                request.actor,
                record,
                mapping=mapping,
                match_on=request.POST.get("match_on", record.match_on),
                on_match=request.POST.get("on_match", record.on_match),
            )
            return redirect("crm:import", import_id=record.pk)
        except ValidationError as exc:
            errors = exc.message_dict
            record.mapping = mapping
            status = 422
    if _htmx(request):
        return render(
            request, "crm/_import_status.html", {"record": record, "progress": int(imports.progress(record) * 100)}
        )
    targets = list(imports.TARGETS.items()) + [
        (f"cf.{d.key}", f"Custom: {d.label}") for d in services.custom_definitions(request.tenant, "contact").values()
    ]
    rows = imports.preview(record) if record.headers else []
    columns = [{"index": i, "header": h, "target": record.mapping.get(h, "")} for i, h in enumerate(record.headers)]
    return render(
        request,
        "crm/import.html",
        {
            "record": record,
            "columns": columns,
            "targets": targets,
            "preview": rows,
            "errors": errors,
            "match_keys": imports.MATCH_KEYS,
            "progress": int(imports.progress(record) * 100),
        },
        status=status,
    )


@requires(Perm.WRITE)
def import_errors(request, import_id):
    record = _own_import(request, import_id)
    if record.error_report is None:
        raise Http404("This import has no rejected rows")
    return blob_response(record.error_report, "text/csv; charset=utf-8")
