"""The CRM search page (full page and the htmx results fragment)."""

from __future__ import annotations

from django.shortcuts import render

from octopushx.crm import search
from octopushx.crm.views._shared import _htmx
from octopushx.tenancy.roles import Perm
from octopushx.tenancy.views import requires


@requires(Perm.READ)
def search_page(request):
    q = request.GET.get("q", "").strip()
    hits = search.search(request.tenant, request.membership, q, limit=20) if q else []
    if _htmx(request):
        return render(request, "crm/_search_results.html", {"hits": hits, "q": q})
    return render(request, "crm/search.html", {"hits": hits, "q": q})
