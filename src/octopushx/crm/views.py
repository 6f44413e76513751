"""OctoCRM pages: lists with search and filters, detail pages with the activity timeline."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import render

from octopushx.crm import queries
from octopushx.crm.models import Company, Contact, Deal, ObjectType
from octopushx.crm.visibility import get_visible, visible
from octopushx.tenancy.roles import Perm
from octopushx.tenancy.views import requires

PAGE_SIZE = 50


def _list(request, object_type: str, qs, template: str, default_order: str):
    error = None
    try:
        qs = queries.listing(object_type, qs, request.tenant, request.GET)
        field, descending = queries.ordering(object_type, request.GET.get("ordering"), default_order)
    except ValidationError as exc:
        error = " ".join(m for msgs in exc.message_dict.values() for m in msgs)
        field, descending = queries.ordering(object_type, None, default_order)
    qs = qs.order_by(f"{'-' if descending else ''}{field}", "pk")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, template, {"page": page, "error": error, "query": query.urlencode(), "params": request.GET})


@requires(Perm.READ)
def contact_list(request):
    qs = visible(Contact, request.tenant, request.membership).select_related("company", "owner")
    return _list(request, ObjectType.CONTACT, qs, "crm/contact_list.html", "last_name")


@requires(Perm.READ)
def contact_detail(request, contact_id):
    contact = get_visible(Contact, request.tenant, request.membership, contact_id)
    return render(request, "crm/contact_detail.html", {"contact": contact})


@requires(Perm.READ)
def company_list(request):
    qs = visible(Company, request.tenant, request.membership).select_related("owner")
    return _list(request, ObjectType.COMPANY, qs, "crm/company_list.html", "name")


@requires(Perm.READ)
def company_detail(request, company_id):
    company = get_visible(Company, request.tenant, request.membership, company_id)
    return render(request, "crm/company_detail.html", {"company": company})


@requires(Perm.READ)
def deal_list(request):
    qs = visible(Deal, request.tenant, request.membership).select_related("stage", "company", "owner")
    return _list(request, ObjectType.DEAL, qs, "crm/deal_list.html", "-created_at")


@requires(Perm.READ)
def deal_detail(request, deal_id):
    deal = get_visible(Deal, request.tenant, request.membership, deal_id)
    return render(request, "crm/deal_detail.html", {"deal": deal})
