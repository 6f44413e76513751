"""The data classes that exist today: exports, audit entries' personal parts, CRM notes and
closed deals. Other apps (calls: recordings, transcripts) register theirs the same way."""

from __future__ import annotations

from django.apps import apps

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


# --- CRM ------------------------------------------------------------------------------------


def find_exports(tenant, cutoff, holds: Holds):
    from octopushx.crm.models import Export

    return Export.objects.for_tenant(tenant).filter(created_at__lt=cutoff).select_related("file")


def purge_exports(tenant, exports) -> int:
    from octopushx.core import blobs

    count = 0
    for export in list(exports):
        if export.file is not None:
            blobs.delete(export.file)
        export.delete()
        count += 1
    return count


def find_notes(tenant, cutoff, holds: Holds):
    from octopushx.crm.models import Note

    notes = Note.objects.for_tenant(tenant).filter(created_at__lt=cutoff)
    if holds.contact_ids:
        notes = notes.exclude(contact_id__in=holds.contact_ids)
    return notes


def purge_notes(tenant, notes) -> int:
    from octopushx.crm import services

    count = 0
    for note in list(notes):
        services.delete_note(tenant, ACTOR, note)
        count += 1
    return count


def find_closed_deals(tenant, cutoff, holds: Holds):
    from octopushx.crm.models import Deal

    deals = Deal.objects.for_tenant(tenant).filter(status__in=["won", "lost"], closed_at__lt=cutoff)
    if holds.contact_ids:
        deals = deals.exclude(contacts__in=list(holds.contact_ids))
    return deals.distinct()


def purge_closed_deals(tenant, deals) -> int:
    from octopushx.crm import services

    count = 0
    for deal in list(deals):
        services.delete_deal(tenant, ACTOR, deal)
        count += 1
    return count


if apps.is_installed("octopushx.crm"):
    register(
        "exports",
        find_exports,
        purge_exports,
        label="Exports (files)",
        default_days=30,
        description="CSV/XLSX exports and their encrypted files.",
    )
    register("notes", find_notes, purge_notes, label="Notes", default_days=None)
    register(
        "closed_deals",
        find_closed_deals,
        purge_closed_deals,
        label="Closed deals",
        default_days=None,
        description="Deals won or lost, counted from when they closed.",
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
