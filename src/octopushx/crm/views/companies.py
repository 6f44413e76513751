"""Company pages: list, bulk actions, detail, create, edit, delete."""

from __future__ import annotations

from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from octopushx.crm.models import Company, Contact, Deal, ObjectType
from octopushx.crm.views.lists import _bulk, _listing
from octopushx.crm.views.records import _delete, _detail, _form_view, money
from octopushx.crm.visibility import get_visible, visible
from octopushx.tenancy.roles import Perm
from octopushx.tenancy.views import requires

# Its forms show a forbidden character as an error on the field (core.text.FormTextMiddleware).
FORMS_CHECK_TEXT = True


@requires(Perm.READ)
def company_list(request):
    qs = visible(Company, request.tenant, request.membership).select_related("owner")
    context = _listing(request, ObjectType.COMPANY, qs)
    context.update(title="Companies", new_url=reverse("crm:company_new"), bulk_url=reverse("crm:companies_bulk"))
    return render(request, "crm/list.html", context)


@requires(Perm.READ)
@require_POST
def companies_bulk(request):
    return _bulk(request, ObjectType.COMPANY)


@requires(Perm.READ)
def company_detail(request, company_id):
    company = get_visible(Company, request.tenant, request.membership, company_id)
    contacts = visible(Contact, request.tenant, request.membership).filter(company=company).order_by("last_name")[:100]
    deals = visible(Deal, request.tenant, request.membership).filter(company=company).select_related("stage")[:100]
    related = [
        {
            "title": "Contacts",
            "icon": "users",
            "rows": [
                (c.full_name, reverse("crm:contact", args=[c.pk]), " · ".join(p for p in (c.job_title, c.email) if p))
                for c in contacts
            ],
            "add_url": reverse("crm:contact_new") + f"?company_id={company.pk}",
            "add_label": "New contact",
        },
        {
            "title": "Deals",
            "icon": "briefcase",
            "rows": [
                (d.name, reverse("crm:deal", args=[d.pk]), f"{d.stage} · {money(d.value, d.currency)}") for d in deals
            ],
            "add_url": reverse("crm:deal_new") + f"?company_id={company.pk}",
            "add_label": "New deal",
        },
    ]
    return _detail(request, ObjectType.COMPANY, company, related)


@requires(Perm.WRITE)
def company_new(request):
    return _form_view(request, ObjectType.COMPANY)


@requires(Perm.WRITE)
def company_edit(request, company_id):
    return _form_view(request, ObjectType.COMPANY, get_visible(Company, request.tenant, request.membership, company_id))


@requires(Perm.DELETE)
def company_delete(request, company_id):
    return _delete(request, ObjectType.COMPANY, get_visible(Company, request.tenant, request.membership, company_id))
