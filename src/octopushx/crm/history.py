"""A record's audit entries told as sentences people read: "Moved from Proposal to Won",
"Linked to Amelia Baker (Silver Print)", "Company set to Silver Print".

The audit trail keeps ids and codes (the truth, hash-chained); this module turns them into names
and labels when a timeline is shown. Ids are looked up once per timeline, in a few queries.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from octopushx.crm import fields as rules
from octopushx.crm.models import (
    Company,
    Consent,
    Contact,
    CustomField,
    LawfulBasis,
    LeadStatus,
    Lifecycle,
    Pipeline,
    Stage,
    StageKind,
)

LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "job_title": "Job title",
    "preferred_language": "Preferred language",
    "external_id": "External id",
    "postal_code": "Postcode",
    "lifecycle_stage": "Lifecycle",
    "lead_status": "Lead status",
    "lawful_basis": "Lawful basis",
    "consent_at": "Consent recorded",
    "original_created_at": "Created in the source system",
    "expected_close": "Expected close",
    "close_reason": "Won / lost reason",
    "restricted": "Restricted processing",
}
CHOICES = {
    "lifecycle_stage": dict(Lifecycle.choices),
    "lead_status": dict(LeadStatus.choices),
    "consent": dict(Consent.choices),
    "lawful_basis": dict(LawfulBasis.choices),
    "status": dict(StageKind.choices),
}
# References: field -> the model its ids point to.
REFERENCES = {"company": Company, "pipeline": Pipeline, "stage": Stage}
# Lists told item by item: field -> (one item's label, how a value is shown).
LISTS = {"emails": "Email", "phones": "Phone", "tags": "Tag"}
# Derived from another field's change, which already says it: a stage move sets the status.
DERIVED = {"status"}
VERBS = {
    "created": "created",
    "updated": "edited",
    "deleted": "deleted",
    "exported": "downloaded",
    "merge_undone": "merge undone",
    "merged": "merged",
}


def label(field: str) -> str:
    return LABELS.get(field) or field.replace("_", " ").capitalize()


def title(object_type: str, action: str) -> str:
    """``"Contact edited"`` for ``contact.updated``."""
    verb = action.split(".", 1)[-1]
    return f"{object_type.capitalize()} {VERBS.get(verb, verb.replace('_', ' '))}"


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _as_uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


GONE = {"owner": "a former member", "contacts": "a deleted contact", "company": "a deleted company"}


class Names:
    """Names for the ids found in a batch of audit changes, read in one query per kind."""

    def __init__(self, tenant, changes: list[dict]):
        self.tenant = tenant
        wanted: dict[str, set] = {
            "company": set(),
            "pipeline": set(),
            "stage": set(),
            "owner": set(),
            "contacts": set(),
        }
        for change in changes:
            for field, pair in (change or {}).items():
                if field not in wanted or not isinstance(pair, (list, tuple)):
                    continue
                for value in pair:
                    for item in value if isinstance(value, list) else [value]:
                        if (pk := _as_uuid(item)) is not None:
                            wanted[field].add(pk)
        self.names: dict[str, dict[str, str]] = {}
        for field, model in REFERENCES.items():
            rows = model.objects.filter(tenant=tenant, pk__in=wanted[field]).values_list("pk", "name")
            self.names[field] = {str(pk): name for pk, name in rows}
        users = get_user_model().objects.filter(pk__in=wanted["owner"], memberships__tenant=tenant)
        self.names["owner"] = {str(u.pk): str(u) for u in users}
        contacts = Contact.objects.filter(tenant=tenant, pk__in=wanted["contacts"]).select_related("company")
        self.names["contacts"] = {
            str(c.pk): f"{c.full_name} ({c.company.name})" if c.company_id else c.full_name for c in contacts
        }

    def of(self, field: str, value) -> str:
        return self.names.get(field, {}).get(str(value)) or GONE.get(field, f"a deleted {field}")


def _moment(value: str) -> str:
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value).strftime("%-d %b %Y")
        except ValueError:
            return value
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return moment.strftime("%-d %b %Y %H:%M")


def _shown(field: str, value, names: Names, context: dict) -> str:
    """One value as a person reads it."""
    if field in REFERENCES or field == "owner" or _as_uuid(value) is not None:
        return names.of(field, value)  # an id is only ever shown as a name, this tenant's only
    if field in CHOICES:
        return CHOICES[field].get(value, str(value))
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if field in ("expected_close", "consent_at", "original_created_at"):
        return _moment(value)
    if field == "value":
        try:
            amount = f"{Decimal(str(value)):,.2f}".removesuffix(".00")
        except InvalidOperation:
            amount = str(value)
        currency = context.get("currency")
        return f"{amount} {currency}" if currency else amount
    if field in ("phone", "phones"):
        return rules.display_phone(str(value))
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _sentence(name: str, old: str | None, new: str | None) -> str:
    if old is None:
        return f"{name} set to {new}"
    if new is None:
        return f"{name} cleared (was {old})"
    return f"{name} changed from {old} to {new}"


# What a new record holds when nobody said anything: not worth a line in its "created" entry.
UNSAID = {"consent": Consent.UNKNOWN, "restricted": False}
# Said already by the record a "created" entry is about (its name).
SAID = {"name"}


def sentences(
    changes: dict, names: Names, *, custom_labels: dict[str, str], context: dict, created: bool = False
) -> list[str]:
    """``{field: [old, new]}`` as sentences; empty values and derived fields say nothing."""
    lines: list[str] = []
    # In field order: PostgreSQL's jsonb keeps no insertion order, so the same change reads the same on both.
    for field, pair in sorted((changes or {}).items()):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2 or field in DERIVED:
            continue
        old, new = pair
        if created and (field in SAID or field in UNSAID and new == UNSAID[field]):
            continue
        if created and field == "currency" and context.get("currency"):
            continue  # the value's line says it: "Value set to 1,200 EUR"
        if field == "stage":
            if not _empty(old) and not _empty(new):
                lines.append(f"Moved from {_shown(field, old, names, context)} to {_shown(field, new, names, context)}")
            elif not _empty(new):
                lines.append(f"Stage set to {_shown(field, new, names, context)}")
            continue
        if field == "contacts":
            before, after = set(old or []), set(new or [])
            lines += [f"Linked to {names.of('contacts', pk)}" for pk in new or [] if pk not in before]
            lines += [f"Unlinked from {names.of('contacts', pk)}" for pk in old or [] if pk not in after]
            continue
        if field in LISTS:
            before, after = list(old or []), list(new or [])
            item = LISTS[field]
            lines += [f"{item} added: {_shown(field, v, names, context)}" for v in after if v not in before]
            lines += [f"{item} removed: {_shown(field, v, names, context)}" for v in before if v not in after]
            continue
        if field == "custom_fields":
            old, new = old or {}, new or {}
            for key in sorted(set(old) | set(new)):
                if old.get(key) == new.get(key):
                    continue
                name = custom_labels.get(key) or label(key)
                was = None if _empty(old.get(key)) else _shown(key, old.get(key), names, context)
                now = None if _empty(new.get(key)) else _shown(key, new.get(key), names, context)
                if was is not None or now is not None:
                    lines.append(_sentence(name, was, now))
            continue
        was = None if _empty(old) else _shown(field, old, names, context)
        now = None if _empty(new) else _shown(field, new, names, context)
        if was is None and now is None:
            continue
        lines.append(_sentence(label(field), was, now))
    return lines


def custom_labels(tenant, object_type: str) -> dict[str, str]:
    return dict(CustomField.objects.for_tenant(tenant).filter(object_type=object_type).values_list("key", "label"))
