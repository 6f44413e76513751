"""Shield's own data classes: audit entries' personal parts and finished data-subject requests.

Products register theirs from their own ``retention.py`` (crm: exports, notes, closed deals;
calls: recordings, transcripts)."""

from __future__ import annotations

from octopushx.core.context import Actor
from octopushx.shield.retention.registry import Holds, register

ACTOR = Actor.system("retention")


# --- audit entries: only the personal part goes, so the hash chain stays verifiable ----------


def find_audit_entries(tenant, cutoff, holds: Holds):
    from octopushx.core.models import AuditEntry

    entries = AuditEntry.objects.filter(tenant=tenant, at__lt=cutoff, personal__erased_at__isnull=True)
    if holds.contact_ids:
        entries = entries.exclude(object_type="contact", object_id__in=holds.contact_ids)
    return entries


def purge_audit_entries(tenant, entries) -> int:
    from octopushx.core import audit

    return audit.erase_personal(entries, "removed after the retention period")


register(
    "audit_entries",
    find_audit_entries,
    purge_audit_entries,
    label="Audit entries (personal details)",
    default_days=730,
    description="Who, from which IP and which values changed are removed; the hash-chained "
    "record that something happened stays, so the chain still verifies.",
)


# --- finished data-subject requests ---------------------------------------------------------


def find_finished_requests(tenant, cutoff, holds: Holds):
    from octopushx.shield.privacy.models import PrivacyRequest, RequestState

    return PrivacyRequest.objects.for_tenant(tenant).filter(
        state__in=[RequestState.COMPLETED, RequestState.REJECTED], completed_at__lt=cutoff
    )


def purge_finished_requests(tenant, requests) -> int:
    from octopushx.core import blobs

    count = 0
    for request in list(requests.select_related("result_blob")):
        if request.result_blob is not None:
            blobs.delete(request.result_blob)
        request.delete()
        count += 1
    return count


register(
    "finished_dsrs",
    find_finished_requests,
    purge_finished_requests,
    label="Finished data-subject requests",
    default_days=1095,
    description="Completed or rejected requests, kept as evidence of how they were handled.",
)
