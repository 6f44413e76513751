"""OctoCRM in Octopush Shield's retention (autodiscovered): exports, notes and closed deals, and the
contact a legal hold can name."""

from __future__ import annotations

from octopushx.core import blobs
from octopushx.core.context import Actor
from octopushx.crm import services
from octopushx.crm.models import Contact, Deal, Export, Note
from octopushx.shield.retention import Holds, register, register_hold_target

ACTOR = Actor.system("retention")


# --- data classes ------------------------------------------------------------------------------------


def find_exports(tenant, cutoff, holds: Holds):
    return Export.objects.for_tenant(tenant).filter(created_at__lt=cutoff).select_related("file")


def purge_exports(tenant, exports) -> int:
    count = 0
    for export in list(exports):
        if export.file is not None:
            blobs.delete(export.file)
        export.delete()
        count += 1
    return count


def find_notes(tenant, cutoff, holds: Holds):
    notes = Note.objects.for_tenant(tenant).filter(created_at__lt=cutoff)
    if holds.contact_ids:
        notes = notes.exclude(contact_id__in=holds.contact_ids)
    return notes


def purge_notes(tenant, notes) -> int:
    count = 0
    for note in list(notes):
        services.delete_note(tenant, ACTOR, note)
        count += 1
    return count


def find_closed_deals(tenant, cutoff, holds: Holds):
    deals = Deal.objects.for_tenant(tenant).filter(status__in=["won", "lost"], closed_at__lt=cutoff)
    if holds.contact_ids:
        deals = deals.exclude(contacts__in=list(holds.contact_ids))
    return deals.distinct()


def purge_closed_deals(tenant, deals) -> int:
    count = 0
    for deal in list(deals):
        services.delete_deal(tenant, ACTOR, deal)
        count += 1
    return count


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


def contact_exists(tenant, object_id: str) -> bool:
    return Contact.objects.for_tenant(tenant).filter(pk=object_id).exists()


register_hold_target("contact", contact_exists)
