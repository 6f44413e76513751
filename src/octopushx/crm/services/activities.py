"""Tasks (with reminders) and notes (sanitised rich text, logged emails)."""

from __future__ import annotations

import re
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from octopushx.core import audit, events
from octopushx.core.context import Actor
from octopushx.crm import fields as rules
from octopushx.crm.models import (
    Company,
    Contact,
    Deal,
    Note,
    NoteKind,
    Task,
    TaskStatus,
)
from octopushx.crm.services._shared import _choice, _id, _iso, _owner, _raise, _ref, _text

# --- tasks -------------------------------------------------------------------------


def task_snapshot(task: Task) -> dict:
    return {
        "title": task.title,
        "description": task.description,
        "due_at": _iso(task.due_at),
        "remind_at": _iso(task.remind_at),
        "assignee": _id(task.assignee_id),
        "status": task.status,
        "contact": _id(task.contact_id),
        "company": _id(task.company_id),
        "deal": _id(task.deal_id),
    }


def _datetime(data: dict, name: str, errors: dict):
    raw = data.get(name)
    if raw in (None, ""):
        return None
    if isinstance(raw, datetime):
        value = raw
    else:
        from django.utils.dateparse import parse_date, parse_datetime

        value = parse_datetime(str(raw))
        if value is None and parse_date(str(raw)) is not None:
            value = datetime.combine(parse_date(str(raw)), datetime.min.time())
        if value is None:
            errors[name] = ["A date and time such as 2026-01-31T09:00:00Z"]
            return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.get_default_timezone())
    return value


def _related(tenant, actor: Actor, data: dict, values: dict, errors: dict) -> None:
    for name, model in (("contact", Contact), ("company", Company), ("deal", Deal)):
        if f"{name}_id" in data:
            values[name] = _ref(model, tenant, actor, data[f"{name}_id"], f"{name}_id", errors)


def _clean_task(tenant, actor: Actor, data: dict, task: Task | None) -> dict:
    errors: dict = {}
    values: dict = {}
    partial = task is not None
    if not partial or "title" in data:
        values["title"] = _text(data, "title", errors, 200)
        if not values["title"]:
            errors["title"] = ["A title is required"]
    if "description" in data:
        values["description"] = _text(data, "description", errors, 20000)
    for name in ("due_at", "remind_at"):
        if name in data:
            values[name] = _datetime(data, name, errors)
    if "status" in data and data["status"] is not None:
        values["status"] = _choice(data, "status", TaskStatus, errors)
    if "assignee_id" in data:
        values["assignee"] = _owner(tenant, data["assignee_id"], errors, "assignee_id")
    elif not partial and actor.user is not None:
        values["assignee"] = actor.user
    _related(tenant, actor, data, values, errors)
    related = [values.get(n, getattr(task, n, None) if task else None) for n in ("contact", "company", "deal")]
    if sum(1 for r in related if r is not None) > 1:
        errors["__all__"] = ["A task relates to one contact, company or deal at most"]
    _raise(errors)
    return values


def create_task(tenant, actor: Actor, data: dict) -> Task:
    """A to-do for a member (the actor by default), optionally on a contact, company or deal."""
    values = _clean_task(tenant, actor, data, None)
    with transaction.atomic():
        task = Task(tenant=tenant, **values)
        if task.status == TaskStatus.DONE:
            task.completed_at = timezone.now()
        task.save()
        audit.record(tenant, actor, "task.created", obj=task, changes=audit.diff({}, task_snapshot(task)))
        events.emit(tenant, "task.created", {"task_id": str(task.pk)})
    return task


def update_task(tenant, actor: Actor, task: Task, data: dict) -> Task:
    values = _clean_task(tenant, actor, data, task)
    old = task_snapshot(task)
    was_done = task.status == TaskStatus.DONE
    with transaction.atomic():
        for name, value in values.items():
            setattr(task, name, value)
        if task.status == TaskStatus.DONE and not was_done:
            task.completed_at = timezone.now()
        elif task.status != TaskStatus.DONE:
            task.completed_at = None
        if "remind_at" in values:
            task.reminded_at = None
        task.save()
        changes = audit.diff(old, task_snapshot(task))
        if changes:
            audit.record(tenant, actor, "task.updated", obj=task, changes=changes)
            events.emit(tenant, "task.updated", {"task_id": str(task.pk), "fields": sorted(changes)})
        if task.status == TaskStatus.DONE and not was_done:
            events.emit(tenant, "task.completed", {"task_id": str(task.pk)})
    return task


def complete_task(tenant, actor: Actor, task: Task) -> Task:
    return update_task(tenant, actor, task, {"status": TaskStatus.DONE})


def delete_task(tenant, actor: Actor, task: Task) -> None:
    with transaction.atomic():
        audit.record(tenant, actor, "task.deleted", obj=task, changes=audit.diff(task_snapshot(task), {}))
        events.emit(tenant, "task.deleted", {"task_id": str(task.pk)})
        task.delete()


def due_reminders(now=None) -> list[Task]:
    """Open tasks whose reminder time has come and that were not reminded yet (all tenants)."""
    now = now or timezone.now()
    return list(
        Task.objects.filter(status=TaskStatus.OPEN, remind_at__lte=now, reminded_at__isnull=True).select_related(
            "tenant"
        )[:500]
    )


def send_reminder(task: Task) -> bool:
    """Emit ``task.reminder`` once per reminder time (idempotent under retries)."""
    with transaction.atomic():
        claimed = Task.objects.filter(pk=task.pk, reminded_at__isnull=True).update(reminded_at=timezone.now())
        if claimed:
            events.emit(task.tenant, "task.reminder", {"task_id": str(task.pk), "assignee_id": _id(task.assignee_id)})
    return bool(claimed)


# --- notes -------------------------------------------------------------------------


def _clean_note(tenant, actor: Actor, data: dict, note: Note | None) -> dict:
    errors: dict = {}
    values: dict = {}
    if note is None or "body" in data:
        values["body"] = rules.sanitize_html(str(data.get("body") or ""))
        if not re.sub(r"<[^>]*>|&nbsp;|\s", "", values["body"]):
            errors["body"] = ["A note needs some text"]
        elif len(values["body"]) > 100000:
            errors["body"] = ["At most 100,000 characters"]
    if "kind" in data and data["kind"] is not None:
        values["kind"] = _choice(data, "kind", NoteKind, errors)
    if "subject" in data:
        values["subject"] = _text(data, "subject", errors, 200)
    _related(tenant, actor, data, values, errors)
    related = [values.get(n, getattr(note, n, None) if note else None) for n in ("contact", "company", "deal")]
    if sum(1 for r in related if r is not None) > 1:
        errors["__all__"] = ["A note belongs to one contact, company or deal at most"]
    _raise(errors)
    return values


def note_snapshot(note: Note) -> dict:
    return {
        "kind": note.kind,
        "subject": note.subject,
        "body": note.body,
        "contact": _id(note.contact_id),
        "company": _id(note.company_id),
        "deal": _id(note.deal_id),
    }


def create_note(tenant, actor: Actor, data: dict) -> Note:
    """A note (or a logged email) on a contact, company or deal; the HTML is sanitised."""
    values = _clean_note(tenant, actor, data, None)
    with transaction.atomic():
        note = Note.objects.create(tenant=tenant, author=actor.user if actor else None, **values)
        audit.record(tenant, actor, "note.created", obj=note, changes=audit.diff({}, note_snapshot(note)))
        events.emit(tenant, "note.created", {"note_id": str(note.pk)})
    return note


def update_note(tenant, actor: Actor, note: Note, data: dict) -> Note:
    values = _clean_note(tenant, actor, data, note)
    old = note_snapshot(note)
    with transaction.atomic():
        for name, value in values.items():
            setattr(note, name, value)
        note.save()
        changes = audit.diff(old, note_snapshot(note))
        if changes:
            audit.record(tenant, actor, "note.updated", obj=note, changes=changes)
            events.emit(tenant, "note.updated", {"note_id": str(note.pk)})
    return note


def delete_note(tenant, actor: Actor, note: Note) -> None:
    with transaction.atomic():
        audit.record(tenant, actor, "note.deleted", obj=note, changes=audit.diff(note_snapshot(note), {}))
        events.emit(tenant, "note.deleted", {"note_id": str(note.pk)})
        note.delete()
