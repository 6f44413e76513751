"""Helpers shared by the CRM services: field rules, references, tags, custom values."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError

from octopushx.core import memo
from octopushx.core import text as text_rule
from octopushx.core.context import Actor
from octopushx.crm import fields as rules
from octopushx.crm.models import (
    CustomField,
    StageKind,
    Tag,
)
from octopushx.crm.visibility import visible
from octopushx.tenancy import config
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
    elif message := text_rule.problem(text):  # the platform's one rule (core/text.py), for every path in
        errors[name] = [message]
    return text


def _choice(data: dict, name: str, choices, errors: dict) -> str:
    value = data.get(name)
    value = "" if value is None else str(value).strip()
    if value not in choices.values:
        errors[name] = [f"{value!r} is not one of: {', '.join(v for v in choices.values if v)}"]
    return value


def member_row(tenant, user_id) -> Membership | None:
    """The membership (with its user) of ``user_id`` in ``tenant``; read once per batch (core.memo)."""
    uid = _uuid_or_none(user_id)
    if uid is None:
        return None
    return memo.remember(
        ("crm.member", tenant.pk, uid),
        lambda: Membership.objects.filter(tenant=tenant, user_id=uid).select_related("user").first(),
    )


def row_key(model, tenant, pk) -> tuple:
    """The ``core.memo`` key of a tenant's row (a workflow batch keeps the records it read)."""
    return ("crm.row", model._meta.label, tenant.pk, pk)


def _owner(tenant, value, errors: dict, field: str = "owner_id"):
    if value in (None, ""):
        return None
    membership = member_row(tenant, value)
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
    else:  # no member's view to apply (a workflow, the system): a batch reads the row once
        row = memo.remember(row_key(model, tenant, pk), lambda: qs.filter(pk=pk).first()) if pk else None
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


def _existing_tags(tenant, names: list[str]) -> dict[str, Tag]:
    existing = {t.name.lower(): t for t in Tag.objects.for_tenant(tenant).filter(name__in=names)}
    missing = [n for n in names if n.lower() not in existing]
    if missing:  # the same tag in another case ("VIP" for "vip") is the same tag
        wanted = {n.lower() for n in missing}
        for t in Tag.objects.for_tenant(tenant).exclude(name__in=names):
            if t.name.lower() in wanted:
                existing[t.name.lower()] = t
    return existing


def get_or_create_tags(tenant, names: list[str]) -> list[Tag]:
    key = ("crm.tags", tenant.pk, tuple(names))
    existing = dict(memo.remember(key, lambda: _existing_tags(tenant, names)))
    result = []
    for name in names:
        tag = existing.get(name.lower())
        if tag is None:
            tag = Tag.objects.create(tenant=tenant, name=name)
            existing[name.lower()] = tag
            memo.forget(key)  # read again next time (a tag created here is undone if its step is)
        result.append(tag)
    return result


def custom_definitions(tenant, object_type: str) -> dict[str, CustomField]:
    """The organisation's custom fields of one record type by key (rows cached per process: read, never change)."""
    return dict(
        config.cached(
            tenant,
            ("crm.custom_fields", object_type),
            lambda: {f.key: f for f in CustomField.objects.for_tenant(tenant).filter(object_type=object_type)},
        )
    )


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
