"""Security settings page: the session limit and the seats of the subscription."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from octopushx.shield.seats import services
from octopushx.tenancy.roles import Perm
from octopushx.tenancy.views import _form_errors, requires


@requires(Perm.ADMIN)
def security_settings(request):
    tenant = request.tenant
    if request.method == "POST":
        raw = request.POST.get("max_sessions_per_user", "").strip()
        try:
            value = int(raw) if raw else None
        except ValueError:
            messages.error(request, "Enter a whole number of sessions, or leave it empty for no limit.")
            return redirect("shield:security_settings")
        try:
            services.update_policy(tenant, request.actor, max_sessions_per_user=value)
            messages.success(request, "Security settings saved.")
            return redirect("shield:security_settings")
        except ValidationError as exc:
            messages.error(request, _form_errors(exc))
    return render(
        request,
        "shield/security_settings.html",
        {
            "policy": services.policy_of(tenant),
            "seats": services.seat_summary(tenant),
            "ceiling": services.MAX_SESSIONS_CEILING,
        },
    )
