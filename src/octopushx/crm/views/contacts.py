"""Contact pages: list, bulk actions, detail with timeline, JSON record, create, edit, delete."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from octopushx.crm import exports
from octopushx.crm.models import Contact, Deal, LeadStatus, Lifecycle, ObjectType
from octopushx.crm.views.duplicates import undoable_merges
from octopushx.crm.views.lists import _bulk, _listing
from octopushx.crm.views.records import _delete, _detail, _form_view, money
from octopushx.crm.visibility import get_visible, visible
from octopushx.tenancy.roles import Perm, has_perm
from octopushx.tenancy.views import requires

# Its forms show a forbidden character as an error on the field (core.text.FormTextMiddleware).
FORMS_CHECK_TEXT = True


@requires(Perm.READ)
def contact_list(request):
    qs = visible(Contact, request.tenant, request.membership).select_related("company", "owner")
    context = _listing(request, ObjectType.CONTACT, qs)
    context.update(
        title="Contacts",
        lifecycles=Lifecycle.choices,
        lead_statuses=LeadStatus.choices,
        new_url=reverse("crm:contact_new"),
        bulk_url=reverse("crm:contacts_bulk"),
    )
    return render(request, "crm/list.html", context)


@requires(Perm.READ)
@require_POST
def contacts_bulk(request):
    return _bulk(request, ObjectType.CONTACT)


@requires(Perm.READ)
def contact_detail(request, contact_id):
    contact = get_visible(Contact, request.tenant, request.membership, contact_id)
    deals = visible(Deal, request.tenant, request.membership).filter(contacts=contact).select_related("stage")
    related = [
        {
            "title": "Deals",
            "icon": "briefcase",
            "rows": [
                (d.name, reverse("crm:deal", args=[d.pk]), f"{d.stage} · {money(d.value, d.currency)}") for d in deals
            ],
            "add_url": reverse("crm:deal_new") + f"?contact_id={contact.pk}",
            "add_label": "New deal",
        }
    ]
    if contact.company_id:
        related.insert(
            0,
            {
                "title": "Company",
                "icon": "building",
                "rows": [
                    (str(contact.company), reverse("crm:company", args=[contact.company_id]), contact.company.domain)
                ],
            },
        )
    merges = undoable_merges(request).filter(kept=contact) if has_perm(request.membership.role, Perm.DELETE) else []
    return _detail(
        request,
        ObjectType.CONTACT,
        contact,
        related,
        {"json_url": reverse("crm:contact_json", args=[contact.pk]), "merges": merges},
    )


@requires(Perm.READ)
def contact_json(request, contact_id):
    """The full record of a contact with its timeline, as JSON (download)."""
    contact = get_visible(Contact, request.tenant, request.membership, contact_id)
    if not has_perm(request.membership.role, Perm.EXPORT):
        raise PermissionDenied("Your role cannot export data")
    data = exports.contact_record(request.tenant, request.actor, contact)
    response = JsonResponse(data, json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="contact-{contact.pk}.json"'
    return response


@requires(Perm.WRITE)
def contact_new(request):
    return _form_view(request, ObjectType.CONTACT)


@requires(Perm.WRITE)
def contact_edit(request, contact_id):
    return _form_view(request, ObjectType.CONTACT, get_visible(Contact, request.tenant, request.membership, contact_id))


@requires(Perm.DELETE)
def contact_delete(request, contact_id):
    return _delete(request, ObjectType.CONTACT, get_visible(Contact, request.tenant, request.membership, contact_id))
