"""Finding everything about one person in a tenant, exporting it and erasing it.

Each app contributes a ``Source`` with ``register``: ``find(tenant, identity)`` returns the
ids of its records about the person, ``export(tenant, ids)`` returns files for the access
ZIP, ``erase(tenant, actor, ids)`` deletes or anonymises them and returns how many. The
shield built-ins cover CRM contacts (with their notes, tasks and deal links) and the audit
trail; calls register recordings and transcripts the same way.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps


@dataclass(frozen=True)
class Identity:
    email: str = ""
    phone: str = ""
    contact_id: str = ""


@dataclass
class Found:
    """Ids per source key, plus the contact ids the other sources can follow."""

    items: dict[str, list[str]] = field(default_factory=dict)

    @property
    def contact_ids(self) -> list[str]:
        return self.items.get("contacts", [])

    def total(self) -> int:
        return sum(len(v) for v in self.items.values())


@dataclass(frozen=True)
class Source:
    key: str
    label: str
    find: Callable  # (tenant, identity, found) -> list[str]
    export: Callable  # (tenant, ids) -> dict[filename, bytes]
    erase: Callable  # (tenant, actor, ids) -> int
    order: int = 50  # erasure order: dependent records before the contact itself


_SOURCES: dict[str, Source] = {}


def register(key: str, *, label: str, find, export, erase, order: int = 50) -> Source:
    source = Source(key, label, find, export, erase, order)
    _SOURCES[key] = source
    return source


def sources() -> list[Source]:
    return sorted(_SOURCES.values(), key=lambda s: (s.order, s.key))


def find(tenant, identity: Identity) -> Found:
    """Sources run in order, so later ones can follow the contacts found first."""
    found = Found()
    for source in sorted(_SOURCES.values(), key=lambda s: (0 if s.key == "contacts" else 1, s.key)):
        ids = [str(i) for i in source.find(tenant, identity, found)]
        if ids:
            found.items[source.key] = ids
    return found


def as_json(data) -> bytes:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str).encode()


# --- built-in sources ----------------------------------------------------------------------


def _normalise_phone(tenant, phone: str) -> str:
    import phonenumbers

    try:
        number = phonenumbers.parse(phone, tenant.default_region or None)
    except phonenumbers.NumberParseException:
        return phone.strip()
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _find_contacts(tenant, identity: Identity, found: Found) -> list[str]:
    from django.db.models import Q

    from octopushx.crm.models import Contact, ContactEmail, ContactPhone

    query = Q(pk__in=[])
    if identity.contact_id:
        query |= Q(pk=identity.contact_id)
    if identity.email:
        email = identity.email.strip().lower()
        query |= Q(email__iexact=email) | Q(
            pk__in=ContactEmail.objects.for_tenant(tenant).filter(email__iexact=email).values("contact_id")
        )
    if identity.phone:
        number = _normalise_phone(tenant, identity.phone)
        query |= Q(phone=number) | Q(
            pk__in=ContactPhone.objects.for_tenant(tenant).filter(number=number).values("contact_id")
        )
    try:
        return [str(pk) for pk in Contact.objects.for_tenant(tenant).filter(query).values_list("pk", flat=True)]
    except Exception:  # a malformed contact id finds nobody
        return []


def _export_contacts(tenant, ids) -> dict[str, bytes]:
    from octopushx.crm.models import Contact
    from octopushx.crm.services import contact_snapshot

    rows = []
    for contact in Contact.objects.for_tenant(tenant).filter(pk__in=ids):
        rows.append({"id": str(contact.pk), **contact_snapshot(contact), "created_at": contact.created_at})
    return {"contacts.json": as_json(rows)}


def _erase_contacts(tenant, actor, ids) -> int:
    from octopushx.crm.models import Contact
    from octopushx.crm.services import delete_contact

    count = 0
    for contact in Contact.objects.for_tenant(tenant).filter(pk__in=ids):
        delete_contact(tenant, actor, contact)
        count += 1
    return count


def _related_finder(model_name: str):
    def find_related(tenant, identity: Identity, found: Found) -> list[str]:
        model = apps.get_model("crm", model_name)
        if not found.contact_ids:
            return []
        return [
            str(pk)
            for pk in model.objects.for_tenant(tenant)
            .filter(contact_id__in=found.contact_ids)
            .values_list("pk", flat=True)
        ]

    return find_related


def _export_related(model_name: str, filename: str, fields: tuple[str, ...]):
    def export_related(tenant, ids) -> dict[str, bytes]:
        model = apps.get_model("crm", model_name)
        rows = [
            {"id": str(obj.pk), **{f: getattr(obj, f) for f in fields}, "created_at": obj.created_at}
            for obj in model.objects.for_tenant(tenant).filter(pk__in=ids)
        ]
        return {filename: as_json(rows)}

    return export_related


def _erase_related(model_name: str, service: str):
    def erase_related(tenant, actor, ids) -> int:
        from octopushx.crm import services

        model = apps.get_model("crm", model_name)
        delete = getattr(services, service)
        count = 0
        for obj in model.objects.for_tenant(tenant).filter(pk__in=ids):
            delete(tenant, actor, obj)
            count += 1
        return count

    return erase_related


def _find_deals(tenant, identity: Identity, found: Found) -> list[str]:
    from octopushx.crm.models import Deal

    if not found.contact_ids:
        return []
    deals = Deal.objects.for_tenant(tenant).filter(contacts__in=found.contact_ids).distinct()
    return [str(pk) for pk in deals.values_list("pk", flat=True)]


def _export_deals(tenant, ids) -> dict[str, bytes]:
    from octopushx.crm.models import Deal

    rows = [
        {"id": str(d.pk), "name": d.name, "value": str(d.value), "currency": d.currency, "status": d.status,
         "created_at": d.created_at}
        for d in Deal.objects.for_tenant(tenant).filter(pk__in=ids)
    ]  # fmt: skip
    return {"deals.json": as_json(rows)}


def _unlink_deals(tenant, actor, ids) -> int:
    """Deals are the business's records: the person is unlinked, the deal stays."""
    return 0  # the contact's deletion removes its links; nothing to do per deal


def _find_audit(tenant, identity: Identity, found: Found) -> list[str]:
    from octopushx.core.models import AuditEntry

    object_ids = list(found.contact_ids)
    for key in ("notes", "tasks"):
        object_ids += found.items.get(key, [])
    if not object_ids:
        return []
    entries = AuditEntry.objects.filter(tenant=tenant, object_id__in=object_ids)
    return [str(pk) for pk in entries.values_list("pk", flat=True)]


def _export_audit(tenant, ids) -> dict[str, bytes]:
    from octopushx.core.models import AuditEntry

    rows = [
        {"at": e.at, "action": e.action, "object_type": e.object_type, "object_id": e.object_id,
         "changes": e.personal.changes}
        for e in AuditEntry.objects.filter(tenant=tenant, pk__in=ids).select_related("personal")
    ]  # fmt: skip
    return {"history.json": as_json(rows)}


def _erase_audit(tenant, actor, ids) -> int:
    """The entries stay (the chain must verify); their personal part becomes a pseudonym."""
    from octopushx.core import audit
    from octopushx.core.models import AuditEntry

    return audit.erase_personal(AuditEntry.objects.filter(tenant=tenant, pk__in=ids), "erased data subject")


if apps.is_installed("octopushx.crm"):
    register(
        "contacts", label="Contacts", find=_find_contacts, export=_export_contacts, erase=_erase_contacts, order=60
    )
    register("notes", label="Notes", find=_related_finder("Note"),
             export=_export_related("Note", "notes.json", ("subject", "body")),
             erase=_erase_related("Note", "delete_note"), order=10)  # fmt: skip
    register("tasks", label="Tasks", find=_related_finder("Task"),
             export=_export_related("Task", "tasks.json", ("title", "description", "status", "due_at")),
             erase=_erase_related("Task", "delete_task"), order=10)  # fmt: skip
    register("deals", label="Deals (the person is unlinked)", find=_find_deals, export=_export_deals,
             erase=_unlink_deals, order=20)  # fmt: skip


def _find_past_requests(tenant, identity: Identity, found: Found) -> list[str]:
    """Earlier requests by the same person: their archives and identifiers go with the rest."""
    from django.db.models import Q

    from octopushx.shield.privacy.models import PrivacyRequest

    query = Q(pk__in=[])
    if identity.email:
        query |= Q(email__iexact=identity.email)
    if identity.phone:
        query |= Q(phone=identity.phone)
    if identity.contact_id:
        query |= Q(contact_ref=identity.contact_id)
    return [str(pk) for pk in PrivacyRequest.objects.for_tenant(tenant).filter(query).values_list("pk", flat=True)]


def _erase_past_requests(tenant, actor, ids) -> int:
    import hashlib

    from octopushx.core import blobs
    from octopushx.shield.privacy.models import PrivacyRequest

    def pseudonym(value: str) -> str:
        return f"erased:{hashlib.sha256(value.encode()).hexdigest()[:12]}" if value else ""

    count = 0
    for request in PrivacyRequest.objects.for_tenant(tenant).filter(pk__in=ids).select_related("result_blob"):
        if request.result_blob is not None:
            blobs.delete(request.result_blob)
            request.result_blob, request.download_hash = None, ""
        request.email, request.phone = pseudonym(request.email), pseudonym(request.phone)
        request.details, request.changes = "", {}
        request.save()
        count += 1
    return count


register("privacy_requests", label="Earlier privacy requests (archives deleted)", find=_find_past_requests,
         export=lambda tenant, ids: {}, erase=_erase_past_requests, order=90)  # fmt: skip
# Last: after every deletion above wrote its own audit entry, so those are pseudonymised too.
register("audit", label="Audit entries (pseudonymised)", find=_find_audit, export=_export_audit,
         erase=_erase_audit, order=99)  # fmt: skip
