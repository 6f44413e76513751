"""Calls in Octopush Shield's data-subject requests: find, describe, export and erase a person's calls.

A person's calls are those linked to one of their contacts, or whose from/to number is one
of their phone numbers (E.164). Shield autodiscovers this module; retention is in ``retention.py``.
"""

from __future__ import annotations

import mimetypes

from django.db.models import Q
from django.urls import reverse
from django.utils.timezone import localtime

from octopushx.calls.models import Call
from octopushx.core import audit, blobs
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry
from octopushx.shield.privacy import subjects

# --- data-subject requests ------------------------------------------------------------------


def _subject_numbers(tenant, identity: subjects.Identity, found: subjects.Found) -> set[str]:
    from octopushx.crm.models import Contact, ContactPhone

    numbers = set()
    if identity.phone:
        numbers.add(subjects._normalise_phone(tenant, identity.phone))
    if found.contact_ids:
        numbers.update(
            Contact.objects.for_tenant(tenant).filter(pk__in=found.contact_ids).values_list("phone", flat=True)
        )
        numbers.update(
            ContactPhone.objects.for_tenant(tenant)
            .filter(contact_id__in=found.contact_ids)
            .values_list("number", flat=True)
        )
    return {n for n in numbers if n and n.startswith("+")}


def find_calls(tenant, identity: subjects.Identity, found: subjects.Found) -> list[str]:
    numbers = _subject_numbers(tenant, identity, found)
    query = Q(pk__in=[])
    if found.contact_ids:
        query |= Q(contact_id__in=found.contact_ids)
    if numbers:
        query |= Q(from_number__in=numbers) | Q(to_number__in=numbers)
    return [str(pk) for pk in Call.objects.for_tenant(tenant).filter(query).values_list("pk", flat=True)]


def _extension(blob) -> str:
    name = blob.filename or ""
    if "." in name:
        return name.rsplit(".", 1)[1].lower()
    return (mimetypes.guess_extension(blob.content_type or "") or ".bin").lstrip(".")


def export_calls(tenant, ids) -> dict[str, bytes]:
    """One ``calls.json`` (metadata, redacted transcript, insights) and each call's recording."""
    files: dict[str, bytes] = {}
    rows = []
    calls = Call.objects.for_tenant(tenant).filter(pk__in=ids).select_related("current", "recording", "redacted")
    for call in calls.order_by("created_at"):
        data = call.current.data if call.current_id else {}
        recording = call.redacted or call.recording
        recording_file = ""
        if recording is not None:
            recording_file = f"calls/{call.pk}.{_extension(recording)}"
            files[recording_file] = b"".join(blobs.read(recording))
        rows.append(
            {
                "id": str(call.pk),
                "direction": call.direction,
                "from_number": call.from_number,
                "to_number": call.to_number,
                "started_at": call.started_at,
                "duration": call.duration,
                "provider": call.provider,
                "status": call.status,
                "created_at": call.created_at,
                "recording": recording_file,
                "recording_is_redacted": recording is not None and recording == call.redacted,
                "summary": call.summary,
                "transcript": [
                    {"speaker": u.get("speaker"), "start": u.get("start"), "end": u.get("end"), "text": u.get("text")}
                    for u in data.get("utterances", [])
                ],
                "insights": data.get("insights", {}),
            }
        )
    files["calls.json"] = subjects.as_json(rows)
    return files


def _erase_call_audit(tenant, call_ids) -> int:
    """The calls' history entries keep their place in the chain; their personal part goes."""
    entries = AuditEntry.objects.filter(tenant=tenant, object_type="call", object_id__in=[str(i) for i in call_ids])
    return audit.erase_personal(entries, "erased data subject")


def erase_calls(tenant, actor: Actor, ids) -> int:
    """Delete each call with its recordings, results and transcript lines (the search index follows)."""
    from octopushx.calls import services

    count = 0
    erased = []
    for call in Call.objects.for_tenant(tenant).filter(pk__in=ids).select_related("recording", "redacted"):
        erased.append(call.pk)
        services.delete_call(tenant, actor, call)
        count += 1
    _erase_call_audit(tenant, erased)
    return count


def describe_calls(tenant, ids) -> list[tuple[str, str]]:
    calls = Call.objects.for_tenant(tenant).filter(pk__in=ids).order_by("created_at")
    rows = []
    for call in calls:
        when = localtime(call.started_at or call.created_at)
        other = call.from_number if call.direction == "inbound" else call.to_number
        recording = ", with its recording" if call.recording_id or call.redacted_id else ""
        rows.append(
            (f"{call.get_direction_display()} call {other} on {when.day} {when:%b %Y %H:%M}{recording}".replace("  ", " "),
             reverse("calls:detail", args=[call.pk]))
        )  # fmt: skip
    return rows


subjects.register("calls", label="Calls (recordings, transcripts and insights)", find=find_calls,
                  export=export_calls, erase=erase_calls, order=10, hold_scope="call",
                  noun=("call with its recording", "calls with their recordings"), describe=describe_calls)  # fmt: skip
