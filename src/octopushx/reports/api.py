"""API of reports: ad-hoc queries over the registered datasets, and saved reports with their data.

``POST /reports/query`` answers a spec (see ``reports.query``) for the caller's role: an agent's
numbers count their own records, a manager's their team's, an admin's the organisation's. A dataset
the role may not read is 403; a spec that does not hold is 422 naming the field (``measures.0.field``).
Another organisation's report ids, and reports not shared with the caller, are 404.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.text import slugify
from ninja import Router, Schema
from ninja.responses import NinjaJSONEncoder
from pydantic import ConfigDict, Field

from octopushx.api.errors import ErrorOut
from octopushx.core import audit
from octopushx.reports import query, services

router = Router(tags=["reports"])
ERRORS = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class ReportMeasure(Schema):
    agg: Literal["count", "count_distinct", "sum", "avg", "min", "max"]
    field: str | None = None


class ReportGroup(Schema):
    field: str
    grain: Literal["day", "week", "month", "quarter"] | None = None


class ReportFilter(Schema):
    field: str
    op: str = Field("eq", description="eq ne contains gt gte lt lte in is_empty is_not_empty")
    value: Any = None


class ReportPeriod(Schema):
    field: str | None = None
    to: str | None = None
    from_: str | None = Field(None, alias="from")


class ReportQueryIn(Schema):
    model_config = ConfigDict(extra="allow")
    dataset: str
    measures: list[ReportMeasure] | None = None
    group_by: list[ReportGroup] | None = None
    filters: list[ReportFilter] | None = None
    period: ReportPeriod | None = None
    compare: Literal["previous_period"] | None = None


class ReportIn(Schema):
    model_config = ConfigDict(extra="allow")
    name: str | None = None
    spec: dict | None = None
    view: Literal["table", "bar", "line", "stacked_bar", "pie", "number"] | None = None
    roles: list[str] | None = None
    shared: bool | None = None


def _json(data, status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, encoder=NinjaJSONEncoder)


def _body(request) -> Any:
    """The body as sent: the schemas document it, ``query.validate`` judges it (field by field)."""
    return json.loads(request.body or b"{}")


@router.post("/reports/query", summary="Run a report query", response={200: dict, **ERRORS})
def run_query(request, payload: ReportQueryIn):
    """Columns, rows (each with its drill-down URL), totals, the previous period's totals and the deltas."""
    return _json(query.run(request.tenant, request.membership, _body(request)))


@router.get("/reports/datasets", summary="List reportable datasets", response={200: dict, **ERRORS})
def list_datasets(request):
    """Every dataset with its fields (kind, label, choices); custom fields of this organisation included."""
    from octopushx.core import datasets

    items = []
    for ds in datasets.all_datasets().values():
        try:
            ds.rows(request.tenant, request.membership)
        except PermissionDenied:  # a dataset the role may not read is not offered
            continue
        fields = [
            {
                "name": name,
                "label": f.label,
                "kind": f.kind,
                "choices": [list(c) for c in f.choices],
                "groupable": f.groupable,
                "filterable": f.filterable,
            }
            for name, f in ds.all_fields(request.tenant).items()
        ]
        items.append(
            {"name": ds.name, "label": ds.label, "default_date_field": ds.default_date_field, "fields": fields}
        )
    return _json({"items": items})


@router.get("/reports", summary="List saved reports", response={200: dict, **ERRORS})
def list_reports(request):
    """The caller's own reports and those shared with their role."""
    items = [
        services.report_out(r, request.membership) for r in services.reports_for(request.tenant, request.membership)
    ]
    return _json({"items": items})


@router.post("/reports", summary="Save a report", response={201: dict, **ERRORS})
def create_report(request, payload: ReportIn):
    report = services.create_report(request.tenant, request.actor, request.membership, _body(request))
    return _json(services.report_out(report, request.membership), status=201)


@router.get("/reports/{report_id}", summary="Get a saved report", response={200: dict, **ERRORS})
def get_report(request, report_id: str):
    return _json(
        services.report_out(services.get_report(request.tenant, request.membership, report_id), request.membership)
    )


@router.patch("/reports/{report_id}", summary="Change a saved report", response={200: dict, **ERRORS})
def update_report(request, report_id: str, payload: ReportIn):
    report = services.get_report(request.tenant, request.membership, report_id)
    report = services.update_report(request.tenant, request.actor, request.membership, report, _body(request))
    return _json(services.report_out(report, request.membership))


@router.delete("/reports/{report_id}", summary="Delete a saved report", response={204: None, **ERRORS})
def delete_report(request, report_id: str):
    report = services.get_report(request.tenant, request.membership, report_id)
    services.delete_report(request.tenant, request.actor, request.membership, report)
    return 204, None


@router.get(
    "/reports/{report_id}/data",
    summary="A saved report's data (JSON, CSV, XLSX or PDF)",
    response={200: dict, **ERRORS},
)
def report_data(request, report_id: str, format: Literal["json", "csv", "xlsx", "pdf"] = "json"):
    """Run for the caller. CSV and XLSX start with a block stating the filters, period, time zone and
    generation time; the PDF states them on its first page, then shows the chart and every row.
    A report whose field was removed answers 422 saying so."""
    report = services.get_report(request.tenant, request.membership, report_id)
    if format == "pdf":
        filename, body = services.report_pdf_file(request.tenant, request.actor, request.membership, report)
        response = HttpResponse(body, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    result = services.report_data(request.tenant, request.membership, report)
    if format == "json":
        return _json({"report": services.report_out(report, request.membership), **result})
    audit.record(request.tenant, request.actor, "report.exported", obj=report, changes={"format": [None, format]})
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    filename = f"{slugify(report.name) or 'report'}-{stamp}.{format}"
    if format == "csv":
        response = HttpResponse(
            services.to_csv(report.name, result, request.membership), content_type="text/csv; charset=utf-8"
        )
    else:
        response = HttpResponse(
            services.to_xlsx(report.name, result, request.membership),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
