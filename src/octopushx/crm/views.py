"""OctoCRM pages: lists (search, filters, sorting, columns, saved views, bulk actions), detail
pages with the activity timeline and inline edit, forms, the pipeline board, my tasks, search."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from octopushx.crm import fields as rules
from octopushx.crm import queries, services, timeline
from octopushx.crm.forms import CompanyForm, ContactForm, CustomFieldForm, DealForm, PipelineForm, TaskForm
from octopushx.crm.models import (
    Company,
    Contact,
    CustomField,
    Deal,
    Export,
    LeadStatus,
    Lifecycle,
    Note,
    ObjectType,
    Pipeline,
    SavedView,
    Stage,
    StageKind,
    Tag,
    Task,
    TaskStatus,
    Visibility,
)
from octopushx.crm.visibility import crm_settings, get_visible, visible
from octopushx.tenancy.roles import Perm, has_perm
from octopushx.tenancy.views import requires

PAGE_SIZE = 50


def _errors_text(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return " ".join(f"{k}: {m}" if k != "__all__" else m for k, msgs in exc.message_dict.items() for m in msgs)
    return " ".join(exc.messages)


def _htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


# --- lists -------------------------------------------------------------------------

COLUMNS = {
    ObjectType.CONTACT: [
        ("email", "Email", "email"),
        ("phone", "Phone", None),
        ("company", "Company", None),
        ("job_title", "Job title", None),
        ("owner", "Owner", None),
        ("lifecycle_stage", "Lifecycle", None),
        ("lead_status", "Lead status", None),
        ("city", "City", None),
        ("created_at", "Created", "created_at"),
    ],
    ObjectType.COMPANY: [
        ("domain", "Domain", "domain"),
        ("industry", "Industry", None),
        ("size", "Size", None),
        ("city", "City", None),
        ("owner", "Owner", None),
        ("created_at", "Created", "created_at"),
    ],
    ObjectType.DEAL: [
        ("value", "Value", "value"),
        ("stage", "Stage", None),
        ("company", "Company", None),
        ("owner", "Owner", None),
        ("expected_close", "Expected close", None),
        ("created_at", "Created", "created_at"),
    ],
}
DEFAULT_COLUMNS = {
    ObjectType.CONTACT: ["email", "phone", "company", "owner", "lifecycle_stage"],
    ObjectType.COMPANY: ["domain", "industry", "city", "owner"],
    ObjectType.DEAL: ["value", "stage", "company", "owner", "expected_close"],
}
NAME_SORT = {ObjectType.CONTACT: "last_name", ObjectType.COMPANY: "name", ObjectType.DEAL: "name"}
LIST_URL = {ObjectType.CONTACT: "crm:contacts", ObjectType.COMPANY: "crm:companies", ObjectType.DEAL: "crm:deals"}
DETAIL_URL = {ObjectType.CONTACT: "crm:contact", ObjectType.COMPANY: "crm:company", ObjectType.DEAL: "crm:deal"}


def _cell(obj, key: str, custom_keys: set[str]) -> str:
    if key.startswith("cf."):
        value = obj.custom.get(key[3:], "")
        return (
            ", ".join(value)
            if isinstance(value, list)
            else ("Yes" if value is True else "No" if value is False else str(value))
        )
    if key == "phone":
        return rules.display_phone(obj.phone) if obj.phone else ""
    if key in ("company", "owner", "stage"):
        related = getattr(obj, key)
        return str(related) if related else ""
    if key in ("lifecycle_stage", "lead_status", "size"):
        display = getattr(obj, f"get_{key}_display", None)
        return display() if display else getattr(obj, key)
    if key == "value":
        return f"{obj.value:,.2f} {obj.currency}"
    value = getattr(obj, key, "")
    if key in ("created_at",):
        return value.strftime("%d %b %Y") if value else ""
    if key == "expected_close":
        return value.strftime("%d %b %Y") if value else ""
    return "" if value is None else str(value)


def _listing(request, object_type: str, qs):
    tenant = request.tenant
    definitions = list(CustomField.objects.for_tenant(tenant).filter(object_type=object_type))
    available = COLUMNS[object_type] + [(f"cf.{d.key}", d.label, None) for d in definitions]
    wanted = [c for c in request.GET.getlist("cols") if c] or DEFAULT_COLUMNS[object_type]
    columns = [c for c in available if c[0] in wanted]
    error = None
    params = request.GET.copy()
    extra_field, extra_value = params.get("field", ""), params.get("value", "")
    if extra_value and (extra_field in queries.FILTERS[object_type] or extra_field.startswith(queries.CUSTOM_PREFIX)):
        params[extra_field] = extra_value  # the "any field" filter row
    try:
        qs = queries.listing(object_type, qs, tenant, params)
        field, descending = queries.ordering(object_type, request.GET.get("ordering"), NAME_SORT[object_type])
    except ValidationError as exc:
        error = f"Some filters were not applied: {_errors_text(exc)}"
        qs = queries.listing(object_type, qs.none(), tenant, {})
        field, descending = queries.ordering(object_type, None, NAME_SORT[object_type])
    qs = qs.order_by(f"{'-' if descending else ''}{field}", "pk")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    custom_keys = {d.key for d in definitions}
    rows = [
        {
            "obj": obj,
            "url": reverse(DETAIL_URL[object_type], args=[obj.pk]),
            "cells": [_cell(obj, key, custom_keys) for key, _l, _s in columns],
        }
        for obj in page
    ]
    query = request.GET.copy()
    query.pop("page", None)
    sort_query = query.copy()
    sort_query.pop("ordering", None)
    current = f"{'-' if descending else ''}{field}"
    views = (
        SavedView.objects.for_tenant(tenant)
        .filter(object_type=object_type)
        .filter(Q(owner=request.user) | Q(shared=True))
    )
    return {
        "object_type": object_type,
        "page": page,
        "rows": rows,
        "columns": columns,
        "available_columns": available,
        "selected_columns": [c[0] for c in columns],
        "name_sort": NAME_SORT[object_type],
        "ordering": current,
        "error": error,
        "query": query.urlencode(),
        "sort_query": sort_query.urlencode(),
        "params": request.GET,
        "custom_filters": [d for d in definitions if d.field_type in ("select", "multi_select", "boolean")],
        "any_fields": [(name, name.replace("_", " ")) for name in queries.FILTERS[object_type]]
        + [(f"{queries.CUSTOM_PREFIX}{d.key}", d.label) for d in definitions],
        "members": _members(tenant),
        "tags": Tag.objects.for_tenant(tenant).order_by("name"),
        "saved_views": views,
        "list_url": reverse(LIST_URL[object_type]),
        "total": page.paginator.count,
    }


def _members(tenant):
    from octopushx.tenancy.models import Membership

    return [(str(m.user_id), str(m.user)) for m in Membership.objects.filter(tenant=tenant).select_related("user")]


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
def company_list(request):
    qs = visible(Company, request.tenant, request.membership).select_related("owner")
    context = _listing(request, ObjectType.COMPANY, qs)
    context.update(title="Companies", new_url=reverse("crm:company_new"), bulk_url=reverse("crm:companies_bulk"))
    return render(request, "crm/list.html", context)


@requires(Perm.READ)
def deal_list(request):
    qs = visible(Deal, request.tenant, request.membership).select_related("stage", "company", "owner")
    context = _listing(request, ObjectType.DEAL, qs)
    stages = (
        Stage.objects.for_tenant(request.tenant).select_related("pipeline").order_by("pipeline__position", "position")
    )
    context.update(
        title="Deals",
        new_url=reverse("crm:deal_new"),
        bulk_url=reverse("crm:deals_bulk"),
        stages=stages,
        statuses=StageKind.choices,
    )
    return render(request, "crm/list.html", context)


# --- bulk actions ------------------------------------------------------------------

BULK = {
    ObjectType.CONTACT: (Contact, services.update_contact, services.delete_contact),
    ObjectType.COMPANY: (Company, services.update_company, services.delete_company),
    ObjectType.DEAL: (Deal, services.update_deal, services.delete_deal),
}


def _bulk(request, object_type: str):
    model, update, delete = BULK[object_type]
    action = request.POST.get("action", "")
    ids = [i for i in request.POST.getlist("ids") if i]
    back = request.POST.get("next") or reverse(LIST_URL[object_type])
    if not back.startswith("/"):
        back = reverse(LIST_URL[object_type])
    if not ids:
        messages.error(request, "Select at least one row first.")
        return redirect(back)
    rows = list(visible(model, request.tenant, request.membership).filter(pk__in=_valid_ids(ids)))
    if len(rows) != len(set(ids)):
        raise Http404("Some of the selected rows do not exist")
    if action == "delete":
        if not has_perm(request.membership.role, Perm.DELETE):
            raise PermissionDenied("Your role cannot delete")
        if request.POST.get("confirmed") != "yes":
            return render(
                request,
                "crm/confirm_delete.html",
                {"rows": rows, "ids": ids, "action_url": request.path, "back": back, "object_type": object_type},
            )
        for row in rows:
            delete(request.tenant, request.actor, row)
        messages.success(request, f"Deleted {len(rows)}.")
        return redirect(back)
    if action == "export":
        from octopushx.crm import exports

        export = exports.start(
            request.tenant,
            request.actor,
            object_type,
            ids=[str(r.pk) for r in rows],
            fmt=request.POST.get("format", "csv"),
            membership=request.membership,
        )
        messages.success(request, "Your export is being prepared.")
        return redirect("crm:export", export_id=export.pk)
    if not has_perm(request.membership.role, Perm.WRITE):
        raise PermissionDenied("Your role cannot change records")
    try:
        for row in rows:
            if action == "assign_owner":
                update(request.tenant, request.actor, row, {"owner_id": request.POST.get("owner_id") or None})
            elif action in ("add_tag", "remove_tag"):
                names = [t.strip() for t in request.POST.get("tag", "").split(",") if t.strip()]
                if not names:
                    raise ValidationError({"tag": ["Name the tag"]})
                current = [t.name for t in row.tags.all()]
                if action == "add_tag":
                    wanted = current + [n for n in names if n.lower() not in {c.lower() for c in current}]
                else:
                    wanted = [c for c in current if c.lower() not in {n.lower() for n in names}]
                update(request.tenant, request.actor, row, {"tags": wanted})
            elif action == "change_stage" and object_type == ObjectType.DEAL:
                stage = (
                    Stage.objects.for_tenant(request.tenant)
                    .filter(pk__in=_valid_ids([request.POST.get("stage_id")]))
                    .first()
                )
                if stage is None:
                    raise ValidationError({"stage_id": ["Choose a stage"]})
                update(
                    request.tenant,
                    request.actor,
                    row,
                    {"pipeline_id": str(stage.pipeline_id), "stage_id": str(stage.pk)},
                )
            else:
                raise ValidationError({"action": ["Choose an action"]})
    except ValidationError as exc:
        messages.error(request, _errors_text(exc))
        return redirect(back)
    messages.success(request, f"Updated {len(rows)}.")
    return redirect(back)


def _valid_ids(ids) -> list:
    import uuid

    valid = []
    for value in ids:
        try:
            valid.append(uuid.UUID(str(value)))
        except (ValueError, TypeError):
            raise Http404("Not a valid id")
    return valid


@requires(Perm.READ)
@require_POST
def contacts_bulk(request):
    return _bulk(request, ObjectType.CONTACT)


@requires(Perm.READ)
@require_POST
def companies_bulk(request):
    return _bulk(request, ObjectType.COMPANY)


@requires(Perm.READ)
@require_POST
def deals_bulk(request):
    return _bulk(request, ObjectType.DEAL)


# --- detail pages ------------------------------------------------------------------


def _timeline_context(request, record) -> dict:
    kind = request.GET.get("kind", "")
    if kind not in timeline.KINDS:
        kind = ""
    return {"timeline": timeline.build(record, kind or None), "kinds": timeline.KINDS, "kind": kind}


def _custom_values(record, object_type: str) -> list[tuple[str, str]]:
    values = []
    for definition in CustomField.objects.for_tenant(record.tenant).filter(object_type=object_type):
        if definition.key in record.custom:
            values.append((definition.label, _cell(record, f"cf.{definition.key}", set())))
    return values


def contact_fields(contact: Contact) -> list[tuple[str, str]]:
    return [
        ("Emails", ", ".join(e.email for e in contact.emails.all())),
        ("Phones", ", ".join(rules.display_phone(p.number) for p in contact.phones.all())),
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


def company_fields(company: Company) -> list[tuple[str, str]]:
    return [
        ("Domain", company.domain),
        ("Industry", company.industry),
        ("Size", company.size),
        ("Phone", rules.display_phone(company.phone) if company.phone else ""),
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


def deal_fields(deal: Deal) -> list[tuple[str, str]]:
    return [
        ("Value", f"{deal.value:,.2f} {deal.currency}"),
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
        "fields": FIELDS[object_type](record),
        "related": related,
        "edit_url": reverse(f"crm:{object_type}_edit", args=[record.pk]),
        "delete_url": reverse(f"crm:{object_type}_delete", args=[record.pk]),
        "note_url": reverse("crm:note_new") + f"?{object_type}_id={record.pk}",
        "task_url": reverse("crm:task_new") + f"?{object_type}_id={record.pk}",
        "task_form": TaskForm(tenant=request.tenant),
        **_timeline_context(request, record),
        **(extra or {}),
    }
    if _htmx(request) and request.GET.get("kind") is not None:
        return render(request, "crm/_timeline.html", context)
    return render(request, "crm/detail.html", context)


@requires(Perm.READ)
def contact_detail(request, contact_id):
    contact = get_visible(Contact, request.tenant, request.membership, contact_id)
    deals = visible(Deal, request.tenant, request.membership).filter(contacts=contact).select_related("stage")
    related = [
        {
            "title": "Deals",
            "rows": [
                (d.name, reverse("crm:deal", args=[d.pk]), f"{d.stage} · {d.value:,.2f} {d.currency}") for d in deals
            ],
        }
    ]
    if contact.company_id:
        related.insert(
            0,
            {
                "title": "Company",
                "rows": [
                    (str(contact.company), reverse("crm:company", args=[contact.company_id]), contact.company.domain)
                ],
            },
        )
    return _detail(
        request, ObjectType.CONTACT, contact, related, {"json_url": reverse("crm:contact_json", args=[contact.pk])}
    )


@requires(Perm.READ)
def company_detail(request, company_id):
    company = get_visible(Company, request.tenant, request.membership, company_id)
    contacts = visible(Contact, request.tenant, request.membership).filter(company=company).order_by("last_name")[:100]
    deals = visible(Deal, request.tenant, request.membership).filter(company=company).select_related("stage")[:100]
    related = [
        {
            "title": "Contacts",
            "rows": [(c.full_name, reverse("crm:contact", args=[c.pk]), c.job_title) for c in contacts],
        },
        {
            "title": "Deals",
            "rows": [
                (d.name, reverse("crm:deal", args=[d.pk]), f"{d.stage} · {d.value:,.2f} {d.currency}") for d in deals
            ],
        },
    ]
    return _detail(request, ObjectType.COMPANY, company, related)


@requires(Perm.READ)
def deal_detail(request, deal_id):
    deal = get_visible(Deal, request.tenant, request.membership, deal_id)
    contacts = deal.contacts.all()
    related = [
        {"title": "Contacts", "rows": [(c.full_name, reverse("crm:contact", args=[c.pk]), c.email) for c in contacts]}
    ]
    if deal.company_id:
        related.insert(
            0, {"title": "Company", "rows": [(str(deal.company), reverse("crm:company", args=[deal.company_id]), "")]}
        )
    stages = deal.pipeline.stages.all()
    return _detail(request, ObjectType.DEAL, deal, related, {"stages": stages})


@requires(Perm.READ)
def contact_json(request, contact_id):
    """The full record of a contact with its timeline, as JSON (download)."""
    from octopushx.crm import exports

    contact = get_visible(Contact, request.tenant, request.membership, contact_id)
    if not has_perm(request.membership.role, Perm.EXPORT):
        raise PermissionDenied("Your role cannot export data")
    data = exports.contact_record(request.tenant, request.actor, contact)
    response = JsonResponse(data, json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="contact-{contact.pk}.json"'
    return response


# --- create and edit ---------------------------------------------------------------

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
                        {"fields": FIELDS[object_type](record), "record": record, "edit_url": request.path},
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


@requires(Perm.WRITE)
def contact_new(request):
    return _form_view(request, ObjectType.CONTACT)


@requires(Perm.WRITE)
def contact_edit(request, contact_id):
    return _form_view(request, ObjectType.CONTACT, get_visible(Contact, request.tenant, request.membership, contact_id))


@requires(Perm.WRITE)
def company_new(request):
    return _form_view(request, ObjectType.COMPANY)


@requires(Perm.WRITE)
def company_edit(request, company_id):
    return _form_view(request, ObjectType.COMPANY, get_visible(Company, request.tenant, request.membership, company_id))


@requires(Perm.WRITE)
def deal_new(request):
    services.default_pipeline(request.tenant)
    return _form_view(request, ObjectType.DEAL)


@requires(Perm.WRITE)
def deal_edit(request, deal_id):
    return _form_view(request, ObjectType.DEAL, get_visible(Deal, request.tenant, request.membership, deal_id))


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


@requires(Perm.DELETE)
def contact_delete(request, contact_id):
    return _delete(request, ObjectType.CONTACT, get_visible(Contact, request.tenant, request.membership, contact_id))


@requires(Perm.DELETE)
def company_delete(request, company_id):
    return _delete(request, ObjectType.COMPANY, get_visible(Company, request.tenant, request.membership, company_id))


@requires(Perm.DELETE)
def deal_delete(request, deal_id):
    return _delete(request, ObjectType.DEAL, get_visible(Deal, request.tenant, request.membership, deal_id))


# --- pipeline board ----------------------------------------------------------------


def _stage_totals(tenant, membership, pipeline) -> dict[str, dict]:
    rows = (
        visible(Deal, tenant, membership)
        .filter(pipeline=pipeline)
        .values("stage_id")
        .annotate(count=Count("id"), total=Sum("value"))
    )
    totals = {str(s.pk): {"count": 0, "total": "0.00"} for s in pipeline.stages.all()}
    for row in rows:
        totals[str(row["stage_id"])] = {"count": row["count"], "total": f"{row['total'] or Decimal(0):,.2f}"}
    return totals


def _board(request, pipeline):
    deals = (
        visible(Deal, request.tenant, request.membership)
        .filter(pipeline=pipeline)
        .select_related("company", "owner")
        .order_by("-updated_at")
    )
    by_stage: dict = {}
    for deal in deals[:2000]:
        by_stage.setdefault(deal.stage_id, []).append(deal)
    totals = _stage_totals(request.tenant, request.membership, pipeline)
    columns = [{"stage": s, "deals": by_stage.get(s.pk, []), **totals[str(s.pk)]} for s in pipeline.stages.all()]
    return render(
        request,
        "crm/board.html",
        {
            "pipeline": pipeline,
            "columns": columns,
            "pipelines": Pipeline.objects.for_tenant(request.tenant),
            "currency": crm_settings(request.tenant).default_currency,
            "can_write": has_perm(request.membership.role, Perm.WRITE),
        },
    )


@requires(Perm.READ)
def board(request):
    return _board(request, services.default_pipeline(request.tenant))


@requires(Perm.READ)
def pipeline_board(request, pipeline_id):
    return _board(request, Pipeline.objects.get_for_tenant(request.tenant, pipeline_id))


@requires(Perm.WRITE)
@require_POST
def deal_move(request, deal_id):
    """Drag and drop on the board (JSON for the script, a redirect for the plain form)."""
    deal = get_visible(Deal, request.tenant, request.membership, deal_id)
    try:
        services.move_deal(request.tenant, request.actor, deal, request.POST.get("stage_id"))
    except ValidationError as exc:
        if request.headers.get("Accept", "").startswith("application/json"):
            return JsonResponse({"detail": "The deal was not moved", "errors": exc.message_dict}, status=422)
        messages.error(request, _errors_text(exc))
        return redirect("crm:pipeline_board", pipeline_id=deal.pipeline_id)
    if request.headers.get("Accept", "").startswith("application/json"):
        deal.refresh_from_db()
        return JsonResponse(
            {
                "deal_id": str(deal.pk),
                "stage_id": str(deal.stage_id),
                "status": deal.status,
                "totals": _stage_totals(request.tenant, request.membership, deal.pipeline),
            }
        )
    return redirect(
        request.POST.get("next")
        if str(request.POST.get("next", "")).startswith("/")
        else reverse("crm:pipeline_board", args=[deal.pipeline_id])
    )


# --- tasks and notes ---------------------------------------------------------------


@requires(Perm.READ)
def task_list(request):
    show = request.GET.get("show", "open")
    whose = request.GET.get("whose", "mine")
    qs = visible(Task, request.tenant, request.membership).select_related("assignee", "contact", "company", "deal")
    if whose == "mine":
        qs = qs.filter(assignee=request.user)
    if show in TaskStatus.values:
        qs = qs.filter(status=show)
    qs = qs.order_by("due_at", "created_at") if show == TaskStatus.OPEN else qs.order_by("-updated_at")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    return render(
        request,
        "crm/tasks.html",
        {
            "page": page,
            "show": show,
            "whose": whose,
            "now": now,
            "statuses": TaskStatus.choices,
            "form": TaskForm(tenant=request.tenant),
            "overdue": sum(1 for t in page if t.status == TaskStatus.OPEN and t.due_at and t.due_at < now),
        },
    )


def _related_from(request, source) -> dict:
    return {
        f"{name}_id": source.get(f"{name}_id") for name in ("contact", "company", "deal") if source.get(f"{name}_id")
    }


def _back(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    return target if target.startswith("/") and not target.startswith("//") else default


@requires(Perm.WRITE)
def task_new(request):
    form = TaskForm(request.POST or None, tenant=request.tenant)
    related = _related_from(request, request.POST or request.GET)
    if request.method == "POST" and form.is_valid():
        try:
            services.create_task(request.tenant, request.actor, {**form.to_data(), **related})
            messages.success(request, "Task added.")
            return redirect(_back(request, reverse("crm:tasks")))
        except ValidationError as exc:
            form.apply_errors(exc)
    return render(
        request,
        "crm/form.html",
        {
            "form": form,
            "title": "New task",
            "cancel_url": _back(request, reverse("crm:tasks")),
            "action_url": request.get_full_path(),
            "hidden": related,
            "next": _back(request, ""),
        },
        status=422 if request.method == "POST" else 200,
    )


@requires(Perm.WRITE)
@require_POST
def task_complete(request, task_id):
    task = get_visible(Task, request.tenant, request.membership, task_id)
    services.complete_task(request.tenant, request.actor, task)
    messages.success(request, f"Done: {task.title}")
    return redirect(_back(request, reverse("crm:tasks")))


@requires(Perm.WRITE)
@require_POST
def task_delete(request, task_id):
    task = get_visible(Task, request.tenant, request.membership, task_id)
    services.delete_task(request.tenant, request.actor, task)
    messages.success(request, "Task deleted.")
    return redirect(_back(request, reverse("crm:tasks")))


@requires(Perm.WRITE)
@require_POST
def note_new(request):
    related = _related_from(request, request.POST)
    data = {
        "body": request.POST.get("body", ""),
        "kind": request.POST.get("kind") or "note",
        "subject": request.POST.get("subject", ""),
        **related,
    }
    try:
        services.create_note(request.tenant, request.actor, data)
        messages.success(request, "Note added.")
    except ValidationError as exc:
        messages.error(request, _errors_text(exc))
    return redirect(_back(request, reverse("crm:contacts")))


@requires(Perm.WRITE)
@require_POST
def note_delete(request, note_id):
    note = get_visible(Note, request.tenant, request.membership, note_id)
    if note.author_id != request.user.pk and not has_perm(request.membership.role, Perm.DELETE):
        raise PermissionDenied("Only the author or a manager deletes a note")
    services.delete_note(request.tenant, request.actor, note)
    messages.success(request, "Note deleted.")
    return redirect(_back(request, reverse("crm:contacts")))


# --- search, saved views, settings -------------------------------------------------


@requires(Perm.READ)
def search_page(request):
    from octopushx.crm import search

    q = request.GET.get("q", "").strip()
    hits = search.search(request.tenant, request.membership, q, limit=20) if q else []
    if _htmx(request):
        return render(request, "crm/_search_results.html", {"hits": hits, "q": q})
    return render(request, "crm/search.html", {"hits": hits, "q": q})


@requires(Perm.READ)
@require_POST
def view_save(request):
    object_type = request.POST.get("object_type", "")
    try:
        services.save_view(
            request.tenant,
            request.actor,
            object_type=object_type,
            name=request.POST.get("name", ""),
            query=request.POST.get("query", ""),
            shared=request.POST.get("shared") == "on" and has_perm(request.membership.role, Perm.DELETE),
        )
        messages.success(request, "View saved.")
    except ValidationError as exc:
        messages.error(request, _errors_text(exc))
    return redirect(LIST_URL.get(object_type, "crm:contacts"))


@requires(Perm.READ)
@require_POST
def view_delete(request, view_id):
    view = SavedView.objects.get_for_tenant(request.tenant, view_id)
    if view.owner_id != request.user.pk and not (view.shared and has_perm(request.membership.role, Perm.ADMIN)):
        raise Http404("No saved view with that id")
    services.delete_view(request.tenant, request.actor, view)
    messages.success(request, "View deleted.")
    return redirect(LIST_URL.get(view.object_type, "crm:contacts"))


@requires(Perm.READ)
def settings_page(request):
    is_admin = has_perm(request.membership.role, Perm.ADMIN)
    field_form = CustomFieldForm(prefix="field")
    pipeline_form = PipelineForm(prefix="pipeline")
    status = 200
    if request.method == "POST":
        if not is_admin:
            raise PermissionDenied("Only admins change CRM settings")
        form_name = request.POST.get("form")
        try:
            if form_name == "visibility":
                services.update_settings(
                    request.tenant,
                    request.actor,
                    agent_visibility=request.POST.get("agent_visibility", ""),
                    default_currency=request.POST.get("default_currency", ""),
                )
                messages.success(request, "CRM settings saved.")
                return redirect("crm:settings")
            if form_name == "field":
                field_form = CustomFieldForm(request.POST, prefix="field")
                if field_form.is_valid():
                    try:
                        services.create_custom_field(request.tenant, request.actor, field_form.cleaned_data)
                        messages.success(request, "Custom field added.")
                        return redirect("crm:settings")
                    except ValidationError as exc:
                        field_form.apply_errors(exc)
                status = 422
            if form_name == "pipeline":
                pipeline_form = PipelineForm(request.POST, prefix="pipeline")
                if pipeline_form.is_valid():
                    try:
                        services.create_pipeline(request.tenant, request.actor, pipeline_form.to_data())
                        messages.success(request, "Pipeline added.")
                        return redirect("crm:settings")
                    except ValidationError as exc:
                        pipeline_form.apply_errors(exc)
                status = 422
        except ValidationError as exc:
            messages.error(request, _errors_text(exc))
            status = 422
    services.default_pipeline(request.tenant)
    return render(
        request,
        "crm/settings.html",
        {
            "settings": crm_settings(request.tenant),
            "visibilities": Visibility.choices,
            "is_admin": is_admin,
            "custom_fields": CustomField.objects.for_tenant(request.tenant),
            "pipelines": Pipeline.objects.for_tenant(request.tenant).prefetch_related("stages"),
            "field_form": field_form,
            "pipeline_form": pipeline_form,
        },
        status=status,
    )


@requires(Perm.ADMIN)
@require_POST
def custom_field_delete(request, custom_field_id):
    field = CustomField.objects.get_for_tenant(request.tenant, custom_field_id)
    services.delete_custom_field(request.tenant, request.actor, field)
    messages.success(request, f"Custom field {field.label} removed.")
    return redirect("crm:settings")


@requires(Perm.ADMIN)
@require_POST
def pipeline_delete(request, pipeline_id):
    pipeline = Pipeline.objects.get_for_tenant(request.tenant, pipeline_id)
    try:
        services.delete_pipeline(request.tenant, request.actor, pipeline)
        messages.success(request, f"Pipeline {pipeline.name} deleted.")
    except ValidationError as exc:
        messages.error(request, _errors_text(exc))
    return redirect("crm:settings")


# --- exports -----------------------------------------------------------------------


@requires(Perm.EXPORT)
def export_list(request):
    """Export the list the user is looking at (its filters), then follow the export's page."""
    from octopushx.crm import exports

    if request.method == "POST":
        object_type = request.POST.get("object_type", "")
        filters = {k: v for k, v in request.POST.items() if k not in ("csrfmiddlewaretoken", "object_type", "format")}
        try:
            export = exports.start(
                request.tenant,
                request.actor,
                object_type,
                filters=filters,
                fmt=request.POST.get("format", "csv"),
                membership=request.membership,
            )
        except ValidationError as exc:
            messages.error(request, _errors_text(exc))
            return redirect(LIST_URL.get(object_type, "crm:contacts"))
        return redirect("crm:export", export_id=export.pk)
    recent = Export.objects.for_tenant(request.tenant).filter(created_by=request.user)[:20]
    return render(request, "crm/exports.html", {"exports": recent})


def _own_export(request, export_id) -> Export:
    export = Export.objects.get_for_tenant(request.tenant, export_id)
    if export.created_by_id != request.user.pk and not has_perm(request.membership.role, Perm.ADMIN):
        raise Http404("No export with that id")
    return export


@requires(Perm.EXPORT)
def export_detail(request, export_id):
    export = _own_export(request, export_id)
    template = "crm/_export_status.html" if _htmx(request) else "crm/export.html"
    return render(request, template, {"export": export})


@requires(Perm.EXPORT)
def export_download(request, export_id):
    from django.http import StreamingHttpResponse

    from octopushx.core import blobs

    export = _own_export(request, export_id)
    if export.file is None:
        raise Http404("The export is not ready")
    response = StreamingHttpResponse(blobs.read(export.file), content_type=export.file.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.file.filename}"'
    return response


# --- imports -----------------------------------------------------------------------


def _own_import(request, import_id):
    from octopushx.crm.models import Import

    record = Import.objects.get_for_tenant(request.tenant, import_id)
    if record.created_by_id != request.user.pk and not has_perm(request.membership.role, Perm.ADMIN):
        raise Http404("No import with that id")
    return record


@requires(Perm.WRITE)
def import_list(request):
    """Upload a file; the next page shows the column mapping and a preview."""
    from octopushx.crm import imports
    from octopushx.crm.models import Import

    errors: dict = {}
    status = 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            record = imports.create(
                request.tenant,
                request.actor,
                file=upload,
                filename=getattr(upload, "name", ""),
                match_on=request.POST.get("match_on", "email"),
                on_match=request.POST.get("on_match", "update"),
                start=False,
            )
            return redirect("crm:import", import_id=record.pk)
        except ValidationError as exc:
            errors = exc.message_dict
            status = 422
    recent = Import.objects.for_tenant(request.tenant)
    if not has_perm(request.membership.role, Perm.ADMIN):
        recent = recent.filter(created_by=request.user)
    return render(
        request,
        "crm/imports.html",
        {
            "imports": recent[:20],
            "errors": errors,
            "match_keys": imports.MATCH_KEYS,
            "max_mb": imports.MAX_BYTES // (1024 * 1024),
        },
        status=status,
    )


@requires(Perm.WRITE)
def import_detail(request, import_id):
    from octopushx.crm import imports

    record = _own_import(request, import_id)
    errors: dict = {}
    status = 200
    if request.method == "POST" and record.status == "pending":
        mapping = {header: request.POST.get(f"map-{index}", "") for index, header in enumerate(record.headers)}
        try:
            imports.start(
                request.tenant,
                request.actor,
                record,
                mapping=mapping,
                match_on=request.POST.get("match_on", record.match_on),
                on_match=request.POST.get("on_match", record.on_match),
            )
            return redirect("crm:import", import_id=record.pk)
        except ValidationError as exc:
            errors = exc.message_dict
            record.mapping = mapping
            status = 422
    if _htmx(request):
        return render(
            request, "crm/_import_status.html", {"record": record, "progress": int(imports.progress(record) * 100)}
        )
    targets = list(imports.TARGETS.items()) + [
        (f"cf.{d.key}", f"Custom: {d.label}") for d in services.custom_definitions(request.tenant, "contact").values()
    ]
    rows = imports.preview(record) if record.headers else []
    columns = [{"index": i, "header": h, "target": record.mapping.get(h, "")} for i, h in enumerate(record.headers)]
    return render(
        request,
        "crm/import.html",
        {
            "record": record,
            "columns": columns,
            "targets": targets,
            "preview": rows,
            "errors": errors,
            "match_keys": imports.MATCH_KEYS,
            "progress": int(imports.progress(record) * 100),
        },
        status=status,
    )


@requires(Perm.WRITE)
def import_errors(request, import_id):
    from django.http import StreamingHttpResponse

    from octopushx.core import blobs

    record = _own_import(request, import_id)
    if record.error_report is None:
        raise Http404("This import has no rejected rows")
    response = StreamingHttpResponse(blobs.read(record.error_report), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{record.error_report.filename}"'
    return response


# --- duplicates --------------------------------------------------------------------

MERGES_SESSION_KEY = "crm_merges"


def _warn_duplicates(request, contact) -> None:
    from octopushx.crm import dedupe

    found = dedupe.candidates(contact, visible(Contact, request.tenant, request.membership))
    if found:
        names = ", ".join(f"{other} ({reason})" for other, reason in found[:3])
        messages.warning(request, f"Possible duplicate of {names}. Review it under Duplicates.")


@requires(Perm.DELETE)
def duplicates(request):
    from octopushx.crm import dedupe
    from octopushx.crm.models import Merge

    pairs = dedupe.find(request.tenant, request.membership)
    undoable = (
        Merge.objects.for_tenant(request.tenant)
        .filter(pk__in=request.session.get(MERGES_SESSION_KEY, []), undone_at__isnull=True)
        .select_related("kept")
    )
    return render(request, "crm/duplicates.html", {"pairs": pairs, "undoable": undoable})


@requires(Perm.DELETE)
@require_POST
def merge(request):
    from octopushx.crm import dedupe

    keep = get_visible(Contact, request.tenant, request.membership, request.POST.get("keep_id"))
    remove = get_visible(Contact, request.tenant, request.membership, request.POST.get("remove_id"))
    try:
        record = dedupe.merge(request.tenant, request.actor, keep, remove)
    except ValidationError as exc:
        messages.error(request, _errors_text(exc))
        return redirect("crm:duplicates")
    request.session[MERGES_SESSION_KEY] = [*request.session.get(MERGES_SESSION_KEY, [])[-19:], str(record.pk)]
    messages.success(request, f"Merged into {keep}. You can undo this from the Duplicates page during this session.")
    return redirect(_back(request, reverse("crm:contact", args=[keep.pk])))


@requires(Perm.DELETE)
@require_POST
def merge_undo(request, merge_id):
    from octopushx.crm import dedupe
    from octopushx.crm.models import Merge

    record = Merge.objects.get_for_tenant(request.tenant, merge_id)
    if str(record.pk) not in request.session.get(MERGES_SESSION_KEY, []):
        raise Http404("Only merges made in this session can be undone here")
    try:
        restored = dedupe.undo(request.tenant, request.actor, record)
    except ValidationError as exc:
        messages.error(request, _errors_text(exc))
        return redirect("crm:duplicates")
    messages.success(request, f"Merge undone: {restored} is back.")
    return redirect("crm:contact", contact_id=restored.pk)
