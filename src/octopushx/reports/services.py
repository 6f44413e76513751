"""Saved reports: who may see, save, change and share them; their data in JSON, CSV and XLSX.

- Every member who may write (not auditors: read-only everywhere) may save a personal report (it
  runs with the viewer's own scoping, so saving never widens what anyone sees). Sharing it
  (``shared``) needs a manager, admin or owner. Auditors open reports shared with them and run queries.
- A report is visible to its owner, and, when shared, to the roles in ``roles`` (every role when
  the list is empty). Others get 404, as for another tenant's report.
- The owner changes and deletes it; admins and owners may change or delete any report.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404

from octopushx.core import audit
from octopushx.core.context import Actor
from octopushx.core.text import strip
from octopushx.crm.exports import safe_cell
from octopushx.reports import query
from octopushx.reports.models import Report, View
from octopushx.tenancy.roles import Perm, Role, has_perm

FIELDS = ("name", "spec", "view", "roles", "shared")


def visible_reports(tenant, membership):
    """The tenant's reports the member owns or that are shared (role lists: ``can_see``)."""
    qs = Report.objects.for_tenant(tenant)
    if membership is None:
        return qs.none()
    return qs.filter(Q(owner_id=membership.user_id) | Q(shared=True))


def can_see(report: Report, membership) -> bool:
    if membership is None:
        return False
    if report.owner_id == membership.user_id:
        return True
    return report.shared and (not report.roles or membership.role in report.roles)


def reports_for(tenant, membership) -> list[Report]:
    """The reports ``membership`` may open (role lists are checked in Python: JSON ``contains`` differs by database)."""
    return [r for r in visible_reports(tenant, membership) if can_see(r, membership)]


def get_report(tenant, membership, pk) -> Report:
    report = Report.objects.get_for_tenant(tenant, pk)
    if not can_see(report, membership):
        raise Http404("No report with that id")
    return report


def can_edit(report: Report, membership) -> bool:
    if membership is None or not has_perm(membership.role, Perm.WRITE):
        return False
    return report.owner_id == membership.user_id or has_perm(membership.role, Perm.ADMIN)


def _require_write(membership) -> None:
    if membership is None or not has_perm(membership.role, Perm.WRITE):
        raise PermissionDenied("Your role reads reports but does not save or change them")


def _clean(tenant, membership, data: dict, report: Report | None) -> dict:
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    unknown = sorted(set(data) - set(FIELDS))
    for key in unknown:
        errors[key] = [f"Unknown field; a report has: {', '.join(FIELDS)}"]
    if "name" in data or report is None:
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            errors["name"] = ["A name is needed"]
        elif len(name.strip()) > 200:
            errors["name"] = ["At most 200 characters"]
        else:
            values["name"] = strip(name.strip())
    if "spec" in data or report is None:
        try:
            normal = query.validate(tenant, data.get("spec"))
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                errors[f"spec.{key}" if key != "body" else "spec"] = messages
        else:
            values["spec"] = data["spec"]
            values["_normal"] = normal
    if "view" in data:
        if data["view"] not in View.values:
            errors["view"] = [f"One of: {', '.join(View.values)}"]
        else:
            values["view"] = data["view"]
    if "roles" in data:
        roles = data["roles"]
        if not isinstance(roles, list) or any(r not in Role.values for r in roles):
            errors["roles"] = [f"A list of roles: {', '.join(Role.values)}"]
        else:
            values["roles"] = sorted(set(roles))
    if "shared" in data:
        if not isinstance(data["shared"], bool):
            errors["shared"] = ["true or false"]
        elif data["shared"] and not has_perm(membership.role if membership else None, Perm.EXPORT):
            raise PermissionDenied("Only managers, admins and owners share reports")
        else:
            values["shared"] = data["shared"]
    if errors:
        raise ValidationError(errors)
    values.pop("_normal", None)
    return values


def _snapshot(report: Report) -> dict:
    return {name: getattr(report, name) for name in FIELDS}


def create_report(tenant, actor: Actor, membership, data: dict) -> Report:
    _require_write(membership)
    values = _clean(tenant, membership, data, None)
    with transaction.atomic():
        report = Report.objects.create(tenant=tenant, owner=membership.user, **values)
        audit.record(tenant, actor, "report.created", obj=report, changes=audit.diff({}, _snapshot(report)))
    return report


def update_report(tenant, actor: Actor, membership, report: Report, data: dict) -> Report:
    _require_write(membership)
    if not can_edit(report, membership):
        raise PermissionDenied("Only the report's owner, an admin or an owner changes it")
    values = _clean(tenant, membership, data, report)
    old = _snapshot(report)
    with transaction.atomic():
        for name, value in values.items():
            setattr(report, name, value)
        report.save()
        changes = audit.diff(old, _snapshot(report))
        if changes:
            audit.record(tenant, actor, "report.updated", obj=report, changes=changes)
    return report


def delete_report(tenant, actor: Actor, membership, report: Report) -> None:
    _require_write(membership)
    if not can_edit(report, membership):
        raise PermissionDenied("Only the report's owner, an admin or an owner deletes it")
    with transaction.atomic():
        audit.record(tenant, actor, "report.deleted", obj=report, changes={"name": [report.name, None]})
        report.delete()


def report_out(report: Report, membership=None) -> dict:
    return {
        "id": str(report.pk),
        "name": report.name,
        "spec": report.spec,
        "view": report.view,
        "roles": report.roles,
        "shared": report.shared,
        "owner_id": str(report.owner_id) if report.owner_id else None,
        "editable": can_edit(report, membership),
        "created_at": report.created_at.isoformat(),
        "updated_at": report.updated_at.isoformat(),
    }


def current_spec(tenant, spec: Any) -> Any:
    """The spec with a named period (``period.relative``: this_month, last_30_days…, as the builder saves
    it) resolved to today's dates in the organisation's time zone, so a saved "this month" rolls on."""
    from octopushx.reports import dashboards

    period = spec.get("period") if isinstance(spec, dict) else None
    if not isinstance(period, dict) or period.get("relative") not in dashboards.PERIODS:
        return spec
    named = dashboards.resolve_period(tenant, period["relative"])
    return {**spec, "period": {**period, "from": named.start.isoformat(), "to": named.end.isoformat()}}


def report_data(tenant, membership, report: Report) -> dict:
    """The saved spec run for the viewer; a removed custom field is a 422 that says so."""
    try:
        return query.run(tenant, membership, current_spec(tenant, report.spec))
    except ValidationError as exc:
        messages = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        raise ValidationError({"spec": [f"This report can no longer run ({messages}). A field may have been removed."]})


# --- files ------------------------------------------------------------------------------------


def _describe_filter(f: dict) -> str:
    value = f.get("value")
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return f"{f['field']} {f['op']} {'' if value is None else value}".strip()


def header_block(name: str, result: dict, membership=None) -> list[list[str]]:
    """What every exported table states above its rows: filters, period, whose view (when the
    viewer is known), time zone, generation time."""
    period = result.get("period")
    lines = [
        ["Report", name],
        ["Dataset", result["dataset"]],
        ["Filters", "; ".join(_describe_filter(f) for f in result["filters"]) or "none"],
        ["Period", f"{period['field']} {period['from']} to {period['to']}" if period else "all time"],
    ]
    if membership is not None:
        from octopushx.reports.pdf import prepared_for

        lines.append(["Prepared for", prepared_for(membership)])
    return [*lines, ["Time zone", result["time_zone"]], ["Generated at", result["generated_at"]], []]


def table(result: dict) -> tuple[list[str], list[list[Any]]]:
    """Header and rows: group labels (not ids), the currency, then each measure."""
    header, keys = [], []
    for column in result["columns"]:
        header.append(column["label"])
        grouped = column["kind"] not in ("number", "money") and column["key"] != "currency"
        keys.append(f"{column['key']}_label" if grouped else column["key"])
    rows = [[row.get(key) for key in keys] for row in result["rows"]]
    if not result["rows"]:
        rows = [[result["totals"].get(c["key"]) for c in result["columns"]]]
    return header, rows


def _flat(value: Any) -> Any:
    if isinstance(value, dict):
        return "; ".join(f"{k} {v}" for k, v in value.items())
    return value


def to_csv(name: str, result: dict, membership=None) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    for line in header_block(name, result, membership):
        writer.writerow([safe_cell(v) for v in line])
    header, rows = table(result)
    writer.writerow([safe_cell(v) for v in header])
    for row in rows:
        writer.writerow([safe_cell(_flat(v)) for v in row])
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(name: str, result: dict, membership=None) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Report")
    for line in header_block(name, result, membership):
        sheet.append([strip(str(v)) for v in line])
    header, rows = table(result)
    sheet.append([strip(str(v)) for v in header])
    money = {i for i, c in enumerate(result["columns"]) if c["kind"] == "money"}
    for row in rows:
        cells = []
        for i, value in enumerate(row):
            value = _flat(value)
            if i in money and isinstance(value, str):
                try:
                    cells.append(float(value))
                    continue
                except ValueError:
                    pass
            cells.append(strip(value) if isinstance(value, str) else value)
        sheet.append(cells)
    handle = io.BytesIO()
    workbook.save(handle)
    return handle.getvalue()


# --- PDF ------------------------------------------------------------------------------------


def _stamp() -> str:
    from django.utils import timezone

    return timezone.now().strftime("%Y%m%d-%H%M")


def dashboard_pdf_file(tenant, actor: Actor, membership, key: str, period: str | None) -> tuple[str, bytes]:
    """``(filename, bytes)`` of a dashboard for the member (404/403 as ``dashboards.build``); audited."""
    from django.utils.text import slugify

    from octopushx.accounts.services import zone_name
    from octopushx.reports import pdf

    body = pdf.dashboard_pdf(tenant, membership, key, period, viewer_zone=zone_name(membership.user, tenant))
    audit.record(tenant, actor, "dashboard.exported", object_type="dashboard", object_id=str(key), changes={"format": [None, "pdf"], "period": [None, period]})  # fmt: skip
    return f"{slugify(str(key))}-dashboard-{_stamp()}.pdf", body


def report_pdf_file(tenant, actor: Actor, membership, report: Report) -> tuple[str, bytes]:
    from django.utils.text import slugify

    from octopushx.accounts.services import zone_name
    from octopushx.reports import pdf

    body = pdf.report_pdf(tenant, membership, report, viewer_zone=zone_name(membership.user, tenant))
    audit.record(tenant, actor, "report.exported", obj=report, changes={"format": [None, "pdf"]})
    return f"{slugify(report.name) or 'report'}-{_stamp()}.pdf", body


def dashboard_to_csv(tenant, membership, key: str, period) -> bytes:
    """A dashboard as CSV: the header block, then each widget's title, period and table."""
    from django.utils import timezone

    from octopushx.reports import dashboards, pdf, presentation

    board = dashboards.build(tenant, membership, key, period)
    zone = dashboards.org_zone(tenant)
    moment = timezone.now()
    out = io.StringIO()
    writer = csv.writer(out)
    head = [
        ["Dashboard", board["title"]],
        ["Period", f"{period.label}, {period.text()}; changes against {period.previous().text()}"],
        ["Filters", "each widget's own, stated under its title"],
        ["Prepared for", pdf.prepared_for(membership)],
        ["Time zone", str(zone)],
        ["Generated at", moment.astimezone(zone).isoformat()],
    ]
    for line in head:
        writer.writerow([safe_cell(v) for v in line])
    as_of = moment.astimezone(zone)
    for widget in board["widgets"]:
        card = presentation.card(widget, period, as_of)
        writer.writerow([])
        writer.writerow([safe_cell(card["title"]), safe_cell(card["period_text"])])
        if card.get("unavailable"):
            writer.writerow([safe_cell(card["unavailable"])])
        elif card.get("number"):
            for value in card["number"]["values"]:
                delta = value.get("delta") or {}
                writer.writerow([safe_cell(v) for v in (value["text"], value.get("unit", ""), delta.get("text", ""), f"was {delta['previous']}" if delta else "")])  # fmt: skip
        else:
            table = card.get("coaching") or card.get("table") or {"columns": [], "rows": []}
            writer.writerow([safe_cell(c["label"]) for c in table["columns"]])
            for row in table["rows"]:
                writer.writerow([safe_cell(cell["text"]) for cell in row["cells"]])
            if card.get("coaching"):
                writer.writerow([safe_cell(cell["text"]) for cell in card["coaching"]["team"]])
    return out.getvalue().encode("utf-8-sig")
