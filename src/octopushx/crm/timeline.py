"""The activity timeline of a contact, company or deal: notes, logged emails, tasks, calls,
stage changes and field changes (from the audit trail), newest first, filterable by kind."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.apps import apps
from django.db.models import Q
from django.urls import NoReverseMatch, reverse

from octopushx.core.models import AuditEntry
from octopushx.crm import history
from octopushx.crm.models import Company, Contact, Deal, Note, NoteKind, Task

LABELS = {"note": "Note", "email": "Email", "task": "Task", "call": "Call", "stage": "Stage", "change": "Change"}
KINDS = {
    "note": "Notes",
    "email": "Emails",
    "task": "Tasks",
    "call": "Calls",
    "stage": "Stage changes",
    "change": "Field changes",
}
TAGS = re.compile(r"<[^>]+>")


@dataclass
class Entry:
    kind: str
    at: datetime
    title: str
    body: str = ""
    actor: str = ""
    changes: dict[str, Any] = field(default_factory=dict)
    obj: Any = None
    url: str = ""
    lines: list[str] = field(default_factory=list)  # what changed, as sentences with names

    @property
    def label(self) -> str:
        return LABELS.get(self.kind, self.kind.capitalize())

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "at": self.at.isoformat(),
            "title": self.title,
            "body": self.body,
            "actor": self.actor,
            "changes": self.changes,
            "lines": self.lines,
            "id": str(self.obj.pk) if self.obj is not None and hasattr(self.obj, "pk") else None,
        }


def _related_filter(record) -> Q:
    if isinstance(record, Contact):
        return Q(contact=record)
    if isinstance(record, Company):
        return Q(company=record)
    return Q(deal=record)


def _audit_objects(record) -> Q:
    ids = [str(record.pk), *getattr(record, "merged_ids", [])]
    condition = Q(object_type=record._meta.model_name, object_id__in=ids)
    if isinstance(record, Contact):
        deal_ids = [str(pk) for pk in record.deals.values_list("pk", flat=True)]
        if deal_ids:
            condition |= Q(object_type="deal", object_id__in=deal_ids, action="deal.stage_changed")
    return condition


def _calls(record, limit: int) -> list[Entry]:
    """Calls from the calls product (Octopush X), when it is installed and links calls to records."""
    if isinstance(record, Deal) or not apps.is_installed("octopushx.calls"):
        return []
    try:
        call_model = apps.get_model("calls", "Call")
    except LookupError:
        return []
    link = "contact" if isinstance(record, Contact) else "company"
    if link not in {f.name for f in call_model._meta.get_fields()}:
        return []
    entries = []
    for call in call_model.objects.filter(tenant=record.tenant, **{link: record}).order_by("-created_at")[:limit]:
        direction = str(getattr(call, "direction", "") or "").capitalize() or "A"
        minutes = round((getattr(call, "duration", 0) or 0) / 60, 1)
        summary = str(getattr(call, "summary", "") or "")
        review = str(getattr(call, "review_state", "") or "")
        if summary and review not in ("approved", "corrected"):
            summary = f"Unreviewed AI summary: {summary}"
        try:
            url = reverse("calls:detail", args=[call.pk])
        except NoReverseMatch:
            url = ""
        entry = Entry(
            "call",
            getattr(call, "started_at", None) or call.created_at,
            _call_title(call, direction, minutes),
            summary[:500],
            obj=call,
        )
        entry.url = url
        entries.append(entry)
    return entries


def _call_title(call, direction: str, minutes: float) -> str:
    """ "Inbound call, 3.5 min"; a cloud-telephony call says how it ended, or that it is on the line now."""
    if getattr(call, "status", "") == "live":
        # A cloud-telephony call still going: ringing until the provider says it was answered.
        phone_call = getattr(call, "phone_call", None)
        return f"{direction} call · {'On the line' if getattr(phone_call, 'answered_at', None) else 'Ringing…'}"
    outcome = str(getattr(call, "outcome", "") or "")
    if outcome in ("missed", "abandoned", "failed", "refused"):
        return f"{direction} call, {call.get_outcome_display().lower()}"
    if outcome == "voicemail":
        return f"Voicemail, {minutes} min"
    return f"{direction} call, {minutes} min"


def build(record, kind: str | None = None, limit: int = 200) -> list[Entry]:
    """Entries for ``record`` (newest first); ``kind`` keeps one of ``KINDS``."""
    entries: list[Entry] = []
    related = _related_filter(record)
    if kind in (None, "", "note", "email"):
        notes = Note.objects.filter(related, tenant=record.tenant).select_related("author")
        if kind in ("note", "email"):
            notes = notes.filter(kind=NoteKind.EMAIL if kind == "email" else NoteKind.NOTE)
        for note in notes.order_by("-created_at")[:limit]:
            entries.append(
                Entry(
                    "email" if note.kind == NoteKind.EMAIL else "note",
                    note.created_at,
                    note.subject or ("Email" if note.kind == NoteKind.EMAIL else "Note"),
                    note.body,
                    str(note.author) if note.author else "",
                    obj=note,
                )
            )
    if kind in (None, "", "task"):
        for task in Task.objects.filter(related, tenant=record.tenant).select_related("assignee")[:limit]:
            label = "Task done" if task.status == "done" else "Task"
            entries.append(
                Entry(
                    "task",
                    task.completed_at or task.created_at,
                    f"{label}: {task.title}",
                    task.description,
                    str(task.assignee) if task.assignee else "",
                    obj=task,
                )
            )
    if kind in (None, "", "call"):
        entries.extend(_calls(record, limit))
    if kind in (None, "", "stage", "change"):
        audit = (
            AuditEntry.objects.filter(_audit_objects(record), tenant=record.tenant)
            .select_related("personal", "actor_user")
            .order_by("-seq")
        )
        if kind == "stage":
            audit = audit.filter(action="deal.stage_changed")
        elif kind == "change":
            audit = audit.exclude(action="deal.stage_changed")
        entries.extend(_audit_entries(record, list(audit[:limit])))
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]


def _audit_entries(record, items: list) -> list[Entry]:
    """Audit entries as timeline entries: a title and sentences with names, never ids or codes."""
    changes = [getattr(item, "personal", None) and item.personal.changes or {} for item in items]
    names = history.Names(record.tenant, changes)
    labels = history.custom_labels(record.tenant, record._meta.model_name)
    context = {"currency": getattr(record, "currency", "")}
    deal_names: dict[str, str] = {}
    if isinstance(record, Contact):
        deal_ids = {item.object_id for item in items if item.object_type == "deal"}
        deal_names = {
            str(pk): name
            for pk, name in Deal.objects.filter(tenant=record.tenant, pk__in=deal_ids).values_list("pk", "name")
        }
    entries = []
    for item, change in zip(items, changes, strict=True):
        personal = getattr(item, "personal", None)
        # The member's name where the entry still knows who it was; the recorded label otherwise.
        actor = str(item.actor_user) if item.actor_user_id else personal.actor_label if personal else ""
        if item.action == "deal.stage_changed":
            stage = change.get("stage") or [None, None]
            moved = f"Moved from {stage[0]} to {stage[1]}" if stage[0] and stage[1] else "Moved to another stage"
            if item.object_type == "deal" and str(item.object_id) != str(record.pk):
                moved = f"{deal_names.get(str(item.object_id), 'A deal')}: {moved[0].lower()}{moved[1:]}"
            entries.append(Entry("stage", item.at, moved, actor=actor, changes=change, obj=item))
            continue
        created = item.action.endswith(".created")
        lines = history.sentences(change, names, custom_labels=labels, context=context, created=created)
        if change and not lines and item.action.endswith(".updated"):
            continue  # only derived fields changed (a stage move's status): the stage entry says it
        title = history.title(item.object_type, item.action)
        entries.append(Entry("change", item.at, title, actor=actor, changes=change, obj=item, lines=lines))
    return entries


def plain(html: str) -> str:
    return TAGS.sub(" ", html or "").strip()
