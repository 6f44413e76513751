"""Contact imports: upload, column mapping with preview, progress, error report."""

from __future__ import annotations

from itertools import zip_longest

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render

from octopushx.crm import imports, services
from octopushx.crm.downloads import blob_response
from octopushx.crm.imports import files
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
            "max_rows": f"{files.MAX_ROWS:,}",
        },
        status=status,
    )


def _posted_values(request, record) -> tuple[dict[str, dict[str, str]], list[tuple[str, str]]]:
    """The value-mapping tables as posted: per column, value → option; and values to add as options."""
    chosen: dict[str, dict[str, str]] = {}
    new: list[tuple[str, str]] = []
    for index, header in enumerate(record.headers):
        prefix = f"value-{index}-"
        for key in request.POST:
            if not (key.startswith(prefix) and key.endswith("-raw")):
                continue
            raw = request.POST[key]
            option = request.POST.get(key[: -len("-raw")], "")
            if option == NEW_OPTION:
                new.append((header, raw))
                chosen.setdefault(header, {})[raw] = raw.strip()
            elif option:
                chosen.setdefault(header, {})[raw] = option
    return chosen, new


NEW_OPTION = "__new__"


@requires(Perm.WRITE)
def import_detail(request, import_id):
    record = _own_import(request, import_id)
    is_admin = has_perm(request.membership.role, Perm.ADMIN)
    errors: dict = {}
    status = 200
    if request.method == "POST" and record.status == "pending":
        mapping = {header: request.POST.get(f"map-{index}", "") for index, header in enumerate(record.headers)}
        values, new = _posted_values(request, record)
        try:
            with transaction.atomic():
                if new:
                    if not is_admin:
                        raise ValidationError({"value_mapping": ["Only an admin can add options to a field"]})
                    imports.add_options(request.tenant, request.actor, record, mapping, new)
                if request.POST.get("action") == "check":
                    imports.recheck(request.tenant, request.actor, record, mapping=mapping, value_mapping=values)
                else:
                    imports.start(
                        request.tenant,
                        request.actor,
                        record,
                        mapping=mapping,
                        value_mapping=values,
                        match_on=request.POST.get("match_on", record.match_on),
                        on_match=request.POST.get("on_match", record.on_match),
                    )
            return redirect("crm:import", import_id=record.pk)
        except ValidationError as exc:
            errors = exc.message_dict
            record.refresh_from_db()
            record.mapping = mapping
            status = 422
    if _htmx(request):
        if request.GET.get("part") == "check":
            return render(request, "crm/_import_check.html", _check_context(record))
        return render(
            request, "crm/_import_status.html", {"record": record, "progress": int(imports.progress(record) * 100)}
        )
    custom = services.custom_definitions(request.tenant, "contact")
    targets = list(imports.TARGETS.items()) + [(f"cf.{d.key}", f"Custom: {d.label}") for d in custom.values()]
    labels = dict(targets)
    rows = [_preview_row(row, record.headers) for row in imports.preview(record)] if record.headers else []
    columns = [{"index": i, "header": h, "target": record.mapping.get(h, "")} for i, h in enumerate(record.headers)]
    tables = imports.value_tables(record) if record.status == "pending" else []
    for table in tables:
        table["label"] = labels.get(table["target"], table["target"])
        table["can_add"] = is_admin and table["custom"]
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
            "value_tables": tables,
            "new_option": NEW_OPTION,
            "encoding": imports.encoding_label(record.encoding),
            **_check_context(record, labels),
        },
        status=status,
    )


def _preview_row(row, headers: list[str]) -> dict:
    """A preview row with each cell beside its column's header, the cells with a problem marked."""
    flagged = {issue.column for issue in row.issues}
    cells = [
        {"header": header, "value": value, "flagged": header in flagged}
        for header, value in zip_longest(headers, row.raw, fillvalue="")
    ]
    return {"number": row.number, "errors": row.errors, "problems": row.problems, "cells": cells}


def _check_context(record, labels: dict | None = None) -> dict:
    """The whole-file check as the page shows it: only the columns and reasons with problems."""
    if labels is None:
        custom = services.custom_definitions(record.tenant, "contact")
        labels = dict(imports.TARGETS) | {f"cf.{d.key}": f"Custom: {d.label}" for d in custom.values()}
    check = record.file_check or {}
    problems = [
        {**column, "label": labels.get(column["target"], column["target"])}
        for column in check.get("columns", [])
        if column["invalid"]
    ]
    return {
        "record": record,
        "check": check,
        "check_pending": bool(check.get("pending")) and record.status == "pending",
        "check_problems": problems,
        "check_stale": bool(check.get("columns"))
        and (check.get("mapping") != record.mapping or check.get("value_mapping") != record.value_mapping),
    }


@requires(Perm.WRITE)
def import_errors(request, import_id):
    record = _own_import(request, import_id)
    if record.error_report is None:
        raise Http404("This import has no rejected rows")
    return blob_response(record.error_report, "text/csv; charset=utf-8")
