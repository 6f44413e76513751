"""Companies: create, change, delete (audited, evented)."""

from __future__ import annotations

import re

from django.db import transaction

from octopushx.core import audit, events
from octopushx.core.context import Actor
from octopushx.crm import fields as rules
from octopushx.crm.models import (
    Company,
    ObjectType,
)
from octopushx.crm.services._shared import COMPANY_TEXT, _custom, _id, _owner, _raise, _tags, _text

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
