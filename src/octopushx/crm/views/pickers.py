"""The pickers' search: ``/crm/pick/<kind>/?q=`` (contacts, companies, deals, members) answers up to 20 rows the member may see, as JSON."""

from __future__ import annotations

from django.http import JsonResponse

from octopushx.core import text as text_rule
from octopushx.crm import pickers
from octopushx.tenancy.roles import Perm
from octopushx.tenancy.views import requires


@requires(Perm.READ)
def pick(request, kind: str):
    q = request.GET.get("q", "")
    if len(q) > pickers.MAX_QUERY:
        return JsonResponse({"detail": f"Type at most {pickers.MAX_QUERY} characters to search"}, status=400)
    if problem := text_rule.problem(q):
        return JsonResponse({"detail": problem}, status=400)
    return JsonResponse({"results": pickers.find(kind, request.tenant, request.membership, q)})
