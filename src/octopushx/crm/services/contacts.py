"""Contacts with their emails and E.164 phone numbers: validate, create, change, delete."""

from __future__ import annotations

import re

from django.db import transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone

from octopushx.core import audit, events, memo
from octopushx.core.context import Actor
from octopushx.crm import fields as rules
from octopushx.crm.models import (
    Company,
    Consent,
    Contact,
    ContactEmail,
    ContactPhone,
    LawfulBasis,
    LeadStatus,
    Lifecycle,
    ObjectType,
)
from octopushx.crm.services._shared import (
    CONTACT_TEXT,
    _choice,
    _custom,
    _id,
    _iso,
    _owner,
    _raise,
    _ref,
    _tags,
    _text,
    _uuid_or_none,
    row_key,
)

# --- contacts ----------------------------------------------------------------------


def contact_snapshot(contact: Contact) -> dict:
    data = {name: getattr(contact, name) for name in CONTACT_TEXT}
    data.update(
        emails=[e.email for e in contact.emails.all()] if contact.pk else [],
        phones=[p.number for p in contact.phones.all()] if contact.pk else [],
        company=_id(contact.company_id),
        owner=_id(contact.owner_id),
        tags=sorted(t.name for t in contact.tags.all()) if contact.pk else [],
        lifecycle_stage=contact.lifecycle_stage,
        lead_status=contact.lead_status,
        consent=contact.consent,
        consent_at=_iso(contact.consent_at),
        lawful_basis=contact.lawful_basis,
        restricted=contact.restricted,
        custom_fields=dict(contact.custom),
        original_created_at=_iso(contact.original_created_at),
    )
    return data


def _entries(items, key: str) -> list[dict]:
    """Normalise ``["a@x"]`` or ``[{"email": "a@x", "label": "work", "primary": true}]``."""
    result = []
    for item in items or []:
        if isinstance(item, dict):
            result.append(
                {
                    "value": item.get(key) or item.get("value") or item.get("phone") or "",
                    "label": str(item.get("label") or "")[:30],
                    "primary": bool(item.get("primary") or item.get("is_primary")),
                }
            )
        elif hasattr(item, "model_dump"):
            raw = item.model_dump()
            result.append(
                {
                    "value": raw.get(key) or "",
                    "label": str(raw.get("label") or "")[:30],
                    "primary": bool(raw.get("primary")),
                }
            )
        else:
            result.append({"value": item, "label": "", "primary": False})
    return result


def _clean_points(data: dict, contact: Contact | None, kind: str, errors: dict, region: str) -> list[dict] | None:
    """Emails or phones after applying the full list and the primary shorthand."""
    plural, key = ("emails", "email") if kind == "email" else ("phones", "phone")
    value_key = "email" if kind == "email" else "number"
    clean = rules.clean_email if kind == "email" else (lambda v: rules.clean_phone(v, region))
    if plural not in data and key not in data:
        return None
    if plural in data and data[plural] is not None:
        if not isinstance(data[plural], (list, tuple)):
            errors[plural] = [f"A list of {plural}"]
            return None
        entries = _entries(data[plural], value_key)
    elif contact is not None:
        entries = [
            {"value": getattr(p, value_key), "label": p.label, "primary": p.is_primary}
            for p in (contact.emails.all() if kind == "email" else contact.phones.all())
        ]
    else:
        entries = []
    cleaned: list[dict] = []
    for index, entry in enumerate(entries):
        try:
            entry["value"] = clean(entry["value"])
        except ValueError as exc:
            errors[f"{plural}.{index}"] = [str(exc)]
            continue
        cleaned.append(entry)
    shorthand = data.get(key)
    if key in data:
        if plural not in data or data.get(plural) is None:
            # The shorthand replaces the primary one and keeps the others.
            cleaned = [e for e in cleaned if not e["primary"]] if cleaned else []
            if cleaned and not any(e["primary"] for e in entries):
                cleaned = cleaned[1:]
        if shorthand not in (None, ""):
            try:
                value = clean(shorthand)
            except ValueError as exc:
                errors[key] = [str(exc)]
                return None
            cleaned = [e for e in cleaned if e["value"] != value]
            for e in cleaned:
                e["primary"] = False
            cleaned.insert(0, {"value": value, "label": "", "primary": True})
    seen, unique = set(), []
    for entry in cleaned:
        if entry["value"] not in seen:
            seen.add(entry["value"])
            unique.append(entry)
    if unique and not any(e["primary"] for e in unique):
        unique[0]["primary"] = True
    primary_seen = False
    for entry in unique:
        entry["primary"] = entry["primary"] and not primary_seen
        primary_seen = primary_seen or entry["primary"]
    unique.sort(key=lambda e: not e["primary"])
    return unique


def clean_contact(tenant, actor: Actor, data: dict, contact: Contact | None = None) -> dict:
    """Validate contact input; returns the values to write (raises ValidationError)."""
    errors: dict = {}
    values: dict = {}
    partial = contact is not None
    for name in CONTACT_TEXT:
        if not partial or name in data:
            values[name] = _text(data, name, errors, 200 if name == "street" else 100)
    if "country" in values:
        values["country"] = values["country"].upper()
        if values["country"] and not re.match(r"^[A-Z]{2}$", values["country"]):
            errors["country"] = ["A two-letter country code such as GB"]
    for name, choices in (
        ("lifecycle_stage", Lifecycle),
        ("lead_status", LeadStatus),
        ("consent", Consent),
        ("lawful_basis", LawfulBasis),
    ):
        if name in data and data[name] is not None:
            values[name] = _choice(data, name, choices, errors)
    # original_created_at: when the record was made in the system it came from (an import's "Create Date").
    for name in ("consent_at", "original_created_at"):
        if name in data:
            values[name] = data[name] or None
            if isinstance(values[name], str):
                from django.utils.dateparse import parse_datetime

                parsed = parse_datetime(values[name])
                if parsed is None:
                    errors[name] = ["A date and time such as 2026-01-31T12:00:00Z"]
                values[name] = parsed
    if "restricted" in data and data["restricted"] is not None:
        try:
            values["restricted"] = rules.clean_bool(data["restricted"])
        except ValueError as exc:
            errors["restricted"] = [str(exc)]
    if "company_id" in data:
        values["company"] = _ref(Company, tenant, actor, data["company_id"], "company_id", errors)
    if "owner_id" in data:
        values["owner"] = _owner(tenant, data["owner_id"], errors)
    elif not partial and actor.user is not None:
        values["owner"] = actor.user
    emails = _clean_points(data, contact, "email", errors, tenant.default_region)
    phones = _clean_points(data, contact, "phone", errors, tenant.default_region)
    custom = _custom(tenant, ObjectType.CONTACT, data, errors, contact.custom if contact else None, partial)
    if custom is not None:
        values["custom"] = custom
    tags = _tags(tenant, data.get("tags"), errors) if "tags" in data else None
    if not partial:
        named = values.get("first_name") or values.get("last_name") or emails or phones
        if not named and not errors:
            errors["first_name"] = ["Give at least a name, an email or a phone number"]
    _raise(errors)
    return {"values": values, "emails": emails, "phones": phones, "tags": tags}


def _known(contact: Contact, name: str, rows) -> None:
    """Remember ``rows`` as the contact's ``name`` relation (as ``prefetch_related`` would), so that
    the audit snapshot and the API answer that follow a write do not read back what it just wrote."""
    cache = contact.__dict__.setdefault("_prefetched_objects_cache", {})
    cache.pop(name, None)
    qs = getattr(contact, name).get_queryset()
    qs._result_cache = list(rows)
    qs._prefetch_done = True
    cache[name] = qs


def _hand_over(contact: Contact) -> Contact:
    """Move the relations kept by ``_known`` aside once the write is done, as ``written_relations``:
    a caller that reads ``contact.tags.all()`` later reads the database, not a cache from before its
    own changes, while the API answer (``crm.api``) can use what it knows is current."""
    contact.written_relations = contact.__dict__.pop("_prefetched_objects_cache", {})
    return contact


def _write_points(
    tenant, contact: Contact, emails: list[dict] | None, phones: list[dict] | None, new: bool = False
) -> None:
    if emails is not None:
        if not new:
            ContactEmail.objects.filter(contact=contact).delete()
        written = ContactEmail.objects.bulk_create(
            [
                ContactEmail(
                    tenant=tenant, contact=contact, email=e["value"], label=e["label"], is_primary=e["primary"]
                )
                for e in emails
            ]
        )
        _known(contact, "emails", sorted(written, key=lambda e: not e.is_primary))  # the model's order
        contact.email = emails[0]["value"] if emails else ""
    if phones is not None:
        if not new:
            ContactPhone.objects.filter(contact=contact).delete()
        written = ContactPhone.objects.bulk_create(
            [
                ContactPhone(
                    tenant=tenant, contact=contact, number=p["value"], label=p["label"], is_primary=p["primary"]
                )
                for p in phones
            ]
        )
        _known(contact, "phones", sorted(written, key=lambda p: not p.is_primary))
        contact.phone = phones[0]["value"] if phones else ""


def _set_tags(contact: Contact, tags: list | None, new: bool = False) -> None:
    if tags is not None:
        if tags or not new:
            contact.tags.set(tags)
        _known(contact, "tags", sorted(tags, key=lambda tag: tag.name))


def create_contact(tenant, actor: Actor, data: dict) -> Contact:
    """Create a contact from full lists or the ``first_name/last_name/email/phone`` shorthand."""
    cleaned = clean_contact(tenant, actor, data)
    with transaction.atomic():
        emails, phones = cleaned["emails"] or [], cleaned["phones"] or []
        contact = Contact(tenant=tenant, **cleaned["values"])
        contact.email = emails[0]["value"] if emails else ""  # the primary ones, as _write_points sets them
        contact.phone = phones[0]["value"] if phones else ""
        contact.save()
        _write_points(tenant, contact, emails, phones, new=True)
        _set_tags(contact, cleaned["tags"] or [], new=True)
        audit.record(tenant, actor, "contact.created", obj=contact, changes=audit.diff({}, contact_snapshot(contact)))
        # ``restricted`` lets workflows and webhooks honour a restriction of processing.
        events.emit(
            tenant,
            "contact.created",
            {"contact_id": str(contact.pk), "restricted": contact.restricted},
            subject=contact,
        )
    return _hand_over(contact)


def update_contact(tenant, actor: Actor, contact: Contact, data: dict) -> Contact:
    """Partial update: only the keys present in ``data`` change."""
    prefetch_related_objects([contact], "emails", "phones", "tags")  # read once, kept up to date below
    cleaned = clean_contact(tenant, actor, data, contact)
    old = contact_snapshot(contact)
    with transaction.atomic():
        for name, value in cleaned["values"].items():
            setattr(contact, name, value)
        _write_points(tenant, contact, cleaned["emails"], cleaned["phones"])
        contact.save()
        _set_tags(contact, cleaned["tags"])
        changes = audit.diff(old, contact_snapshot(contact))
        if changes:
            audit.record(tenant, actor, "contact.updated", obj=contact, changes=changes)
            events.emit(
                tenant,
                "contact.updated",
                {"contact_id": str(contact.pk), "fields": sorted(changes), "restricted": contact.restricted},
                subject=contact,
            )
    return _hand_over(contact)


def change_tags(tenant, actor: Actor, contact_id, *, add=(), remove=()) -> tuple[list[str], bool]:
    """Add and remove tags on one contact, reading and writing only its tags (a workflow tags
    thousands of contacts). Returns the contact's tags afterwards, sorted, and whether they changed."""
    pk = _uuid_or_none(contact_id)
    contact = (
        memo.remember(row_key(Contact, tenant, pk), lambda: Contact.objects.for_tenant(tenant).filter(pk=pk).first())
        if pk
        else None
    )
    if contact is None:
        raise Contact.DoesNotExist("Contact matching query does not exist.")
    current = {name.lower(): (pk, name) for pk, name in contact.tags.values_list("pk", "name")}
    before = sorted(name for _, name in current.values())
    errors: dict = {}
    adding = _tags(tenant, [n for n in add if str(n).strip().lower() not in current], errors) or []
    _raise(errors)
    removing = [current[n.strip().lower()][0] for n in remove if n.strip().lower() in current]
    if not adding and not removing:
        return before, False
    after = sorted([name for pk, name in current.values() if pk not in removing] + [t.name for t in adding])
    # No savepoint of its own: a workflow step calls this inside the step's transaction, which undoes
    # it all when anything here fails (two statements fewer for each contact a workflow tags).
    with transaction.atomic(savepoint=False):
        if adding:
            contact.tags.add(*adding)
        if removing:
            contact.tags.remove(*removing)
        Contact.objects.filter(pk=contact.pk).update(updated_at=timezone.now())
        audit.record(tenant, actor, "contact.updated", obj=contact, changes={"tags": [before, after]})
        events.emit(
            tenant,
            "contact.updated",
            {"contact_id": str(contact.pk), "fields": ["tags"], "restricted": contact.restricted},
        )
    return after, True


def delete_contact(tenant, actor: Actor, contact: Contact) -> None:
    with transaction.atomic():
        audit.record(tenant, actor, "contact.deleted", obj=contact, changes=audit.diff(contact_snapshot(contact), {}))
        events.emit(tenant, "contact.deleted", {"contact_id": str(contact.pk)})
        contact.delete()
