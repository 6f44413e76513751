"""How saved reports' audit entries read in Shield's trail."""

from __future__ import annotations

from octopushx.core.audit_labels import labels, names
from octopushx.reports.models import Report

labels(
    {
        "report.created": "Report saved",
        "report.updated": "Report changed",
        "report.deleted": "Report deleted",
        "report.exported": "Report exported",
        "dashboard.exported": "Dashboard exported",
    },
    object_types={"report": "Report", "dashboard": "Dashboard"},
    fields={"spec": "Query", "view": "View", "roles": "Roles", "shared": "Shared"},
)


@names("report")
def report_names(tenant, ids: set[str]) -> dict[str, str]:
    return {str(r.pk): r.name for r in Report.objects.filter(tenant=tenant, pk__in=ids)}
