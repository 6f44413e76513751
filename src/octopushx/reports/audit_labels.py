"""How saved reports' audit entries read in Shield's trail."""

from __future__ import annotations

import uuid

from octopushx.core.audit_labels import labels, names
from octopushx.reports.models import Dashboard, Report, ReportSchedule

labels(
    {
        "report.created": "Report saved",
        "report.updated": "Report changed",
        "report.deleted": "Report deleted",
        "report.exported": "Report exported",
        "dashboard.created": "Dashboard created",
        "dashboard.updated": "Dashboard changed",
        "dashboard.deleted": "Dashboard deleted",
        "dashboard.exported": "Dashboard exported",
        "report_schedule.created": "Report scheduled",
        "report_schedule.updated": "Scheduled report changed",
        "report_schedule.deleted": "Scheduled report deleted",
        "report_schedule.sent": "Scheduled report sent",
        "report_schedule.failed": "Scheduled report failed to send",
        "report_schedule.recipient_dropped": "Scheduled report recipient dropped",
        "report_schedule.disabled": "Scheduled report turned off",
    },
    object_types={"report": "Report", "dashboard": "Dashboard", "reportschedule": "Scheduled report"},
    fields={
        "spec": "Query",
        "view": "View",
        "roles": "Roles",
        "shared": "Shared",
        "widgets": "Widgets",
        "description": "Description",
        "frequency": "Frequency",
        "weekday": "Day of the week",
        "day_of_month": "Day of the month",
        "recipients": "Recipients",
        "recipient": "Recipient",
        "slot": "Due at",
    },
)


@names("report")
def report_names(tenant, ids: set[str]) -> dict[str, str]:
    return {str(r.pk): r.name for r in Report.objects.filter(tenant=tenant, pk__in=ids)}


@names("dashboard")
def dashboard_names(tenant, ids: set[str]) -> dict[str, str]:
    """Custom dashboards by id; a ready dashboard (an export of ``sales``) is named by its slug."""
    uuids = {i for i in ids if _is_uuid(i)}
    return {str(d.pk): d.name for d in Dashboard.objects.filter(tenant=tenant, pk__in=uuids)}


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


@names("reportschedule")
def schedule_names(tenant, ids: set[str]) -> dict[str, str]:
    return {
        str(s.pk): str(s) for s in ReportSchedule.objects.filter(tenant=tenant, pk__in=ids).select_related("report")
    }
