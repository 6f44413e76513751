"""Calls in Octopush Shield: data-subject requests (find, export, erase) and retention.

A person's calls are those linked to one of their contacts, or whose from/to number is one
of their phone numbers (E.164). Retention knows two classes: ``recordings`` (the stored audio,
original and redacted) and ``transcripts`` (analysis results, transcript lines and insights).
"""

from __future__ import annotations

import mimetypes

from django.db import transaction
from django.db.models import Q

from octopushx.calls.models import Call, CallAnalysisResult
from octopushx.core import audit, blobs
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry
from octopushx.shield import retention
from octopushx.shield.privacy import subjects

ACTOR = Actor.system("retention")


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


subjects.register("calls", label="Calls (recordings, transcripts and insights)", find=find_calls,
                  export=export_calls, erase=erase_calls, order=10)  # fmt: skip


# --- retention ------------------------------------------------------------------------------


def _not_held(calls, holds: retention.Holds):
    if holds.call_ids:
        calls = calls.exclude(pk__in=list(holds.call_ids))
    if holds.contact_ids:
        calls = calls.exclude(contact_id__in=list(holds.contact_ids))
    return calls


def find_recordings(tenant, cutoff, holds: retention.Holds):
    calls = Call.objects.for_tenant(tenant).filter(created_at__lt=cutoff)
    calls = calls.filter(Q(recording__isnull=False) | Q(redacted__isnull=False))
    return _not_held(calls, holds)


def purge_recordings(tenant, calls) -> int:
    count = 0
    for call in list(calls.select_related("recording", "redacted")):
        stored = [b for b in (call.recording, call.redacted) if b is not None]
        with transaction.atomic():
            call.recording, call.redacted, call.peaks = None, None, []
            call.save(update_fields=["recording", "redacted", "peaks", "updated_at"])
            audit.record(tenant, ACTOR, "call.recording_purged", obj=call, changes={"recording": ["stored", None]})
        for blob in stored:
            blobs.delete(blob)
        count += 1
    return count


def find_transcripts(tenant, cutoff, holds: retention.Holds):
    calls = Call.objects.for_tenant(tenant).filter(created_at__lt=cutoff)
    calls = calls.filter(pk__in=CallAnalysisResult.objects.for_tenant(tenant).values("call_id"))
    return _not_held(calls, holds)


def purge_transcripts(tenant, calls) -> int:
    count = 0
    for call in list(calls):
        with transaction.atomic():
            call.current, call.summary, call.sentiment, call.review_state = None, "", None, ""
            call.save(update_fields=["current", "summary", "sentiment", "review_state", "updated_at"])
            CallAnalysisResult.objects.for_tenant(tenant).filter(call=call).delete()  # lines cascade
            audit.record(tenant, ACTOR, "call.transcript_purged", obj=call, changes={"transcript": ["stored", None]})
        count += 1
    return count


retention.register(
    "recordings",
    find_recordings,
    purge_recordings,
    label="Call recordings",
    default_days=None,
    description="The stored audio of each call, original and redacted; the call's details stay.",
)
retention.register(
    "transcripts",
    find_transcripts,
    purge_transcripts,
    label="Transcripts and insights",
    default_days=None,
    description="Every analysis of a call: transcript lines, summary, sentiment and action items.",
)
