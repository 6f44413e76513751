"""Possible duplicate contacts: review, merge, and undo a merge made in this session."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from octopushx.crm import dedupe
from octopushx.crm.models import Contact, Merge
from octopushx.crm.views._shared import _back, _errors_text
from octopushx.crm.visibility import get_visible, visible
from octopushx.tenancy.roles import Perm
from octopushx.tenancy.views import requires

MERGES_SESSION_KEY = "crm_merges"


def _warn_duplicates(request, contact) -> None:
    found = dedupe.candidates(contact, visible(Contact, request.tenant, request.membership))
    if found:
        names = ", ".join(f"{other} ({reason})" for other, reason in found[:3])
        messages.warning(request, f"Possible duplicate of {names}. Review it under Duplicates.")


def undoable_merges(request):
    """The merges this session made and has not undone: only they can be undone here."""
    return (
        Merge.objects.for_tenant(request.tenant)
        .filter(pk__in=request.session.get(MERGES_SESSION_KEY, []), undone_at__isnull=True)
        .select_related("kept")
    )


@requires(Perm.DELETE)
def duplicates(request):
    pairs = dedupe.find(request.tenant, request.membership)
    return render(request, "crm/duplicates.html", {"pairs": pairs, "undoable": undoable_merges(request)})


@requires(Perm.DELETE)
@require_POST
def merge(request):
    keep = get_visible(Contact, request.tenant, request.membership, request.POST.get("keep_id"))
    remove = get_visible(Contact, request.tenant, request.membership, request.POST.get("remove_id"))
    try:
        record = dedupe.merge(request.tenant, request.actor, keep, remove)
    except ValidationError as exc:
        messages.error(request, _errors_text(exc))
        return redirect("crm:duplicates")
    request.session[MERGES_SESSION_KEY] = [*request.session.get(MERGES_SESSION_KEY, [])[-19:], str(record.pk)]
    messages.success(request, f"Merged into {keep}.")
    return redirect(_back(request, reverse("crm:contact", args=[keep.pk])))


@requires(Perm.DELETE)
@require_POST
def merge_undo(request, merge_id):
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
