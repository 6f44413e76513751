"""Detail, form and delete pages shared by contacts, companies and deals."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe

from octopushx.core import phone_actions
from octopushx.crm import services, timeline
from octopushx.crm.forms import CompanyForm, ContactForm, DealForm, TaskForm
from octopushx.crm.models import Company, Contact, CustomField, Deal, ObjectType
from octopushx.crm.views._shared import _htmx
from octopushx.crm.views.duplicates import _warn_duplicates
from octopushx.crm.views.lists import BULK, DETAIL_URL, LIST_URL, _cell

# Its forms show a forbidden character as an error on the field (core.text.FormTextMiddleware).
FORMS_CHECK_TEXT = True


def _timeline_context(request, record) -> dict:
    kind = request.GET.get("kind", "")
    if kind not in timeline.KINDS:
        kind = ""
    return {
        "timeline": timeline.build(record, kind or None),
        "kinds": timeline.KINDS,
        "kind": kind,
        "kind_label": timeline.KINDS.get(kind, ""),
    }


def breakable_emails(addresses) -> str:
    """Addresses one per line, each allowed to wrap after its "@" rather than mid-word."""
    lines = [format_html("{}@<wbr>{}", *a.split("@", 1)) if "@" in a else conditional_escape(a) for a in addresses]
    return mark_safe("<br>".join(lines))  # noqa: S308 - every part escaped above


def money(value, currency: str) -> str:
    """``1,200 GBP``, ``1,200.50 GBP``: no ".00" on whole amounts."""
    return f"{value:,.2f}".removesuffix(".00") + f" {currency}"


def _custom_values(record, object_type: str) -> list[tuple[str, str]]:
    values = []
    for definition in CustomField.objects.for_tenant(record.tenant).filter(object_type=object_type):
        if definition.key in record.custom:
            values.append((definition.label, _cell(record, f"cf.{definition.key}", set())))
    return values


def contact_fields(contact: Contact, request=None) -> list[tuple[str, str]]:
    return [
        ("Emails", breakable_emails(e.email for e in contact.emails.all())),
        # Each number with the actions other apps register for it (telephony's call button).
        ("Phones", phone_actions.render_many(request, [p.number for p in contact.phones.all()], contact.pk)),
        ("Company", str(contact.company or "")),
        ("Job title", contact.job_title),
        ("Owner", str(contact.owner or "")),
        ("Lifecycle", contact.get_lifecycle_stage_display()),
        ("Lead status", contact.get_lead_status_display()),
        ("Tags", ", ".join(t.name for t in contact.tags.all())),
        (
            "Address",
            ", ".join(
                p for p in (contact.street, contact.city, contact.region, contact.postal_code, contact.country) if p
            ),
        ),
        ("Preferred language", contact.preferred_language),
        ("Consent", contact.get_consent_display()),
        ("Lawful basis", contact.get_lawful_basis_display()),
        ("Restricted", "Yes — kept but not processed" if contact.restricted else "No"),
        ("External id", contact.external_id),
        *_custom_values(contact, ObjectType.CONTACT),
    ]


def company_fields(company: Company, request=None) -> list[tuple[str, str]]:
    return [
        ("Domain", company.domain),
        ("Industry", company.industry),
        ("Size", company.size),
        ("Phone", phone_actions.render(request, company.phone) if company.phone else ""),
        ("Owner", str(company.owner or "")),
        ("Tags", ", ".join(t.name for t in company.tags.all())),
        (
            "Address",
            ", ".join(
                p for p in (company.street, company.city, company.region, company.postal_code, company.country) if p
            ),
        ),
        ("External id", company.external_id),
        *_custom_values(company, ObjectType.COMPANY),
    ]


def deal_fields(deal: Deal, request=None) -> list[tuple[str, str]]:
    return [
        ("Value", money(deal.value, deal.currency)),
        ("Pipeline", str(deal.pipeline)),
        ("Stage", f"{deal.stage} ({deal.stage.probability}%)"),
        ("Status", deal.get_status_display()),
        ("Expected close", deal.expected_close.strftime("%d %b %Y") if deal.expected_close else ""),
        ("Won / lost reason", deal.close_reason),
        ("Owner", str(deal.owner or "")),
        ("Company", str(deal.company or "")),
        ("Tags", ", ".join(t.name for t in deal.tags.all())),
        *_custom_values(deal, ObjectType.DEAL),
    ]


FIELDS = {ObjectType.CONTACT: contact_fields, ObjectType.COMPANY: company_fields, ObjectType.DEAL: deal_fields}


def _detail(request, object_type: str, record, related: list[dict], extra: dict | None = None):
    context = {
        "object_type": object_type,
        "record": record,
        "fields": FIELDS[object_type](record, request),
        "related": related,
        "edit_url": reverse(f"crm:{object_type}_edit", args=[record.pk]),
        "delete_url": reverse(f"crm:{object_type}_delete", args=[record.pk]),
        "note_url": reverse("crm:note_new") + f"?{object_type}_id={record.pk}",
        "task_url": reverse("crm:task_new") + f"?{object_type}_id={record.pk}",
        "task_form": TaskForm(tenant=request.tenant, membership=request.membership, related=False),
        **_timeline_context(request, record),
        **(extra or {}),
    }
    if _htmx(request) and request.GET.get("kind") is not None:
        return render(request, "crm/_timeline.html", context)
    return render(request, "crm/detail.html", context)


FORMS = {
    ObjectType.CONTACT: (Contact, ContactForm, services.create_contact, services.update_contact),
    ObjectType.COMPANY: (Company, CompanyForm, services.create_company, services.update_company),
    ObjectType.DEAL: (Deal, DealForm, services.create_deal, services.update_deal),
}


TITLES = {ObjectType.CONTACT: "contact", ObjectType.COMPANY: "company", ObjectType.DEAL: "deal"}


def _form_view(request, object_type: str, record=None):
    model, form_class, create, update = FORMS[object_type]
    kwargs = {"tenant": request.tenant, "membership": request.membership, "instance": record}
    form = form_class(request.POST or None, **kwargs)
    if request.method == "GET" and record is None:
        for key in ("company_id", "contact_id"):
            if request.GET.get(key):
                target = {"company_id": "company", "contact_id": "contacts"}[key]
                if target in form.fields:
                    form.initial[target] = [request.GET[key]] if target == "contacts" else request.GET[key]
        if object_type == ObjectType.CONTACT and request.GET.get("phone"):
            form.initial["phone"] = request.GET["phone"][:20]  # "Create contact" from an unknown caller's card
    if request.method == "POST" and form.is_valid():
        try:
            if record is None:
                record = create(request.tenant, request.actor, form.to_data())
                messages.success(request, f"The {TITLES[object_type]} is saved.")
                if object_type == ObjectType.CONTACT:
                    _warn_duplicates(request, record)
            else:
                record = update(request.tenant, request.actor, record, form.to_data())
                if _htmx(request):
                    record = model.objects.get(pk=record.pk)
                    return render(
                        request,
                        "crm/_fields.html",
                        {"fields": FIELDS[object_type](record, request), "record": record, "edit_url": request.path},
                    )
                messages.success(request, f"The {TITLES[object_type]} is saved.")
            return redirect(DETAIL_URL[object_type], record.pk)
        except ValidationError as exc:
            form.apply_errors(exc)
    context = {
        "form": form,
        "record": record,
        "title": f"Edit {record}" if record else f"New {TITLES[object_type]}",
        "cancel_url": reverse(DETAIL_URL[object_type], args=[record.pk]) if record else reverse(LIST_URL[object_type]),
        "action_url": request.path,
    }
    status = 422 if request.method == "POST" else 200
    if _htmx(request) and record is not None:
        return render(request, "crm/_form.html", {**context, "inline": True}, status=status)
    return render(request, "crm/form.html", context, status=status)


def _delete(request, object_type: str, record):
    _model, _update, delete = BULK[object_type]
    if request.method == "POST" and request.POST.get("confirmed") == "yes":
        delete(request.tenant, request.actor, record)
        messages.success(request, f"The {TITLES[object_type]} is deleted.")
        return redirect(LIST_URL[object_type])
    return render(
        request,
        "crm/confirm_delete.html",
        {
            "rows": [record],
            "ids": [str(record.pk)],
            "action_url": request.path,
            "back": reverse(DETAIL_URL[object_type], args=[record.pk]),
            "object_type": object_type,
        },
    )
