"""Inline editing in the lists: a record's owner or lifecycle stage changed in place (htmx)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from octopushx.crm.models import Lifecycle, ObjectType
from octopushx.crm.views._shared import _errors_text, _htmx
from octopushx.crm.views.lists import BULK, EDITABLE, LIST_URL, _cell, _members
from octopushx.crm.visibility import get_visible
from octopushx.tenancy.roles import Perm
from octopushx.tenancy.views import requires

LABELS = {"owner": "Owner", "lifecycle_stage": "Lifecycle"}


def _options(request, key: str) -> list[tuple[str, str]]:
    if key == "owner":
        return [("", "No owner"), *_members(request.tenant)]
    return list(Lifecycle.choices)


def _current(record, key: str) -> str:
    return str(record.owner_id or "") if key == "owner" else getattr(record, key)


def _list_cell(request, kind: str, record_id: str, key: str):
    """GET: the editor for one cell (or, with ``cancel``, the cell as shown); POST: save it."""
    model, update, _delete = BULK[kind]
    record = get_visible(model, request.tenant, request.membership, record_id)
    context = {"record": record, "key": key, "label": LABELS[key], "url": request.path}
    if request.method == "POST":
        value = request.POST.get("value", "")
        if value not in {option for option, _label in _options(request, key)}:
            return _editor(request, context, value, "Choose one of the options.", status=400)
        try:
            record = update(request.tenant, request.actor, record, {EDITABLE[kind][key][0]: value or None})
        except ValidationError as exc:
            return _editor(request, context, value, _errors_text(exc), status=400)
        record = model.objects.get(pk=record.pk)
        return render(request, "crm/_list_cell.html", {**context, "record": record, "text": _cell(record, key, set())})
    if not _htmx(request):  # the editor is a piece of the list, not a page of its own
        return redirect(LIST_URL[kind])
    if request.GET.get("cancel"):
        return render(request, "crm/_list_cell.html", {**context, "text": _cell(record, key, set())})
    return _editor(request, context, _current(record, key))


@requires(Perm.WRITE)
def contact_owner_cell(request, contact_id):
    return _list_cell(request, ObjectType.CONTACT, contact_id, "owner")


@requires(Perm.WRITE)
def contact_lifecycle_cell(request, contact_id):
    return _list_cell(request, ObjectType.CONTACT, contact_id, "lifecycle_stage")


@requires(Perm.WRITE)
def company_owner_cell(request, company_id):
    return _list_cell(request, ObjectType.COMPANY, company_id, "owner")


@requires(Perm.WRITE)
def deal_owner_cell(request, deal_id):
    return _list_cell(request, ObjectType.DEAL, deal_id, "owner")


def _editor(request, context: dict, value: str, error: str = "", status: int = 200):
    return render(
        request,
        "crm/_list_cell.html",
        {**context, "editing": True, "value": value, "error": error, "options": _options(request, context["key"])},
        status=status,
    )
