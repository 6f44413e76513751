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

from octopushx.crm import fields as rules
from octopushx.crm import queries, services
from octopushx.crm.models import Company, Contact, CustomField, Deal, ObjectType, SavedView, Stage, Tag
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
        error = f"Some filters were not applied: {_errors_text(exc)}"
        qs, counted = queries.listing(object_type, qs.none(), tenant, {}), None
        field, descending = queries.ordering(object_type, None, NAME_SORT[object_type])
    then = queries.THEN.get(field, ())
    qs = qs.order_by(*(f"{'-' if descending else ''}{name}" for name in (field, *then)), "pk")
    custom_keys = {d.key for d in definitions}
    with queries.without_parallel_workers():
        page = ListPaginator(qs, PAGE_SIZE, searched=searched, counted=counted).get_page(request.GET.get("page"))
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
        "newest_first": searched and current == "-created_at" and not request.GET.get("ordering"),
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
