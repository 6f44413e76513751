"""Tenant CRM settings, custom field definitions and saved views."""

from __future__ import annotations

import re

from django.db import transaction

from octopushx.core import audit, events
from octopushx.core.context import Actor
from octopushx.crm.models import (
    CrmSettings,
    CustomField,
    FieldType,
    HiddenMatch,
    ObjectType,
    SavedView,
    Visibility,
)
from octopushx.crm.services._shared import CURRENCY, _choice, _raise, _text
from octopushx.crm.visibility import crm_settings

# --- settings ----------------------------------------------------------------------


def update_settings(tenant, actor: Actor, **values) -> CrmSettings:
    """Change the tenant's CRM policy (agent visibility, default currency, what an import does with
    a row matching a contact the importing member may not see)."""
    current = crm_settings(tenant)
    errors: dict = {}
    names = ("agent_visibility", "default_currency", "import_hidden_matches")
    old = {name: getattr(current, name) for name in names}
    if "agent_visibility" in values:
        current.agent_visibility = _choice(values, "agent_visibility", Visibility, errors)
    if values.get("import_hidden_matches"):
        current.import_hidden_matches = _choice(values, "import_hidden_matches", HiddenMatch, errors)
    if "default_currency" in values:
        currency = str(values["default_currency"] or "").upper()
        if not CURRENCY.match(currency):
            errors["default_currency"] = ["A three-letter currency code such as GBP"]
        current.default_currency = currency
    _raise(errors)
    with transaction.atomic():
        current.save()
        new = {name: getattr(current, name) for name in names}
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
        audit.record(
            tenant, actor, "custom_field.created", obj=field, changes=audit.diff({}, custom_field_snapshot(field))
        )
        events.emit(tenant, "custom_field.created", {"custom_field_id": str(field.pk)})
    return field


def update_custom_field(tenant, actor: Actor, field: CustomField, data: dict) -> CustomField:
    values = _clean_custom_field(tenant, data, field)
    old = custom_field_snapshot(field)
    with transaction.atomic():
        for name, value in values.items():
            setattr(field, name, value)
        field.save()
        audit.record(
            tenant, actor, "custom_field.updated", obj=field, changes=audit.diff(old, custom_field_snapshot(field))
        )
        events.emit(tenant, "custom_field.updated", {"custom_field_id": str(field.pk)})
    return field


def delete_custom_field(tenant, actor: Actor, field: CustomField) -> None:
    """Remove the definition; stored values stay in the records' JSON but are no longer shown."""
    with transaction.atomic():
        audit.record(
            tenant, actor, "custom_field.deleted", obj=field, changes=audit.diff(custom_field_snapshot(field), {})
        )
        events.emit(tenant, "custom_field.deleted", {"custom_field_id": str(field.pk)})
        field.delete()


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
            tenant=tenant,
            object_type=object_type,
            name=name[:120],
            query=(query or "")[:2000],
            owner=actor.user,
            shared=shared,
        )
        audit.record(tenant, actor, "saved_view.created", obj=view, changes={"name": [None, view.name]})
    return view


def delete_view(tenant, actor: Actor, view: SavedView) -> None:
    with transaction.atomic():
        audit.record(tenant, actor, "saved_view.deleted", obj=view, changes={"name": [view.name, None]})
        view.delete()
