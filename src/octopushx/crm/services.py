"""CRM operations shared by the API, the web UI, imports and jobs.

Each function takes ``(tenant, actor, ...)``, validates (``ValidationError`` keyed by
field), writes in one transaction, records an audit entry with the changed fields and
emits a domain event carrying ids only.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from octopushx.core import audit, events
from octopushx.core.context import Actor
from octopushx.crm import fields as rules
from octopushx.crm.models import (
    Company,
    Consent,
    Contact,
    ContactEmail,
    ContactPhone,
    CrmSettings,
    CustomField,
    Deal,
    FieldType,
    LawfulBasis,
    LeadStatus,
    Lifecycle,
    Note,
    NoteKind,
    ObjectType,
    Pipeline,
    SavedView,
    Stage,
    StageKind,
    Tag,
    Task,
    TaskStatus,
    Visibility,
)
from octopushx.crm.visibility import crm_settings, visible
from octopushx.tenancy.models import Membership

CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_VALUE = Decimal("999999999999.99")
ADDRESS_FIELDS = ("street", "city", "region", "postal_code", "country")
CONTACT_TEXT = ("first_name", "last_name", "job_title", "preferred_language", "external_id", *ADDRESS_FIELDS)
COMPANY_TEXT = ("name", "domain", "industry", "size", "external_id", *ADDRESS_FIELDS)
DEFAULT_STAGES = [
    ("New", 10, StageKind.OPEN),
    ("Qualified", 25, StageKind.OPEN),
    ("Proposal", 50, StageKind.OPEN),
    ("Negotiation", 75, StageKind.OPEN),
    ("Won", 100, StageKind.WON),
    ("Lost", 0, StageKind.LOST),
]


# --- shared helpers ----------------------------------------------------------------


def _text(data: dict, name: str, errors: dict, limit: int) -> str:
    value = data.get(name)
    text = "" if value is None else str(value).strip()
    if len(text) > limit:
        errors[name] = [f"At most {limit} characters"]
    return text


def _choice(data: dict, name: str, choices, errors: dict) -> str:
    value = data.get(name)
    value = "" if value is None else str(value).strip()
    if value not in choices.values:
        errors[name] = [f"{value!r} is not one of: {', '.join(v for v in choices.values if v)}"]
    return value


def _owner(tenant, value, errors: dict, field: str = "owner_id"):
    if value in (None, ""):
        return None
    membership = (
        Membership.objects.filter(tenant=tenant, user_id=_uuid_or_none(value)).select_related("user").first()
        if _uuid_or_none(value)
        else None
    )
    if membership is None:
        errors[field] = ["No member of this organisation with that id"]
        return None
    return membership.user


def _uuid_or_none(value):
    import uuid

    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


def membership_of(tenant, actor: Actor) -> Membership | None:
    if actor is None or actor.user is None:
        return None
    return Membership.objects.filter(tenant=tenant, user=actor.user).select_related("tenant").first()


def _ref(model, tenant, actor: Actor, value, field: str, errors: dict):
    """A referenced row of this tenant that the actor may see; a field error otherwise."""
    if value in (None, ""):
        return None
    pk = _uuid_or_none(value)
    qs = model.objects.for_tenant(tenant)
    if actor is not None and actor.user is not None:
        qs = visible(model, tenant, membership_of(tenant, actor))
    row = qs.filter(pk=pk).first() if pk else None
    if row is None:
        errors[field] = [f"No {model._meta.verbose_name} with that id"]
    return row


def _tags(tenant, names, errors: dict) -> list[Tag] | None:
    if names is None:
        return None
    if isinstance(names, str):
        names = [n for n in re.split(r"[;,]", names)]
    cleaned = []
    for name in names:
        name = str(name).strip()
        if not name:
            continue
        if len(name) > 60:
            errors["tags"] = ["A tag has at most 60 characters"]
            return None
        if name.lower() not in {c.lower() for c in cleaned}:
            cleaned.append(name)
    return get_or_create_tags(tenant, cleaned)


def get_or_create_tags(tenant, names: list[str]) -> list[Tag]:
    existing = {t.name.lower(): t for t in Tag.objects.for_tenant(tenant).filter(name__in=names)}
    for t in Tag.objects.for_tenant(tenant).exclude(name__in=names):
        if t.name.lower() in {n.lower() for n in names}:
            existing[t.name.lower()] = t
    result = []
    for name in names:
        tag = existing.get(name.lower())
        if tag is None:
            tag = Tag.objects.create(tenant=tenant, name=name)
            existing[name.lower()] = tag
        result.append(tag)
    return result


def custom_definitions(tenant, object_type: str) -> dict[str, CustomField]:
    return {f.key: f for f in CustomField.objects.for_tenant(tenant).filter(object_type=object_type)}


def _custom(tenant, object_type: str, data: dict, errors: dict, existing: dict | None, partial: bool) -> dict | None:
    if "custom_fields" not in data:
        if partial:
            return None
        data = {**data, "custom_fields": {}}
    try:
        return rules.clean_custom(
            custom_definitions(tenant, object_type),
            data["custom_fields"],
            region=tenant.default_region,
            partial=partial,
            existing=existing,
        )
    except ValidationError as exc:
        errors.update(exc.message_dict)
        return None


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


def _id(value) -> str | None:
    return str(value) if value else None


def _iso(value) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


# --- settings ----------------------------------------------------------------------


def update_settings(tenant, actor: Actor, **values) -> CrmSettings:
    """Change the tenant's CRM policy (agent visibility, default currency)."""
    current = crm_settings(tenant)
    errors: dict = {}
    old = {"agent_visibility": current.agent_visibility, "default_currency": current.default_currency}
    if "agent_visibility" in values:
        current.agent_visibility = _choice(values, "agent_visibility", Visibility, errors)
    if "default_currency" in values:
        currency = str(values["default_currency"] or "").upper()
        if not CURRENCY.match(currency):
            errors["default_currency"] = ["A three-letter currency code such as GBP"]
        current.default_currency = currency
    _raise(errors)
    with transaction.atomic():
        current.save()
        new = {"agent_visibility": current.agent_visibility, "default_currency": current.default_currency}
        audit.record(tenant, actor, "crm.settings_changed", obj=current, changes=audit.diff(old, new))
    return current


# --- custom fields -----------------------------------------------------------------


def custom_field_snapshot(field: CustomField) -> dict:
    return {
        "object_type": field.object_type,
        "key": field.key,
        "label": field.label,
        "field_type": field.field_type,
        "options": list(field.options),
        "required": field.required,
        "position": field.position,
    }


def _clean_custom_field(tenant, data: dict, field: CustomField | None) -> dict:
    errors: dict = {}
    values: dict = {}
    if field is None or "object_type" in data:
        values["object_type"] = _choice(data, "object_type", ObjectType, errors)
    if field is None or "label" in data:
        values["label"] = _text(data, "label", errors, 120)
        if not values["label"]:
            errors["label"] = ["A label is required"]
    if field is None or "key" in data:
        key = str(data.get("key") or "").strip() or re.sub(r"[^a-z0-9]+", "_", str(data.get("label") or "").lower())
        key = key.strip("_")
        if not re.match(r"^[a-z][a-z0-9_]{0,59}$", key):
            errors["key"] = ["Lower-case letters, digits and underscores, starting with a letter"]
        values["key"] = key
    if field is None or "field_type" in data:
        values["field_type"] = _choice(data, "field_type", FieldType, errors)
    kind = values.get("field_type") or (field.field_type if field else "")
    if field is None or "options" in data:
        options = data.get("options") or []
        if isinstance(options, str):
            options = [o.strip() for o in options.splitlines() if o.strip()]
        if not isinstance(options, list) or not all(isinstance(o, str) and o.strip() for o in options):
            errors["options"] = ["A list of option names"]
            options = []
        values["options"] = [o.strip() for o in options]
    options = values.get("options", field.options if field else [])
    if kind in (FieldType.SELECT, FieldType.MULTI_SELECT) and not options:
        errors["options"] = ["A select field needs at least one option"]
    if "required" in data:
        values["required"] = bool(data.get("required"))
    if "position" in data:
        try:
            values["position"] = max(0, int(data.get("position") or 0))
        except (TypeError, ValueError):
            errors["position"] = ["A whole number"]
    if "key" in values and "key" not in errors:
        object_type = values.get("object_type") or (field.object_type if field else "")
        clash = CustomField.objects.for_tenant(tenant).filter(object_type=object_type, key=values["key"])
        if field is not None:
            clash = clash.exclude(pk=field.pk)
        if clash.exists():
            errors["key"] = [f"A {object_type} field with the key {values['key']!r} exists"]
    _raise(errors)
    return values


def create_custom_field(tenant, actor: Actor, data: dict) -> CustomField:
    """Define a custom field for contacts, companies or deals."""
    values = _clean_custom_field(tenant, data, None)
    with transaction.atomic():
        field = CustomField.objects.create(tenant=tenant, **values)
        audit.record(tenant, actor, "custom_field.created", obj=field, changes=audit.diff({}, custom_field_snapshot(field)))
        events.emit(tenant, "custom_field.created", {"custom_field_id": str(field.pk)})
    return field


def update_custom_field(tenant, actor: Actor, field: CustomField, data: dict) -> CustomField:
    values = _clean_custom_field(tenant, data, field)
    old = custom_field_snapshot(field)
    with transaction.atomic():
        for name, value in values.items():
            setattr(field, name, value)
        field.save()
        audit.record(tenant, actor, "custom_field.updated", obj=field, changes=audit.diff(old, custom_field_snapshot(field)))
        events.emit(tenant, "custom_field.updated", {"custom_field_id": str(field.pk)})
    return field


def delete_custom_field(tenant, actor: Actor, field: CustomField) -> None:
    """Remove the definition; stored values stay in the records' JSON but are no longer shown."""
    with transaction.atomic():
        audit.record(tenant, actor, "custom_field.deleted", obj=field, changes=audit.diff(custom_field_snapshot(field), {}))
        events.emit(tenant, "custom_field.deleted", {"custom_field_id": str(field.pk)})
        field.delete()


# --- companies ---------------------------------------------------------------------


def company_snapshot(company: Company) -> dict:
    data = {name: getattr(company, name) for name in COMPANY_TEXT}
    data.update(
        phone=company.phone,
        owner=_id(company.owner_id),
        tags=sorted(t.name for t in company.tags.all()) if company.pk else [],
        custom_fields=dict(company.custom),
    )
    return data


def _clean_company(tenant, actor: Actor, data: dict, company: Company | None) -> tuple[dict, list | None]:
    errors: dict = {}
    values: dict = {}
    partial = company is not None
    for name in COMPANY_TEXT:
        if not partial or name in data:
            values[name] = _text(data, name, errors, 200 if name in ("name", "domain", "street") else 100)
    if "country" in values:
        values["country"] = values["country"].upper()
        if values["country"] and not re.match(r"^[A-Z]{2}$", values["country"]):
            errors["country"] = ["A two-letter country code such as GB"]
    if "domain" in values:
        values["domain"] = re.sub(r"^https?://", "", values["domain"].lower()).strip("/")
    if "name" in values and not values["name"]:
        errors["name"] = ["A company name is required"]
    if "phone" in data and data["phone"] not in (None, ""):
        try:
            values["phone"] = rules.clean_phone(data["phone"], tenant.default_region)
        except ValueError as exc:
            errors["phone"] = [str(exc)]
    elif "phone" in data:
        values["phone"] = ""
    if "owner_id" in data:
        values["owner"] = _owner(tenant, data["owner_id"], errors)
    elif not partial and actor.user is not None:
        values["owner"] = actor.user
    custom = _custom(tenant, ObjectType.COMPANY, data, errors, company.custom if company else None, partial)
    if custom is not None:
        values["custom"] = custom
    tags = _tags(tenant, data.get("tags"), errors) if "tags" in data else None
    _raise(errors)
    return values, tags


def create_company(tenant, actor: Actor, data: dict) -> Company:
    """Create a company; the actor owns it unless ``owner_id`` says otherwise."""
    values, tags = _clean_company(tenant, actor, data, None)
    with transaction.atomic():
        company = Company.objects.create(tenant=tenant, **values)
        if tags:
            company.tags.set(tags)
        audit.record(tenant, actor, "company.created", obj=company, changes=audit.diff({}, company_snapshot(company)))
        events.emit(tenant, "company.created", {"company_id": str(company.pk)})
    return company


def update_company(tenant, actor: Actor, company: Company, data: dict) -> Company:
    values, tags = _clean_company(tenant, actor, data, company)
    old = company_snapshot(company)
    with transaction.atomic():
        for name, value in values.items():
            setattr(company, name, value)
        company.save()
        if tags is not None:
            company.tags.set(tags)
        changes = audit.diff(old, company_snapshot(company))
        if changes:
            audit.record(tenant, actor, "company.updated", obj=company, changes=changes)
            events.emit(tenant, "company.updated", {"company_id": str(company.pk), "fields": sorted(changes)})
    return company


def delete_company(tenant, actor: Actor, company: Company) -> None:
    with transaction.atomic():
        audit.record(tenant, actor, "company.deleted", obj=company, changes=audit.diff(company_snapshot(company), {}))
        events.emit(tenant, "company.deleted", {"company_id": str(company.pk)})
        company.delete()


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
    )
    return data


def _entries(items, key: str) -> list[dict]:
    """Normalise ``["a@x"]`` or ``[{"email": "a@x", "label": "work", "primary": true}]``."""
    result = []
    for item in items or []:
        if isinstance(item, dict):
            result.append(
                {"value": item.get(key) or item.get("value") or item.get("phone") or "", "label": str(item.get("label") or "")[:30],
                 "primary": bool(item.get("primary") or item.get("is_primary"))}
            )
        elif hasattr(item, "model_dump"):
            raw = item.model_dump()
            result.append({"value": raw.get(key) or "", "label": str(raw.get("label") or "")[:30],
                           "primary": bool(raw.get("primary"))})
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
    for name, choices in (("lifecycle_stage", Lifecycle), ("lead_status", LeadStatus), ("consent", Consent),
                          ("lawful_basis", LawfulBasis)):
        if name in data and data[name] is not None:
            values[name] = _choice(data, name, choices, errors)
    if "consent_at" in data:
        values["consent_at"] = data["consent_at"] or None
        if isinstance(values["consent_at"], str):
            from django.utils.dateparse import parse_datetime

            parsed = parse_datetime(values["consent_at"])
            if parsed is None:
                errors["consent_at"] = ["A date and time such as 2026-01-31T12:00:00Z"]
            values["consent_at"] = parsed
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


def _write_points(tenant, contact: Contact, emails: list[dict] | None, phones: list[dict] | None) -> None:
    if emails is not None:
        contact.emails.all().delete()
        ContactEmail.objects.bulk_create(
            [ContactEmail(tenant=tenant, contact=contact, email=e["value"], label=e["label"], is_primary=e["primary"])
             for e in emails]
        )
        contact.email = emails[0]["value"] if emails else ""
    if phones is not None:
        contact.phones.all().delete()
        ContactPhone.objects.bulk_create(
            [ContactPhone(tenant=tenant, contact=contact, number=p["value"], label=p["label"], is_primary=p["primary"])
             for p in phones]
        )
        contact.phone = phones[0]["value"] if phones else ""


def create_contact(tenant, actor: Actor, data: dict) -> Contact:
    """Create a contact from full lists or the ``first_name/last_name/email/phone`` shorthand."""
    cleaned = clean_contact(tenant, actor, data)
    with transaction.atomic():
        contact = Contact(tenant=tenant, **cleaned["values"])
        contact.save()
        _write_points(tenant, contact, cleaned["emails"], cleaned["phones"])
        contact.save(update_fields=["email", "phone"])
        if cleaned["tags"]:
            contact.tags.set(cleaned["tags"])
        audit.record(tenant, actor, "contact.created", obj=contact, changes=audit.diff({}, contact_snapshot(contact)))
        # ``restricted`` lets workflows and webhooks honour a restriction of processing.
        events.emit(tenant, "contact.created", {"contact_id": str(contact.pk), "restricted": contact.restricted})
    return contact


def update_contact(tenant, actor: Actor, contact: Contact, data: dict) -> Contact:
    """Partial update: only the keys present in ``data`` change."""
    cleaned = clean_contact(tenant, actor, data, contact)
    old = contact_snapshot(contact)
    with transaction.atomic():
        for name, value in cleaned["values"].items():
            setattr(contact, name, value)
        _write_points(tenant, contact, cleaned["emails"], cleaned["phones"])
        contact.save()
        if cleaned["tags"] is not None:
            contact.tags.set(cleaned["tags"])
        changes = audit.diff(old, contact_snapshot(contact))
        if changes:
            audit.record(tenant, actor, "contact.updated", obj=contact, changes=changes)
            events.emit(tenant, "contact.updated", {"contact_id": str(contact.pk), "fields": sorted(changes),
                                                    "restricted": contact.restricted})
    return contact


def delete_contact(tenant, actor: Actor, contact: Contact) -> None:
    with transaction.atomic():
        audit.record(tenant, actor, "contact.deleted", obj=contact, changes=audit.diff(contact_snapshot(contact), {}))
        events.emit(tenant, "contact.deleted", {"contact_id": str(contact.pk)})
        contact.delete()


# --- pipelines and stages ----------------------------------------------------------


def pipeline_snapshot(pipeline: Pipeline) -> dict:
    return {
        "name": pipeline.name,
        "position": pipeline.position,
        "is_default": pipeline.is_default,
        "stages": [[s.name, s.probability, s.kind] for s in pipeline.stages.all()] if pipeline.pk else [],
    }


def _clean_stages(stages, errors: dict) -> list[dict] | None:
    if stages is None:
        return None
    if not isinstance(stages, (list, tuple)) or not stages:
        errors["stages"] = ["A pipeline needs at least one stage"]
        return None
    cleaned = []
    for index, raw in enumerate(stages):
        raw = raw.model_dump() if hasattr(raw, "model_dump") else dict(raw)
        name = str(raw.get("name") or "").strip()
        if not name:
            errors[f"stages.{index}.name"] = ["A stage name is required"]
        kind = str(raw.get("kind") or StageKind.OPEN)
        if kind not in StageKind.values:
            errors[f"stages.{index}.kind"] = ["One of open, won, lost"]
        try:
            probability = int(raw.get("probability") if raw.get("probability") is not None else 0)
            if not 0 <= probability <= 100:
                raise ValueError
        except (TypeError, ValueError):
            errors[f"stages.{index}.probability"] = ["A whole number from 0 to 100"]
            probability = 0
        cleaned.append({"id": raw.get("id"), "name": name[:120], "kind": kind, "probability": probability})
    return cleaned


def create_pipeline(tenant, actor: Actor, data: dict) -> Pipeline:
    """A pipeline with its stages (default: New → … → Won / Lost)."""
    errors: dict = {}
    name = _text(data, "name", errors, 120)
    if not name:
        errors["name"] = ["A pipeline name is required"]
    stages = _clean_stages(data.get("stages"), errors) if data.get("stages") is not None else [
        {"name": n, "probability": p, "kind": k} for n, p, k in DEFAULT_STAGES
    ]
    _raise(errors)
    with transaction.atomic():
        first = not Pipeline.objects.for_tenant(tenant).exists()
        pipeline = Pipeline.objects.create(
            tenant=tenant, name=name, position=Pipeline.objects.for_tenant(tenant).count(),
            is_default=first or bool(data.get("is_default")),
        )
        if pipeline.is_default and not first:
            Pipeline.objects.for_tenant(tenant).exclude(pk=pipeline.pk).update(is_default=False)
        for position, stage in enumerate(stages):
            Stage.objects.create(
                tenant=tenant, pipeline=pipeline, name=stage["name"], position=position,
                probability=stage["probability"], kind=stage["kind"],
            )
        audit.record(tenant, actor, "pipeline.created", obj=pipeline, changes=audit.diff({}, pipeline_snapshot(pipeline)))
        events.emit(tenant, "pipeline.created", {"pipeline_id": str(pipeline.pk)})
    return pipeline


def update_pipeline(tenant, actor: Actor, pipeline: Pipeline, data: dict) -> Pipeline:
    """Rename, reorder or replace stages. Stages with deals cannot be removed."""
    errors: dict = {}
    old = pipeline_snapshot(pipeline)
    if "name" in data:
        pipeline.name = _text(data, "name", errors, 120)
        if not pipeline.name:
            errors["name"] = ["A pipeline name is required"]
    stages = _clean_stages(data.get("stages"), errors) if "stages" in data else None
    if stages is not None:
        existing = {str(s.pk): s for s in pipeline.stages.all()}
        kept = {str(s["id"]) for s in stages if s.get("id")}
        unknown = kept - set(existing)
        if unknown:
            errors["stages"] = ["A stage id does not belong to this pipeline"]
        removed = [s for key, s in existing.items() if key not in kept]
        if any(s.deals.exists() for s in removed):
            errors["stages"] = ["Move the deals out of a stage before removing it"]
    _raise(errors)
    with transaction.atomic():
        if data.get("is_default"):
            Pipeline.objects.for_tenant(tenant).exclude(pk=pipeline.pk).update(is_default=False)
            pipeline.is_default = True
        pipeline.save()
        if stages is not None:
            for stage in removed:
                stage.delete()
            for position, raw in enumerate(stages):
                stage = existing.get(str(raw.get("id"))) if raw.get("id") else None
                stage = stage or Stage(tenant=tenant, pipeline=pipeline)
                stage.name, stage.probability, stage.kind, stage.position = (
                    raw["name"], raw["probability"], raw["kind"], position,
                )
                stage.save()
        changes = audit.diff(old, pipeline_snapshot(pipeline))
        if changes:
            audit.record(tenant, actor, "pipeline.updated", obj=pipeline, changes=changes)
            events.emit(tenant, "pipeline.updated", {"pipeline_id": str(pipeline.pk)})
    return pipeline


def delete_pipeline(tenant, actor: Actor, pipeline: Pipeline) -> None:
    if pipeline.deals.exists():
        raise ValidationError({"pipeline": ["Delete or move the pipeline's deals first"]})
    with transaction.atomic():
        audit.record(tenant, actor, "pipeline.deleted", obj=pipeline, changes=audit.diff(pipeline_snapshot(pipeline), {}))
        events.emit(tenant, "pipeline.deleted", {"pipeline_id": str(pipeline.pk)})
        pipeline.delete()


def default_pipeline(tenant) -> Pipeline:
    """The tenant's default pipeline, created with the standard stages on first use."""
    pipeline = Pipeline.objects.for_tenant(tenant).order_by("-is_default", "position").first()
    if pipeline is None:
        pipeline = create_pipeline(tenant, Actor.system("crm"), {"name": "Sales"})
    return pipeline


# --- deals -------------------------------------------------------------------------


def deal_snapshot(deal: Deal) -> dict:
    return {
        "name": deal.name,
        "value": str(deal.value),
        "currency": deal.currency,
        "pipeline": _id(deal.pipeline_id),
        "stage": _id(deal.stage_id),
        "status": deal.status,
        "expected_close": _iso(deal.expected_close),
        "close_reason": deal.close_reason,
        "owner": _id(deal.owner_id),
        "company": _id(deal.company_id),
        "contacts": sorted(str(c) for c in deal.contacts.values_list("pk", flat=True)) if deal.pk else [],
        "tags": sorted(t.name for t in deal.tags.all()) if deal.pk else [],
        "custom_fields": dict(deal.custom),
    }


def _clean_deal(tenant, actor: Actor, data: dict, deal: Deal | None) -> dict:
    errors: dict = {}
    values: dict = {}
    partial = deal is not None
    if not partial or "name" in data:
        values["name"] = _text(data, "name", errors, 200)
        if not values["name"]:
            errors["name"] = ["A deal name is required"]
    if "value" in data or not partial:
        raw = data.get("value")
        try:
            value = Decimal(rules.clean_number(raw)) if raw not in (None, "") else Decimal(0)
            if abs(value) > MAX_VALUE:
                errors["value"] = ["That value is too large"]
            values["value"] = value.quantize(Decimal("0.01"))
        except (ValueError, ArithmeticError):
            errors["value"] = [f"{raw!r} is not a number"]
    if "currency" in data or not partial:
        currency = str(data.get("currency") or crm_settings(tenant).default_currency).upper().strip()
        if not CURRENCY.match(currency):
            errors["currency"] = ["A three-letter currency code such as GBP"]
        values["currency"] = currency
    pipeline = deal.pipeline if deal else None
    if "pipeline_id" in data and data["pipeline_id"]:
        pipeline = _ref(Pipeline, tenant, None, data["pipeline_id"], "pipeline_id", errors)
    elif pipeline is None and not data.get("stage_id"):
        pipeline = default_pipeline(tenant)
    stage = None
    if data.get("stage_id"):
        stage = _ref(Stage, tenant, None, data["stage_id"], "stage_id", errors)
        if stage is not None and pipeline is None:
            pipeline = stage.pipeline
        if stage is not None and pipeline is not None and stage.pipeline_id != pipeline.pk:
            errors["stage_id"] = ["That stage belongs to another pipeline"]
    elif pipeline is not None and (deal is None or deal.pipeline_id != pipeline.pk):
        stage = pipeline.stages.order_by("position").first()
        if stage is None:
            errors["pipeline_id"] = ["That pipeline has no stages"]
    if pipeline is not None:
        values["pipeline"] = pipeline
    if stage is not None:
        values["stage"] = stage
    if "expected_close" in data:
        raw = data["expected_close"]
        if raw in (None, ""):
            values["expected_close"] = None
        else:
            try:
                values["expected_close"] = date.fromisoformat(rules.clean_date(raw))
            except ValueError as exc:
                errors["expected_close"] = [str(exc)]
    if "close_reason" in data:
        values["close_reason"] = _text(data, "close_reason", errors, 300)
    if "owner_id" in data:
        values["owner"] = _owner(tenant, data["owner_id"], errors)
    elif not partial and actor.user is not None:
        values["owner"] = actor.user
    if "company_id" in data:
        values["company"] = _ref(Company, tenant, actor, data["company_id"], "company_id", errors)
    contacts = None
    if "contact_ids" in data and data["contact_ids"] is not None:
        contacts = []
        for index, pk in enumerate(data["contact_ids"]):
            row = _ref(Contact, tenant, actor, pk, f"contact_ids.{index}", errors)
            if row is not None:
                contacts.append(row)
    custom = _custom(tenant, ObjectType.DEAL, data, errors, deal.custom if deal else None, partial)
    if custom is not None:
        values["custom"] = custom
    tags = _tags(tenant, data.get("tags"), errors) if "tags" in data else None
    _raise(errors)
    return {"values": values, "contacts": contacts, "tags": tags}


def _apply_stage(deal: Deal, stage: Stage) -> None:
    deal.status = stage.kind
    if stage.kind == StageKind.OPEN:
        deal.closed_at = None
    elif deal.closed_at is None:
        deal.closed_at = timezone.now()


def _stage_events(tenant, actor: Actor, deal: Deal, old_stage: Stage | None) -> None:
    if old_stage is not None and old_stage.pk == deal.stage_id:
        return
    payload = {
        "deal_id": str(deal.pk),
        "pipeline_id": str(deal.pipeline_id),
        "from_stage_id": _id(old_stage.pk if old_stage else None),
        "to_stage_id": str(deal.stage_id),
    }
    if old_stage is not None:
        audit.record(
            tenant, actor, "deal.stage_changed", obj=deal,
            changes={"stage": [old_stage.name, deal.stage.name], "status": [old_stage.kind, deal.status]},
        )
        events.emit(tenant, "deal.stage_changed", payload)
    if deal.status in (StageKind.WON, StageKind.LOST) and (old_stage is None or old_stage.kind != deal.status):
        events.emit(tenant, f"deal.{deal.status}", {"deal_id": str(deal.pk)})


def create_deal(tenant, actor: Actor, data: dict) -> Deal:
    """Create a deal in a pipeline stage (the default pipeline's first stage if none given)."""
    cleaned = _clean_deal(tenant, actor, data, None)
    with transaction.atomic():
        deal = Deal(tenant=tenant, **cleaned["values"])
        _apply_stage(deal, deal.stage)
        deal.save()
        if cleaned["contacts"]:
            deal.contacts.set(cleaned["contacts"])
        if cleaned["tags"]:
            deal.tags.set(cleaned["tags"])
        audit.record(tenant, actor, "deal.created", obj=deal, changes=audit.diff({}, deal_snapshot(deal)))
        events.emit(tenant, "deal.created", {"deal_id": str(deal.pk)})
        _stage_events(tenant, actor, deal, None)
    return deal


def update_deal(tenant, actor: Actor, deal: Deal, data: dict) -> Deal:
    """Partial update; moving the stage emits ``deal.stage_changed`` (and ``deal.won``/``deal.lost``)."""
    cleaned = _clean_deal(tenant, actor, data, deal)
    old = deal_snapshot(deal)
    old_stage = deal.stage
    with transaction.atomic():
        for name, value in cleaned["values"].items():
            setattr(deal, name, value)
        _apply_stage(deal, deal.stage)
        deal.save()
        if cleaned["contacts"] is not None:
            deal.contacts.set(cleaned["contacts"])
        if cleaned["tags"] is not None:
            deal.tags.set(cleaned["tags"])
        changes = audit.diff(old, deal_snapshot(deal))
        changes.pop("stage", None) if old_stage.pk != deal.stage_id else None
        if changes:
            audit.record(tenant, actor, "deal.updated", obj=deal, changes=changes)
            events.emit(tenant, "deal.updated", {"deal_id": str(deal.pk), "fields": sorted(changes)})
        _stage_events(tenant, actor, deal, old_stage)
    return deal


def move_deal(tenant, actor: Actor, deal: Deal, stage_id) -> Deal:
    """The pipeline board's drag and drop."""
    return update_deal(tenant, actor, deal, {"stage_id": stage_id})


def delete_deal(tenant, actor: Actor, deal: Deal) -> None:
    with transaction.atomic():
        audit.record(tenant, actor, "deal.deleted", obj=deal, changes=audit.diff(deal_snapshot(deal), {}))
        events.emit(tenant, "deal.deleted", {"deal_id": str(deal.pk)})
        deal.delete()


# --- tasks -------------------------------------------------------------------------


def task_snapshot(task: Task) -> dict:
    return {
        "title": task.title,
        "description": task.description,
        "due_at": _iso(task.due_at),
        "remind_at": _iso(task.remind_at),
        "assignee": _id(task.assignee_id),
        "status": task.status,
        "contact": _id(task.contact_id),
        "company": _id(task.company_id),
        "deal": _id(task.deal_id),
    }


def _datetime(data: dict, name: str, errors: dict):
    raw = data.get(name)
    if raw in (None, ""):
        return None
    if isinstance(raw, datetime):
        value = raw
    else:
        from django.utils.dateparse import parse_date, parse_datetime

        value = parse_datetime(str(raw))
        if value is None and parse_date(str(raw)) is not None:
            value = datetime.combine(parse_date(str(raw)), datetime.min.time())
        if value is None:
            errors[name] = ["A date and time such as 2026-01-31T09:00:00Z"]
            return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.get_default_timezone())
    return value


def _related(tenant, actor: Actor, data: dict, values: dict, errors: dict) -> None:
    for name, model in (("contact", Contact), ("company", Company), ("deal", Deal)):
        if f"{name}_id" in data:
            values[name] = _ref(model, tenant, actor, data[f"{name}_id"], f"{name}_id", errors)


def _clean_task(tenant, actor: Actor, data: dict, task: Task | None) -> dict:
    errors: dict = {}
    values: dict = {}
    partial = task is not None
    if not partial or "title" in data:
        values["title"] = _text(data, "title", errors, 200)
        if not values["title"]:
            errors["title"] = ["A title is required"]
    if "description" in data:
        values["description"] = _text(data, "description", errors, 20000)
    for name in ("due_at", "remind_at"):
        if name in data:
            values[name] = _datetime(data, name, errors)
    if "status" in data and data["status"] is not None:
        values["status"] = _choice(data, "status", TaskStatus, errors)
    if "assignee_id" in data:
        values["assignee"] = _owner(tenant, data["assignee_id"], errors, "assignee_id")
    elif not partial and actor.user is not None:
        values["assignee"] = actor.user
    _related(tenant, actor, data, values, errors)
    related = [values.get(n, getattr(task, n, None) if task else None) for n in ("contact", "company", "deal")]
    if sum(1 for r in related if r is not None) > 1:
        errors["__all__"] = ["A task relates to one contact, company or deal at most"]
    _raise(errors)
    return values


def create_task(tenant, actor: Actor, data: dict) -> Task:
    """A to-do for a member (the actor by default), optionally on a contact, company or deal."""
    values = _clean_task(tenant, actor, data, None)
    with transaction.atomic():
        task = Task(tenant=tenant, **values)
        if task.status == TaskStatus.DONE:
            task.completed_at = timezone.now()
        task.save()
        audit.record(tenant, actor, "task.created", obj=task, changes=audit.diff({}, task_snapshot(task)))
        events.emit(tenant, "task.created", {"task_id": str(task.pk)})
    return task


def update_task(tenant, actor: Actor, task: Task, data: dict) -> Task:
    values = _clean_task(tenant, actor, data, task)
    old = task_snapshot(task)
    was_done = task.status == TaskStatus.DONE
    with transaction.atomic():
        for name, value in values.items():
            setattr(task, name, value)
        if task.status == TaskStatus.DONE and not was_done:
            task.completed_at = timezone.now()
        elif task.status != TaskStatus.DONE:
            task.completed_at = None
        if "remind_at" in values:
            task.reminded_at = None
        task.save()
        changes = audit.diff(old, task_snapshot(task))
        if changes:
            audit.record(tenant, actor, "task.updated", obj=task, changes=changes)
            events.emit(tenant, "task.updated", {"task_id": str(task.pk), "fields": sorted(changes)})
        if task.status == TaskStatus.DONE and not was_done:
            events.emit(tenant, "task.completed", {"task_id": str(task.pk)})
    return task


def complete_task(tenant, actor: Actor, task: Task) -> Task:
    return update_task(tenant, actor, task, {"status": TaskStatus.DONE})


def delete_task(tenant, actor: Actor, task: Task) -> None:
    with transaction.atomic():
        audit.record(tenant, actor, "task.deleted", obj=task, changes=audit.diff(task_snapshot(task), {}))
        events.emit(tenant, "task.deleted", {"task_id": str(task.pk)})
        task.delete()


def due_reminders(now=None) -> list[Task]:
    """Open tasks whose reminder time has come and that were not reminded yet (all tenants)."""
    now = now or timezone.now()
    return list(
        Task.objects.filter(status=TaskStatus.OPEN, remind_at__lte=now, reminded_at__isnull=True).select_related(
            "tenant"
        )[:500]
    )


def send_reminder(task: Task) -> bool:
    """Emit ``task.reminder`` once per reminder time (idempotent under retries)."""
    with transaction.atomic():
        claimed = Task.objects.filter(pk=task.pk, reminded_at__isnull=True).update(reminded_at=timezone.now())
        if claimed:
            events.emit(task.tenant, "task.reminder", {"task_id": str(task.pk), "assignee_id": _id(task.assignee_id)})
    return bool(claimed)


# --- notes -------------------------------------------------------------------------


def _clean_note(tenant, actor: Actor, data: dict, note: Note | None) -> dict:
    errors: dict = {}
    values: dict = {}
    if note is None or "body" in data:
        values["body"] = rules.sanitize_html(str(data.get("body") or ""))
        if not re.sub(r"<[^>]*>|&nbsp;|\s", "", values["body"]):
            errors["body"] = ["A note needs some text"]
        elif len(values["body"]) > 100000:
            errors["body"] = ["At most 100,000 characters"]
    if "kind" in data and data["kind"] is not None:
        values["kind"] = _choice(data, "kind", NoteKind, errors)
    if "subject" in data:
        values["subject"] = _text(data, "subject", errors, 200)
    _related(tenant, actor, data, values, errors)
    related = [values.get(n, getattr(note, n, None) if note else None) for n in ("contact", "company", "deal")]
    if sum(1 for r in related if r is not None) > 1:
        errors["__all__"] = ["A note belongs to one contact, company or deal at most"]
    _raise(errors)
    return values


def note_snapshot(note: Note) -> dict:
    return {
        "kind": note.kind,
        "subject": note.subject,
        "body": note.body,
        "contact": _id(note.contact_id),
        "company": _id(note.company_id),
        "deal": _id(note.deal_id),
    }


def create_note(tenant, actor: Actor, data: dict) -> Note:
    """A note (or a logged email) on a contact, company or deal; the HTML is sanitised."""
    values = _clean_note(tenant, actor, data, None)
    with transaction.atomic():
        note = Note.objects.create(tenant=tenant, author=actor.user if actor else None, **values)
        audit.record(tenant, actor, "note.created", obj=note, changes=audit.diff({}, note_snapshot(note)))
        events.emit(tenant, "note.created", {"note_id": str(note.pk)})
    return note


def update_note(tenant, actor: Actor, note: Note, data: dict) -> Note:
    values = _clean_note(tenant, actor, data, note)
    old = note_snapshot(note)
    with transaction.atomic():
        for name, value in values.items():
            setattr(note, name, value)
        note.save()
        changes = audit.diff(old, note_snapshot(note))
        if changes:
            audit.record(tenant, actor, "note.updated", obj=note, changes=changes)
            events.emit(tenant, "note.updated", {"note_id": str(note.pk)})
    return note


def delete_note(tenant, actor: Actor, note: Note) -> None:
    with transaction.atomic():
        audit.record(tenant, actor, "note.deleted", obj=note, changes=audit.diff(note_snapshot(note), {}))
        events.emit(tenant, "note.deleted", {"note_id": str(note.pk)})
        note.delete()


# --- saved views -------------------------------------------------------------------


def save_view(tenant, actor: Actor, *, object_type: str, name: str, query: str, shared: bool = False) -> SavedView:
    """Remember a list's filters under a name, for the actor or (shared) for everyone."""
    errors: dict = {}
    if object_type not in ObjectType.values:
        errors["object_type"] = ["One of contact, company, deal"]
    name = (name or "").strip()
    if not name:
        errors["name"] = ["A name is required"]
    if actor.user is None:
        errors["__all__"] = ["Only a person can save a view"]
    _raise(errors)
    with transaction.atomic():
        view = SavedView.objects.create(
            tenant=tenant, object_type=object_type, name=name[:120], query=(query or "")[:2000],
            owner=actor.user, shared=shared,
        )
        audit.record(tenant, actor, "saved_view.created", obj=view, changes={"name": [None, view.name]})
    return view


def delete_view(tenant, actor: Actor, view: SavedView) -> None:
    with transaction.atomic():
        audit.record(tenant, actor, "saved_view.deleted", obj=view, changes={"name": [view.name, None]})
        view.delete()
