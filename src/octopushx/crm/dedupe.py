"""Duplicate contacts: detection (same email, same E.164 phone, similar name at the same
company) and merge that keeps everything of both, audited, with undo."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from rapidfuzz import fuzz

from octopushx.core import audit, events
from octopushx.core.context import Actor
from octopushx.crm.models import Contact, ContactEmail, ContactPhone, Merge, Note, Task
from octopushx.crm.services import contact_snapshot
from octopushx.crm.visibility import visible

NAME_SIMILARITY = 88
SCALARS = (
    "first_name",
    "last_name",
    "job_title",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    "preferred_language",
    "external_id",
    "lawful_basis",
    "consent_at",
)


@dataclass
class Pair:
    first: Contact
    second: Contact
    reason: str
    score: int


def _name(contact: Contact) -> str:
    return f"{contact.first_name} {contact.last_name}".strip().lower()


def candidates(contact: Contact, qs) -> list[tuple[Contact, str]]:
    """Likely duplicates of one contact (used on create), with the reason, among ``qs``: the
    contacts the member sees (there is no tenant-wide default, so a suggestion never names a
    contact the member may not see)."""
    tenant_id = contact.tenant_id
    qs = qs.exclude(pk=contact.pk)
    found: dict = {}
    emails = [e.email for e in contact.emails.all()]
    if emails:
        ids = ContactEmail.objects.filter(tenant_id=tenant_id, email__in=emails).values("contact_id")
        for other in qs.filter(pk__in=ids)[:20]:
            found.setdefault(other.pk, (other, "same email"))
    phones = [p.number for p in contact.phones.all()]
    if phones:
        ids = ContactPhone.objects.filter(tenant_id=tenant_id, number__in=phones).values("contact_id")
        for other in qs.filter(pk__in=ids)[:20]:
            found.setdefault(other.pk, (other, "same phone"))
    if contact.company_id and _name(contact):
        for other in qs.filter(company_id=contact.company_id)[:500]:
            if other.pk not in found and fuzz.token_sort_ratio(_name(contact), _name(other)) >= NAME_SIMILARITY:
                found[other.pk] = (other, "similar name at the same company")
    return list(found.values())


def find(tenant, membership, limit: int = 100) -> list[Pair]:
    """Likely duplicate pairs among the contacts the member sees, strongest evidence first."""
    contacts = visible(Contact, tenant, membership)
    pairs: dict[tuple, Pair] = {}

    def add(ids: list, reason: str, score: int) -> None:
        rows = {c.pk: c for c in contacts.filter(pk__in=ids).select_related("company")}
        for a, b in combinations(sorted(rows, key=str), 2):
            key = (a, b)
            if key not in pairs and len(pairs) < limit:
                pairs[key] = Pair(rows[a], rows[b], reason, score)

    for model, column, reason in ((ContactEmail, "email", "same email"), (ContactPhone, "number", "same phone")):
        shared = (
            model.objects.filter(tenant=tenant, contact__in=contacts)
            .values(column)
            .annotate(n=Count("contact_id", distinct=True))
            .filter(n__gt=1)
            .values_list(column, flat=True)[:limit]
        )
        for value in shared:
            ids = list(model.objects.filter(tenant=tenant, **{column: value}).values_list("contact_id", flat=True))
            add(ids, reason, 100)
    companies = (
        contacts.exclude(company=None)
        .values("company_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values_list("company_id", flat=True)[:500]
    )
    for company_id in companies:
        people = list(contacts.filter(company_id=company_id).select_related("company")[:200])
        for a, b in combinations(people, 2):
            if len(pairs) >= limit:
                break
            score = fuzz.token_sort_ratio(_name(a), _name(b))
            key = tuple(sorted((a.pk, b.pk), key=str))
            if score >= NAME_SIMILARITY and key not in pairs and _name(a):
                pairs[key] = Pair(a, b, "similar name at the same company", int(score))
    return sorted(pairs.values(), key=lambda p: -p.score)


def _fields(contact: Contact) -> dict:
    data = {name: getattr(contact, name) for name in SCALARS}
    data["consent_at"] = contact.consent_at.isoformat() if contact.consent_at else None
    data.update(
        company_id=str(contact.company_id) if contact.company_id else None,
        owner_id=str(contact.owner_id) if contact.owner_id else None,
        lifecycle_stage=contact.lifecycle_stage,
        lead_status=contact.lead_status,
        consent=contact.consent,
        restricted=contact.restricted,
        custom=dict(contact.custom),
        merged_ids=list(contact.merged_ids),
        tags=[str(t.pk) for t in contact.tags.all()],
        created_at=contact.created_at.isoformat(),
        email=contact.email,
        phone=contact.phone,
    )
    return data


def merge(tenant, actor: Actor, keep: Contact, remove: Contact) -> Merge:
    """Fold ``remove`` into ``keep``: every email, phone, tag, note, task, deal, call and timeline
    entry ends up on ``keep``; blank fields of ``keep`` are filled from ``remove``."""
    if keep.pk == remove.pk:
        raise ValidationError({"remove_id": ["Choose two different contacts"]})
    if keep.tenant_id != tenant.pk or remove.tenant_id != tenant.pk:
        raise ValidationError({"remove_id": ["Both contacts must belong to this organisation"]})
    old_keep = contact_snapshot(keep)
    with transaction.atomic():
        record = Merge(
            tenant=tenant,
            kept=keep,
            removed_id=remove.pk,
            removed=_fields(remove),
            kept_before=_fields(keep),
            actor=actor.user,
        )
        moved: dict[str, list[str]] = {}
        keep_emails = set(keep.emails.values_list("email", flat=True))
        moved_emails = [e for e in remove.emails.all() if e.email not in keep_emails]
        record.removed["emails"] = [[e.email, e.label, e.is_primary] for e in remove.emails.all()]
        record.removed["phones"] = [[p.number, p.label, p.is_primary] for p in remove.phones.all()]
        ContactEmail.objects.filter(pk__in=[e.pk for e in moved_emails]).update(contact=keep, is_primary=False)
        moved["emails"] = [str(e.pk) for e in moved_emails]
        keep_phones = set(keep.phones.values_list("number", flat=True))
        moved_phones = [p for p in remove.phones.all() if p.number not in keep_phones]
        ContactPhone.objects.filter(pk__in=[p.pk for p in moved_phones]).update(contact=keep, is_primary=False)
        moved["phones"] = [str(p.pk) for p in moved_phones]
        moved["notes"] = [
            str(pk) for pk in Note.objects.filter(tenant=tenant, contact=remove).values_list("pk", flat=True)
        ]
        Note.objects.filter(tenant=tenant, contact=remove).update(contact=keep)
        moved["tasks"] = [
            str(pk) for pk in Task.objects.filter(tenant=tenant, contact=remove).values_list("pk", flat=True)
        ]
        Task.objects.filter(tenant=tenant, contact=remove).update(contact=keep)
        deals = list(remove.deals.all())
        kept_deals = set(keep.deals.values_list("pk", flat=True))
        moved["deals"] = [str(d.pk) for d in deals if d.pk not in kept_deals]
        keep.deals.add(*deals)
        new_tags = [t for t in remove.tags.all() if t not in set(keep.tags.all())]
        moved["tags"] = [str(t.pk) for t in new_tags]
        keep.tags.add(*new_tags)
        moved["calls"] = _move_calls(tenant, remove, keep)
        for name in SCALARS:
            if not getattr(keep, name) and getattr(remove, name):
                setattr(keep, name, getattr(remove, name))
        if keep.company_id is None and remove.company_id:
            keep.company_id = remove.company_id
        keep.custom = {**remove.custom, **keep.custom}
        keep.restricted = keep.restricted or remove.restricted
        keep.merged_ids = [*keep.merged_ids, str(remove.pk), *remove.merged_ids]
        if not keep.email and moved_emails:
            keep.email = moved_emails[0].email
        if not keep.phone and moved_phones:
            keep.phone = moved_phones[0].number
        keep.save()
        record.moved = moved
        record.save()
        removed_id = str(remove.pk)
        remove.delete()
        keep.refresh_from_db()
        audit.record(
            tenant,
            actor,
            "contact.merged",
            obj=keep,
            changes={**audit.diff(old_keep, contact_snapshot(keep)), "merged_from": [removed_id, None]},
        )
        events.emit(tenant, "contact.merged", {"contact_id": str(keep.pk), "merged_id": removed_id})
    return record


def _move_calls(tenant, remove: Contact, keep: Contact) -> list[str]:
    """Calls of the calls product follow the contact, when that product links calls to contacts."""
    from django.apps import apps

    try:
        call_model = apps.get_model("calls", "Call")
    except LookupError:
        return []
    if "contact" not in {f.name for f in call_model._meta.get_fields()}:
        return []
    ids = [str(pk) for pk in call_model.objects.filter(tenant=tenant, contact=remove).values_list("pk", flat=True)]
    call_model.objects.filter(tenant=tenant, contact=remove).update(contact=keep)
    return ids


def undo(tenant, actor: Actor, record: Merge) -> Contact:
    """Recreate the removed contact with its id and give back what moved; the kept one is restored."""
    if record.undone_at is not None:
        raise ValidationError({"merge": ["This merge was already undone"]})
    if Contact.objects.filter(pk=record.removed_id).exists():
        raise ValidationError({"merge": ["The removed contact exists again"]})
    keep = record.kept
    data = record.removed
    with transaction.atomic():
        restored = Contact(
            pk=record.removed_id,
            tenant=tenant,
            **{name: data.get(name) or ("" if name not in ("consent_at",) else None) for name in SCALARS},
        )
        restored.consent_at = data.get("consent_at")
        restored.company_id = data.get("company_id")
        restored.owner_id = data.get("owner_id")
        restored.lifecycle_stage, restored.lead_status = data["lifecycle_stage"], data["lead_status"]
        restored.consent, restored.restricted = data["consent"], data["restricted"]
        restored.custom, restored.merged_ids = data["custom"], data["merged_ids"]
        restored.email, restored.phone = data["email"], data["phone"]
        restored.save()
        Contact.objects.filter(pk=restored.pk).update(created_at=data["created_at"])
        restored.tags.set(data["tags"])
        moved = record.moved
        ContactEmail.objects.filter(pk__in=moved.get("emails", [])).delete()
        ContactPhone.objects.filter(pk__in=moved.get("phones", [])).delete()
        ContactEmail.objects.bulk_create(
            [
                ContactEmail(tenant=tenant, contact=restored, email=e, label=label, is_primary=primary)
                for e, label, primary in data["emails"]
            ]
        )
        ContactPhone.objects.bulk_create(
            [
                ContactPhone(tenant=tenant, contact=restored, number=n, label=label, is_primary=primary)
                for n, label, primary in data["phones"]
            ]
        )
        Note.objects.filter(tenant=tenant, pk__in=moved.get("notes", [])).update(contact=restored)
        Task.objects.filter(tenant=tenant, pk__in=moved.get("tasks", [])).update(contact=restored)
        for deal in keep.deals.filter(pk__in=moved.get("deals", [])):
            deal.contacts.remove(keep)
            deal.contacts.add(restored)
        keep.tags.remove(*moved.get("tags", []))
        before = record.kept_before
        for name in SCALARS:
            setattr(keep, name, before.get(name) if name != "consent_at" else before.get(name))
        keep.company_id, keep.custom, keep.restricted = before["company_id"], before["custom"], before["restricted"]
        keep.merged_ids, keep.email, keep.phone = before["merged_ids"], before["email"], before["phone"]
        keep.save()
        if moved.get("calls"):
            from django.apps import apps

            apps.get_model("calls", "Call").objects.filter(tenant=tenant, pk__in=moved["calls"]).update(
                contact=restored
            )
        record.undone_at = timezone.now()
        record.save(update_fields=["undone_at", "updated_at"])
        audit.record(tenant, actor, "contact.merge_undone", obj=keep, changes={"restored": [None, str(restored.pk)]})
        events.emit(tenant, "contact.merge_undone", {"contact_id": str(keep.pk), "restored_id": str(restored.pk)})
    return restored
