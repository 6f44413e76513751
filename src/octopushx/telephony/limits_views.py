"""The phone line's limits page: calls at once and minutes this month against the caps, and the caps
the organisation (or reseller) sets itself where the plan sets none. Owners and admins only."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from octopushx.telephony import limits
from octopushx.tenancy.models import OrgKind


def admin_only(view):
    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if request.tenant is None:
            return redirect("home")
        if not limits.can_set(request.membership):
            raise PermissionDenied("Line limits are for owners and admins")
        return view(request, *args, **kwargs)

    return wrapped


@admin_only
@require_http_methods(["GET", "POST"])
def limits_page(request):
    org = request.tenant
    own = limits.settings_of(org)
    values = {"max_concurrent_calls": own.max_concurrent_calls, "monthly_minutes": own.monthly_minutes}
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        values = {name: request.POST.get(name, "") for name in values}
        try:
            limits.set_limits(org, request.actor, **values)
        except ValidationError as exc:
            errors, status = exc.message_dict, 422
        else:
            messages.success(request, "Line limits saved.")
            return redirect("telephony:limits")
    state = limits.standing(org)
    context = {
        "state": state,
        "values": values,
        "errors": errors,
        "is_reseller": org.kind == OrgKind.RESELLER,
        "settable": state.concurrent.source == "setting" or state.minutes.source == "setting",
        "resets": state.period[1],
    }
    return render(request, "telephony/limits.html", context, status=status)
