"""Suspend and reinstate buttons on the Organisations page."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from octopushx.shield.suspension import services
from octopushx.tenancy.models import Organization
from octopushx.tenancy.roles import Perm
from octopushx.tenancy.views import _form_errors, requires


def _manageable(request, org_id) -> Organization:
    org = Organization.objects.filter(pk=org_id, deleted_at__isnull=True).select_related("parent").first()
    if org is None or not services.can_suspend(request.user, org):
        raise Http404("No such organisation")
    return org


@requires(Perm.ADMIN)
@require_POST
def suspend(request, org_id):
    org = _manageable(request, org_id)
    try:
        services.suspend_tenant(
            org,
            request.actor,
            reason=request.POST.get("reason", ""),
            note=request.POST.get("note", ""),
        )
        messages.success(request, f"{org.name} is suspended.")
    except ValidationError as exc:
        messages.error(request, _form_errors(exc))
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    return redirect("tenancy:organizations")


@requires(Perm.ADMIN)
@require_POST
def reinstate(request, org_id):
    org = _manageable(request, org_id)
    try:
        services.reinstate_tenant(org, request.actor, note=request.POST.get("note", ""))
        messages.success(request, f"{org.name} is reinstated.")
    except ValidationError as exc:
        messages.error(request, _form_errors(exc))
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    return redirect("tenancy:organizations")
