"""Sends signed-in users to the accept page until they accept the current terms and AUP
(and, for owners, the organisation's data processing agreement)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.shortcuts import redirect

from octopushx.shield.legal import services
from octopushx.tenancy.middleware import OPEN_PREFIXES

EXEMPT = (*OPEN_PREFIXES, "/switch/")


class LegalAcceptanceMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request, "tenant", None)
        if tenant is not None and request.user.is_authenticated and not request.path.startswith(EXEMPT):
            role = request.membership.role if request.membership else None
            if services.pending_for(request.user, tenant, role):
                return redirect("/legal/accept/?" + urlencode({"next": request.get_full_path()}))
        return self.get_response(request)
