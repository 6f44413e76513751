"""How saved reports' audit entries read in Shield's trail."""

from __future__ import annotations

from octopushx.core.audit_labels import labels, names
from octopushx.reports.models import Report, ReportSchedule

labels(
    {
        "report.created": "Report saved",
        "report.updated": "Report changed",
        "report.deleted": "Report deleted",
        "report.exported": "Report exported",
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


@names("reportschedule")
def schedule_names(tenant, ids: set[str]) -> dict[str, str]:
    return {
        str(s.pk): str(s) for s in ReportSchedule.objects.filter(tenant=tenant, pk__in=ids).select_related("report")
    }
