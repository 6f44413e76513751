"""Acting on a call's AI output: approve, correct, action item to task, contact from number, delete."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from octopushx.calls.models import (
    Call,
    CallAnalysisResult,
    ReviewState,
    Utterance,
)
from octopushx.calls.services import trackers
from octopushx.calls.services.intake import (
    SPEAKERS,
    call_snapshot,
    visible_contact,
)
from octopushx.calls.services.queries import (
    match_contact,
    membership_of,
)
from octopushx.core import audit, blobs, events
from octopushx.core.context import Actor
from octopushx.crm.models import Contact
from octopushx.tenancy.models import Membership
from octopushx.tenancy.roles import Perm, has_perm


def _current(call: Call) -> CallAnalysisResult:
    if call.current_id is None:
        raise ValidationError({"status": ["The call has no analysis to review yet"]})
    return CallAnalysisResult.objects.get(pk=call.current_id)


def approve(tenant, actor: Actor, call: Call) -> CallAnalysisResult:
    """A person confirms the AI output as it is."""
    result = _current(call)
    old = result.review_state
    with transaction.atomic():
        result.review_state = ReviewState.APPROVED
        result.reviewed_by = actor.user
        result.reviewed_at = timezone.now()
        result.save(update_fields=["review_state", "reviewed_by", "reviewed_at", "updated_at"])
        Call.objects.filter(pk=call.pk).update(review_state=ReviewState.APPROVED)
        call.review_state = ReviewState.APPROVED
        audit.record(tenant, actor, "call.approved", obj=call, changes={"review_state": [old, ReviewState.APPROVED]})
        events.emit(tenant, "call.reviewed", {"call_id": str(call.pk), "result_id": str(result.pk)})
    return result


def correct(tenant, actor: Actor, call: Call, data: dict[str, Any]) -> CallAnalysisResult:
    """Correct the summary, action items or transcript lines; each correction keeps who and when."""
    result = _current(call)
    errors: dict[str, list[str]] = {}
    changes: dict[str, list[Any]] = {}
    analysis = result.data
    insights = analysis.setdefault("insights", {})
    if data.get("summary") is not None:
        summary = str(data["summary"]).strip()
        if len(summary) > 5000:
            errors["summary"] = ["At most 5000 characters"]
        changes["summary"] = [insights.get("summary", ""), summary]
    if data.get("action_items") is not None:
        items = []
        for index, item in enumerate(data["action_items"]):
            text = str((item.get("text") if isinstance(item, dict) else item) or "").strip()
            owner = str((item.get("owner") if isinstance(item, dict) else "") or "unknown")
            if not text:
                errors[f"action_items.{index}"] = ["An action item needs a text"]
            if owner not in SPEAKERS:
                errors[f"action_items.{index}.owner"] = [f"One of {', '.join(SPEAKERS)}"]
            due = item.get("due") if isinstance(item, dict) else None
            items.append({"text": text[:500], "owner": owner, "due": due})
        changes["action_items"] = [insights.get("action_items", []), items]
    lines = {u.position: u for u in result.lines.all()}
    line_changes: list[tuple[Utterance, str, str]] = []
    for index, item in enumerate(data.get("utterances") or []):
        position = item.get("index") if isinstance(item, dict) else None
        if not isinstance(position, int) or position not in lines:
            errors[f"utterances.{index}.index"] = ["No transcript line with that index"]
            continue
        line = lines[position]
        text = str(item.get("text", line.text)).strip()
        speaker = str(item.get("speaker", line.speaker))
        if speaker not in SPEAKERS:
            errors[f"utterances.{index}.speaker"] = [f"One of {', '.join(SPEAKERS)}"]
            continue
        line_changes.append((line, text, speaker))
        changes[f"utterances.{position}"] = [
            {"speaker": line.speaker, "text": line.text},
            {"speaker": speaker, "text": text},
        ]
    if not changes and not errors:
        errors["__all__"] = ["Give a summary, action items or transcript lines to correct"]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if "summary" in changes:
            insights["summary"] = changes["summary"][1]
        if "action_items" in changes:
            insights["action_items"] = changes["action_items"][1]
        utterances = analysis.get("utterances", [])
        for line, text, speaker in line_changes:
            line.text, line.speaker = text, speaker
            line.save(update_fields=["text", "speaker", "updated_at"])
            if line.position < len(utterances):
                utterances[line.position].update(text=text, speaker=speaker)
        result.data = analysis
        result.corrections = [
            *result.corrections,
            {
                "by": actor.label,
                "by_id": str(actor.user.pk) if actor.user else None,
                "at": timezone.now().isoformat(),
                "changes": changes,
            },
        ]
        result.review_state = ReviewState.CORRECTED
        result.reviewed_by = actor.user
        result.reviewed_at = timezone.now()
        result.save()
        Call.objects.filter(pk=call.pk).update(review_state=ReviewState.CORRECTED, summary=insights.get("summary", ""))
        call.review_state = ReviewState.CORRECTED
        if line_changes:  # the corrected lines are what the trackers listen to now
            trackers.evaluate_call(call)
        audit.record(tenant, actor, "call.corrected", obj=call, changes=changes)
        events.emit(tenant, "call.reviewed", {"call_id": str(call.pk), "result_id": str(result.pk)})
    return result


def _due_at(tenant, due_date):
    """An action item's due date as 17:00 that day in the organisation's time zone (None if none)."""
    from datetime import date, datetime, time
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not isinstance(due_date, str):
        return None
    try:
        day = date.fromisoformat(due_date)
    except ValueError:
        return None
    try:
        zone = ZoneInfo(getattr(tenant, "time_zone", "") or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return datetime.combine(day, time(17, 0), tzinfo=zone)


def action_item_task(tenant, actor: Actor, call: Call, index: int):
    """Turn one action item of the current analysis into a CRM task on the call's contact."""
    from octopushx.crm import services as crm

    result = _current(call)
    items = result.data.get("insights", {}).get("action_items", [])
    if not isinstance(index, int) or not 0 <= index < len(items):
        raise ValidationError({"index": ["No action item with that index"]})
    item = items[index]
    description = f"From the call of {timezone.localtime(call.started_at or call.created_at):%d %b %Y %H:%M}"
    if item.get("due"):
        description += f" (due: {item['due']})"
    if result.review_state == ReviewState.UNREVIEWED:
        description += " — unreviewed AI output"
    title = item["text"]
    if item.get("verb_phrase"):
        owner = {"agent": "Agent", "customer": "Customer"}.get(item.get("owner", ""), "")
        title = f"{owner} to {item['verb_phrase']}" if owner else item["verb_phrase"]
        description += f"\nSaid: “{item['text']}”"
    data: dict[str, Any] = {"title": title[:200], "description": description}
    due_at = _due_at(tenant, item.get("due_date"))
    if due_at is not None:
        data["due_at"] = due_at
    if call.contact_id:
        data["contact_id"] = str(call.contact_id)
    if call.agent_id and Membership.objects.filter(tenant=tenant, user_id=call.agent_id).exists():
        data["assignee_id"] = str(call.agent_id)
    return crm.create_task(tenant, actor, data)


def contact_from_number(tenant, actor: Actor, call: Call) -> Contact:
    """Turn an unmatched customer number into a new contact and link the call (and its twins)."""
    from octopushx.crm import services as crm

    if call.contact_id:
        raise ValidationError({"contact_id": ["The call is already linked to a contact"]})
    if not call.customer_number:
        raise ValidationError({"from_number": ["The call has no customer number"]})
    with transaction.atomic():
        contact = match_contact(tenant, call.customer_number) or crm.create_contact(
            tenant, actor, {"phone": call.customer_number}
        )
        link_contact(tenant, actor, call, contact)
    return contact


def link_contact(tenant, actor: Actor, call: Call, contact: Contact | None) -> Call:
    old = call_snapshot(call)
    with transaction.atomic():
        call.contact = contact
        call.company = contact.company if contact else None
        call.save(update_fields=["contact", "company", "updated_at"])
        audit.record(tenant, actor, "call.updated", obj=call, changes=audit.diff(old, call_snapshot(call)))
        events.emit(tenant, "call.updated", {"call_id": str(call.pk), "fields": ["contact"]})
    return call


def link_contact_by_id(tenant, actor: Actor, call: Call, contact_id: Any) -> Call:
    """Link the call to the contact with this id (an empty id unlinks it).

    The contact must be this tenant's and visible to the member: any other id answers 404, the
    same as an id that does not exist. A value that is not an id is a ``ValidationError``.
    """
    if contact_id in (None, ""):
        return link_contact(tenant, actor, call, None) if call.contact_id else call
    try:
        pk = uuid.UUID(str(contact_id).strip())
    except ValueError:
        raise ValidationError({"contact_id": ["Choose a contact from the list"]}) from None
    contact = visible_contact(tenant, actor, pk)
    if contact is None:
        raise Http404("No contact with that id")
    if call.contact_id == contact.pk:
        return call
    return link_contact(tenant, actor, call, contact)


def original_viewed(tenant, actor: Actor, call: Call, what: str) -> None:
    """Every look at the unredacted recording or transcript is audited (and needs the right)."""
    membership = membership_of(tenant, actor)
    if membership is None or not has_perm(membership.role, Perm.VIEW_ORIGINAL):
        raise PermissionDenied("Your role cannot see unredacted recordings (view_original)")
    audit.record(tenant, actor, "call.original_viewed", obj=call, changes={"what": [None, what]})


def delete_call(tenant, actor: Actor, call: Call) -> None:
    """Delete a call, its results and its stored recordings."""
    stored = [b for b in (call.recording, call.redacted) if b is not None]
    with transaction.atomic():
        audit.record(tenant, actor, "call.deleted", obj=call, changes=audit.diff(call_snapshot(call), {}))
        events.emit(tenant, "call.deleted", {"call_id": str(call.pk)})
        call.delete()
    for blob in stored:
        blobs.delete(blob)
