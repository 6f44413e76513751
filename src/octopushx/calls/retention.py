"""Calls in Octopush Shield's retention (autodiscovered): two data classes and the call hold target.

``recordings`` is the stored audio (original and redacted); ``transcripts`` is every analysis
(results, transcript lines and insights). A legal hold on a call, or on its contact, keeps both.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q

from octopushx.calls.models import Call, CallAnalysisResult, TrackerHit
from octopushx.core import audit, blobs
from octopushx.core.context import Actor
from octopushx.shield import retention

ACTOR = Actor.system("retention")


# --- data classes ------------------------------------------------------------------------------


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
            call.metrics = {}
            call.save(update_fields=["current", "summary", "sentiment", "review_state", "metrics", "updated_at"])
            CallAnalysisResult.objects.for_tenant(tenant).filter(call=call).delete()  # lines cascade
            TrackerHit.objects.for_tenant(tenant).filter(call=call).delete()  # found in those lines
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


retention.register_hold_target(
    "call", lambda tenant, object_id: Call.objects.for_tenant(tenant).filter(pk=object_id).exists()
)
