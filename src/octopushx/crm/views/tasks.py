"""My tasks, and adding or removing tasks and notes from a record's page."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from octopushx.crm import queries, services
from octopushx.crm.forms import TaskForm
from octopushx.crm.models import Contact, Note, Task, TaskStatus
from octopushx.crm.views._shared import PAGE_SIZE, _back, _errors_text, _related_from
from octopushx.crm.visibility import get_visible, visible
from octopushx.tenancy.models import Membership
from octopushx.tenancy.roles import Perm, has_perm
from octopushx.tenancy.views import requires

# Its forms show a forbidden character as an error on the field (core.text.FormTextMiddleware).
FORMS_CHECK_TEXT = True


@requires(Perm.READ)
def task_list(request):
    show = request.GET.get("show", "open")
    whose = request.GET.get("whose", "mine")
    qs = visible(Task, request.tenant, request.membership).select_related("assignee", "contact", "company", "deal")
    qs, narrowed, error = _narrowed(request, qs, "task")
    if whose == "mine":
        qs = qs.filter(assignee=request.user)
    if show in TaskStatus.values:
        qs = qs.filter(status=show)
    now = timezone.now()
    due = request.GET.get("due", "")
    if due == "overdue":  # what Home's "N overdue" counts: open and past due
        qs = qs.filter(status=TaskStatus.OPEN, due_at__lt=now)
    elif due == "today":
        end_of_today = timezone.localtime(now).replace(hour=23, minute=59, second=59)
        qs = qs.filter(status=TaskStatus.OPEN, due_at__gte=now, due_at__lte=end_of_today)
    else:
        due = ""
    qs = qs.order_by("due_at", "created_at") if show == TaskStatus.OPEN else qs.order_by("-updated_at")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    _hide_restricted(request, page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "crm/tasks.html",
        {
            "page": page,
            "show": show,
            "whose": whose,
            "now": now,
            "statuses": TaskStatus.choices,
            "form": TaskForm(tenant=request.tenant, membership=request.membership),
            "due": due,
            "overdue": qs.filter(status=TaskStatus.OPEN, due_at__lt=now).count(),
            "narrowed": narrowed,
            "error": error,
            "query": query.urlencode(),
        },
    )


def _narrowed(request, qs, kind: str):
    """The report drill-down filters (``queries.ACTIVITY_FILTERS``) with chips naming them; a bad value
    shows an error and lists nothing."""
    try:
        qs, shown = queries.apply_activity_filters(qs, kind, request.GET, request.tenant)
    except ValidationError as exc:
        return qs.none(), [], _errors_text(exc)
    names = dict(Membership.objects.filter(tenant=request.tenant).values_list("user_id", "user__full_name"))
    chips = []
    for name, label, value in shown:
        if name in ("assignee_id", "author_id"):
            value = names.get(uuid.UUID(value)) or "a former member"
        rest = request.GET.copy()
        rest.pop(name, None)
        rest.pop("page", None)
        chips.append(
            {"label": f"{label}: {value}", "without": rest.urlencode(), "name": name, "raw": request.GET.get(name)}
        )
    return qs, chips, ""


def _hide_restricted(request, rows) -> None:
    """A restricted contact (restriction of processing) the viewer may not see is not named on a task
    or note they can see (through its assignee or author): ``contact_hidden`` tells the template."""
    restricted = {row.contact_id for row in rows if row.contact_id and row.contact.restricted}
    seen = set()
    if restricted:
        seen = set(
            visible(Contact, request.tenant, request.membership).filter(pk__in=restricted).values_list("pk", flat=True)
        )
    for row in rows:
        row.contact_hidden = row.contact_id in restricted and row.contact_id not in seen


@requires(Perm.READ)
def note_list(request):
    """Notes (calls logged, emails, meetings, plain notes) the member may see, newest first: the list a
    report's "notes per owner" drills down to."""
    qs = visible(Note, request.tenant, request.membership).select_related("author", "contact", "company", "deal")
    qs, narrowed, error = _narrowed(request, qs, "note")
    page = Paginator(qs.order_by("-created_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    _hide_restricted(request, page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "crm/notes.html",
        {"page": page, "narrowed": narrowed, "error": error, "query": query.urlencode()},
    )


@requires(Perm.WRITE)
def task_new(request):
    related = _related_from(request, request.POST or request.GET)
    # From a record's page the task is that record's; otherwise the form offers pickers for one.
    form = TaskForm(request.POST or None, tenant=request.tenant, membership=request.membership, related=not related)
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
