"""Retention settings: policies per data class, legal holds, the dry-run preview, past runs."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from octopushx.shield.retention import services
from octopushx.shield.retention.models import HoldScope, LegalHold, RetentionRun
from octopushx.tenancy.roles import Perm
from octopushx.tenancy.views import _form_errors, requires


@requires(Perm.ADMIN)
def retention_page(request):
    tenant = request.tenant
    due, holds = services.preview(tenant)
    return render(
        request,
        "shield/retention.html",
        {
            "policies": services.effective_policies(tenant),
            "due": due,
            "tenant_held": holds.tenant_wide,
            "holds": LegalHold.objects.for_tenant(tenant).select_related("placed_by")[:200],
            "scopes": HoldScope.choices,
            "runs": RetentionRun.objects.for_tenant(tenant)[:20],
        },
    )


@requires(Perm.ADMIN)
@require_POST
def set_policy(request):
    keep = request.POST.get("mode") == "keep"
    raw = request.POST.get("days", "").strip()
    try:
        days = int(raw) if raw else None
    except ValueError:
        messages.error(request, "Give the period as a whole number of days.")
        return redirect("shield:retention")
    try:
        services.set_policy(request.tenant, request.actor, request.POST.get("data_class", ""), keep=keep, days=days)
        messages.success(request, "Retention policy saved.")
    except ValidationError as exc:
        messages.error(request, _form_errors(exc))
    return redirect("shield:retention")


@requires(Perm.ADMIN)
@require_POST
def place_hold(request):
    try:
        services.place_hold(
            request.tenant,
            request.actor,
            scope=request.POST.get("scope", ""),
            object_id=request.POST.get("object_id", ""),
            reason=request.POST.get("reason", ""),
        )
        messages.success(request, "Legal hold placed.")
    except ValidationError as exc:
        messages.error(request, _form_errors(exc))
    return redirect("shield:retention")


@requires(Perm.ADMIN)
@require_POST
def release_hold(request, hold_id):
    hold = LegalHold.objects.get_for_tenant(request.tenant, hold_id)
    try:
        services.release_hold(request.tenant, request.actor, hold)
        messages.success(request, "Legal hold released.")
    except ValidationError as exc:
        messages.error(request, _form_errors(exc))
    return redirect("shield:retention")
