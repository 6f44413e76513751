"""The security page (owners, admins, auditors): activity, chart, alerts and acknowledgement."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from octopushx.core.audit_labels import action_label
from octopushx.shield.monitoring import services
from octopushx.shield.monitoring.models import SecurityAlert
from octopushx.tenancy.roles import Perm
from octopushx.tenancy.views import _form_errors, requires


@requires(Perm.AUDIT)
def security_page(request):
    tenant = request.tenant
    filters, errors = services.ActivityFilter.from_query(request.GET)
    entries = services.activity(tenant, filters)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    services.mark_first_seen(page)
    for entry in page:
        entry.action_label = action_label(entry.action)
    query = request.GET.copy()
    query.pop("page", None)
    series = services.daily_counts(tenant, filters)
    alerts = SecurityAlert.objects.for_tenant(tenant).select_related("acknowledged_by")
    show = request.GET.get("alerts", "open")
    if show != "all":
        alerts = alerts.filter(acknowledged_at__isnull=True)
    alerts, narrowed = services.narrow_alerts(alerts, request.GET, errors)
    return render(
        request,
        "shield/security.html",
        {
            "filters": filters,
            "errors": errors,
            "categories": [(k, label) for k, (label, _q) in services.CATEGORIES.items()],
            "counts": services.counts_by_category(tenant, filters),
            "page": page,
            "query": query.urlencode(),
            "chart": services.chart_data(series),
            "chart_total": sum(n for _day, n in series),
            "alerts": alerts[:100],
            "show": show,
            "narrowed": narrowed,
            "open_count": services.open_alerts(tenant).count(),
        },
    )


@requires(Perm.AUDIT)
@require_POST
def acknowledge(request, alert_id):
    alert = SecurityAlert.objects.get_for_tenant(request.tenant, alert_id)
    try:
        services.acknowledge(request.tenant, request.actor, alert, request.POST.get("note", ""))
        messages.success(request, "The alert is acknowledged.")
    except ValidationError as exc:
        messages.error(request, _form_errors(exc))
    return redirect("shield:security")
