"""List pages of contacts, companies and deals: columns, filters, sorting, paging, bulk actions, saved views."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import connection, transaction
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import cached_property
from django.views.decorators.http import require_POST

from octopushx.core import phone_actions
from octopushx.crm import fields as rules
from octopushx.crm import list_actions, queries, services
from octopushx.crm.models import (
    Company,
    Contact,
    CustomField,
    Deal,
    LeadStatus,
    Lifecycle,
    ObjectType,
    SavedView,
    Stage,
    StageKind,
    Tag,
)
from octopushx.crm.views._shared import PAGE_SIZE, _back, _errors_text, _valid_ids
from octopushx.crm.visibility import visible
from octopushx.tenancy.models import Membership
from octopushx.tenancy.roles import Perm, has_perm
from octopushx.tenancy.views import requires

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
        ("last_activity_at", "Last activity", "last_activity_at"),
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


# The fields a list edits in place, per record type: column key -> (service field, URL name).
EDITABLE = {
    ObjectType.CONTACT: {
        "owner": ("owner_id", "crm:contact_owner_cell"),
        "lifecycle_stage": ("lifecycle_stage", "crm:contact_lifecycle_cell"),
    },
    ObjectType.COMPANY: {"owner": ("owner_id", "crm:company_owner_cell")},
    ObjectType.DEAL: {"owner": ("owner_id", "crm:deal_owner_cell")},
}


def cell_url(object_type: str, record_id, key: str) -> str | None:
    """Where a list cell is edited, or None when that column is not edited in place."""
    editable = EDITABLE[object_type].get(key)
    return reverse(editable[1], args=[record_id]) if editable else None


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
        return rules.display_money(obj.value, obj.currency)
    value = getattr(obj, key, "")
    if key in ("created_at", "last_activity_at"):
        return value.strftime("%d %b %Y") if value else ""
    if key == "expected_close":
        return value.strftime("%d %b %Y") if value else ""
    return "" if value is None else str(value)


def _phone_cell(request, obj, object_type: str) -> str:
    """The number with the actions other apps register for it (telephony's call button)."""
    if not getattr(obj, "phone", ""):
        return ""
    return phone_actions.render(request, obj.phone, obj.pk if object_type == ObjectType.CONTACT else None)


def _cell_view(key: str, label: str, text: str, edit_url: str | None = None) -> dict:
    """A cell as the list shows it; an email may wrap after its "@" (``parts``), never mid-word;
    ``edit_url`` when it is edited in place."""
    return {
        "edit_url": edit_url,
        "key": key,
        "css": key.replace(".", "-").replace("_", "-"),
        "label": label,
        "text": text,
        "parts": text.partition("@") if key == "email" else None,
    }


class ListPaginator(Paginator):
    """Pages over every match, with the total ``crm.queries.total`` gives: exact, or an estimate.

    When the total is an estimate, any page number may be asked for: a page reads one row more
    than it shows to know whether another follows, rather than trusting the estimate.
    """

    def __init__(self, object_list, per_page, *, searched: bool = False, counted=None):
        super().__init__(object_list, per_page)
        self.searched = searched
        self.counted = object_list if counted is None else counted  # the same rows, in the form that counts fastest

    @cached_property
    def total(self) -> queries.Total:
        return queries.total(self.counted, searched=self.searched)

    @cached_property
    def count(self) -> int:
        return self.total.count

    @property
    def estimated(self) -> bool:
        return self.total.estimated

    def validate_number(self, number) -> int:
        if not self.estimated:
            return super().validate_number(number)
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger("That page number is not an integer")
        if number < 1:
            raise EmptyPage("That page number is less than 1")
        return number

    def page(self, number) -> Page:
        if not self.estimated:
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        return MorePage(rows[: self.per_page], number, self, more=len(rows) > self.per_page)


class MorePage(Page):
    """A page that knows from its own extra row whether another follows."""

    def __init__(self, object_list, number, paginator, *, more: bool):
        super().__init__(object_list, number, paginator)
        self.more = more

    def has_next(self) -> bool:
        return self.more


def _pages_text(page) -> str:
    """ "40", or "about 20,000" when the total is an estimate."""
    paginator = page.paginator
    if not paginator.estimated:
        return f"{paginator.num_pages:,}"
    pages = max(paginator.num_pages, page.number + (1 if page.has_next() else 0))
    return f"about {queries.rounded(pages):,}"


def _chosen_columns(request, object_type: str, available: list[tuple]) -> list[str]:
    """The columns asked for in the address, else the ones this person chose last time (kept in
    the session), else the defaults. An empty choice (``?cols=``) goes back to the defaults."""
    key = f"crm.columns.{object_type}"
    known = {c[0] for c in available}
    if "cols" in request.GET:
        wanted = [c for c in request.GET.getlist("cols") if c in known]
        if wanted:
            request.session[key] = wanted
        else:
            request.session.pop(key, None)
        return wanted or DEFAULT_COLUMNS[object_type]
    kept = [c for c in request.session.get(key, []) if c in known]
    return kept or DEFAULT_COLUMNS[object_type]


CHOICES = {
    "lifecycle_stage": ("Lifecycle", dict(Lifecycle.choices)),
    "lead_status": ("Lead status", dict(LeadStatus.choices)),
    "status": ("Status", dict(StageKind.choices)),
}


def _readable(value: str) -> str:
    """An ISO date-time (a report's drill-down carries exact instants) as people read it."""
    from django.utils import timezone
    from django.utils.dateparse import parse_datetime

    try:
        moment = parse_datetime(value) if "T" in value else None
    except ValueError:
        moment = None
    if moment is None:
        return value
    return f"{timezone.localtime(moment) if timezone.is_aware(moment) else moment:%-d %b %Y %H:%M}"


def _chips(request, object_type: str, definitions: list, members: list[tuple[str, str]]) -> list[dict]:
    """The filters in force, each as a label and the address of the same list without it."""
    params = request.GET
    custom = {f"{queries.CUSTOM_PREFIX}{d.key}": d.label for d in definitions}
    names = {**{name: name.replace("_", " ").capitalize() for name in queries.FILTERS[object_type]}, **custom}
    chips = []

    def without(*keys: str) -> str:
        rest = params.copy()
        for key in (*keys, "page"):
            rest.pop(key, None)
        return f"?{rest.urlencode()}" if rest else "?"

    for key in params:
        value = str(params.get(key) or "").strip()
        if not value or key in ("cols", "ordering", "page", "value"):
            continue
        if key == "q":
            text = f"Search: {value}"
        elif key == "field":
            typed = str(params.get("value") or "").strip()
            if not typed or value not in names:
                continue
            chips.append({"text": f"{names[value]}: {typed}", "remove": without("field", "value")})
            continue
        elif key in CHOICES and key in queries.FILTERS[object_type]:
            label, choices = CHOICES[key]
            text = f"{label}: {choices.get(value, value)}"
        elif key == "owner_id":
            text = f"Owner: {dict(members).get(value, 'unknown')}"
        elif key == "stage_id":
            stage = Stage.objects.for_tenant(request.tenant).filter(pk__in=_valid_ids([value])).first()
            text = f"Stage: {stage.pipeline.name} · {stage.name}" if stage else "Stage: unknown"
        elif key == "company_id":
            company = Company.objects.for_tenant(request.tenant).filter(pk__in=_valid_ids([value])).first()
            text = f"Company: {company}" if company else "Company: unknown"
        elif key == "reached_stage_ids":
            ids = _valid_ids(value.split(","))
            stages = Stage.objects.for_tenant(request.tenant).filter(pk__in=ids).order_by("position")
            text = f"Reached: {', '.join(s.name for s in stages) or 'unknown stage'}"
        elif key in names:
            text = names[key] if key.endswith("_id") else f"{names[key]}: {_readable(value)}"
        else:
            continue
        chips.append({"text": text, "remove": without(key)})
    return chips


def _filter_errors(exc: ValidationError, object_type: str, definitions: list) -> str:
    """A refused filter named as the page names it ("Owner: not a valid id"), not by its parameter."""
    if not hasattr(exc, "error_dict"):
        return _errors_text(exc)
    custom = {f"{queries.CUSTOM_PREFIX}{d.key}": d.label for d in definitions}
    names = {"owner_id": "Owner", "stage_id": "Stage", "company_id": "Company", "q": "Search", **custom}
    return " ".join(
        f"{names.get(key, key.replace('_', ' ').capitalize())}: {message[:1].lower()}{message[1:]}"
        for key, messages in exc.message_dict.items()
        for message in messages
    )


def _listing(request, object_type: str, qs):
    tenant = request.tenant
    definitions = list(CustomField.objects.for_tenant(tenant).filter(object_type=object_type))
    available = COLUMNS[object_type] + [(f"cf.{d.key}", d.label, None) for d in definitions]
    wanted = _chosen_columns(request, object_type, available)
    columns = [c for c in available if c[0] in wanted]
    error = None
    params = request.GET.copy()
    extra_field, extra_value = params.get("field", ""), params.get("value", "")
    if extra_value and (extra_field in queries.FILTERS[object_type] or extra_field.startswith(queries.CUSTOM_PREFIX)):
        params[extra_field] = extra_value  # the "any field" filter row
    searched = bool(str(params.get("q") or "").strip())
    # Search results come newest first unless a column is chosen: in name order, the matches of a
    # common surname sit together far down the index, and a million-contact tenant read 240,000
    # names to reach them (870 ms; newest first, 70 ms).
    default_order = "-created_at" if searched else NAME_SORT[object_type]
    counted = None
    try:
        if searched and connection.vendor == "sqlite":  # PostgreSQL estimates a common word's total
            counted = queries.listing(object_type, qs, tenant, params, counting=True)
        qs = queries.listing(object_type, qs, tenant, params)
        field, descending = queries.ordering(object_type, request.GET.get("ordering"), default_order)
    except ValidationError as exc:
        error = f"Some filters were not applied: {_filter_errors(exc, object_type, definitions)}"
        qs, counted = queries.listing(object_type, qs.none(), tenant, {}), None
        field, descending = queries.ordering(object_type, None, NAME_SORT[object_type])
    then = queries.THEN.get(field, ())
    qs = qs.order_by(*(f"{'-' if descending else ''}{name}" for name in (field, *then)), "pk")
    custom_keys = {d.key for d in definitions}
    editing = has_perm(request.membership.role, Perm.WRITE)
    with queries.without_parallel_workers():
        page = ListPaginator(qs, PAGE_SIZE, searched=searched, counted=counted).get_page(request.GET.get("page"))
        rows = [
            {
                "obj": obj,
                "url": reverse(DETAIL_URL[object_type], args=[obj.pk]),
                "cells": [
                    _cell_view(
                        key,
                        label,
                        _phone_cell(request, obj, object_type) if key == "phone" else _cell(obj, key, custom_keys),
                        cell_url(object_type, obj.pk, key) if editing else None,
                    )
                    for key, label, _s in columns
                ],
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
    members = _members(tenant)
    chips = _chips(request, object_type, definitions, members)
    return {
        "object_type": object_type,
        "page": page,
        "rows": rows,
        "columns": columns,
        "available_columns": available,
        "selected_columns": [c[0] for c in columns],
        "name_sort": NAME_SORT[object_type],
        "ordering": current,
        "newest_first": searched and current == "-created_at" and not request.GET.get("ordering"),
        "error": error,
        "query": query.urlencode(),
        "sort_query": sort_query.urlencode(),
        "params": request.GET,
        "custom_filters": [d for d in definitions if d.field_type in ("select", "multi_select", "boolean")],
        "any_fields": [(name, name.replace("_", " ")) for name in queries.FILTERS[object_type]]
        + [(f"{queries.CUSTOM_PREFIX}{d.key}", d.label) for d in definitions],
        "members": members,
        "chips": chips,
        "filter_count": sum(1 for chip in chips if not chip["text"].startswith("Search: ")),
        "tags": Tag.objects.for_tenant(tenant).order_by("name"),
        "extra_actions": list_actions.offered(request, object_type),
        "saved_views": views,
        "list_url": reverse(LIST_URL[object_type]),
        "total": page.paginator.total.text,
        "pages": _pages_text(page),
    }


def _members(tenant):
    return [(str(m.user_id), str(m.user)) for m in Membership.objects.filter(tenant=tenant).select_related("user")]


BULK = {
    ObjectType.CONTACT: (Contact, services.update_contact, services.delete_contact),
    ObjectType.COMPANY: (Company, services.update_company, services.delete_company),
    ObjectType.DEAL: (Deal, services.update_deal, services.delete_deal),
}


def _bulk(request, object_type: str):
    model, update, delete = BULK[object_type]
    action = request.POST.get("action", "")
    ids = [i for i in request.POST.getlist("ids") if i]
    back = _back(request, reverse(LIST_URL[object_type]))
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
    extra = list_actions.get(action, object_type)
    if extra is not None:  # registered by a product above the CRM; it checks its own permissions
        return extra.handle(request, object_type, rows, back)
    if not has_perm(request.membership.role, Perm.WRITE):
        raise PermissionDenied("Your role cannot change records")
    try:
        with transaction.atomic():  # all the selected rows change, or none does
            _bulk_update(request, object_type, action, rows, update)
    except ValidationError as exc:
        messages.error(request, _errors_text(exc))
        return redirect(back)
    messages.success(request, f"Updated {len(rows)}.")
    return redirect(back)


def _bulk_update(request, object_type: str, action: str, rows: list, update) -> None:
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
