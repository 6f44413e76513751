"""The audit trail page and its CSV export (owners, admins, auditors)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from octopushx.core import audit, audit_labels
from octopushx.core.models import AuditEntry
from octopushx.shield import services
from octopushx.tenancy.roles import Perm
from octopushx.tenancy.views import requires


def _filters(request) -> tuple[services.AuditFilter, str | None]:
    raw = {k: v for k, v in request.GET.items() if k in services.AuditFilter.model_fields and v}
    try:
        return services.AuditFilter(**raw), None
    except Exception as exc:  # pydantic ValidationError: show the message, list unfiltered
        return services.AuditFilter(), f"Some filters were ignored: {exc.__class__.__name__}"


@requires(Perm.AUDIT)
def audit_page(request):
    filters, warning = _filters(request)
    qs = services.filtered_entries(request.tenant, filters).select_related("actor_user", "actor_token")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    rows = audit_labels.present(request.tenant, page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    # One filter per action family actually present in this trail (every app adds its own).
    recorded = AuditEntry.objects.filter(tenant=request.tenant).order_by().values_list("action", flat=True).distinct()
    families = {action.split(".")[0] for action in recorded}
    actions = sorted(((f"{f}.", audit_labels.object_type_label(f)) for f in families), key=lambda item: item[1])
    context = {"page": page, "rows": rows, "filters": filters, "warning": warning, "query": query.urlencode()}
    return render(request, "shield/audit.html", context | {"actions": actions})


@requires(Perm.AUDIT)
def audit_verify(request):
    result = audit.verify(request.tenant)
    return render(request, "shield/audit_verify.html", {"result": result})


@requires(Perm.AUDIT)
def audit_csv(request):
    filters, _ = _filters(request)
    try:
        rows = services.export_csv(request.tenant, filters, request.actor)
        first = next(rows)  # writes the audit entry for the export before streaming
    except ValidationError as exc:
        from django.http import HttpResponseBadRequest

        return HttpResponseBadRequest(" ".join(exc.messages))

    def stream():
        yield first
        yield from rows

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return response
