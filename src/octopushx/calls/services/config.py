"""Tenant call settings: limits, the keep-original policy, sealed provider credentials, pipeline settings."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from octopushx import intelligence
from octopushx.calls.models import (
    CallSettings,
)
from octopushx.core import audit, crypto, keys
from octopushx.core.context import Actor

SECRET_FIELDS = (
    "twilio_auth_token",
    "vonage_signature_secret",
    "vonage_private_key",
    "webhook_secret",
    "twilio_api_key_secret",
    "vonage_api_secret",
)


def call_settings(tenant) -> CallSettings:
    found = CallSettings.objects.for_tenant(tenant).first()
    if found is None:
        try:
            with transaction.atomic():
                found = CallSettings.objects.create(tenant=tenant)
        except IntegrityError:
            found = CallSettings.objects.for_tenant(tenant).get()
    return found


def _aad(tenant, name: str) -> bytes:
    return f"calls:{tenant.pk}:{name}".encode()


def credential(tenant, name: str) -> str:
    """A provider secret of the tenant, decrypted (empty when not configured)."""
    sealed = getattr(call_settings(tenant), f"{name}_sealed")
    if not sealed:
        return ""
    return crypto.open_sealed(keys.data_key(tenant), bytes(sealed), _aad(tenant, name)).decode()


def settings_snapshot(row: CallSettings) -> dict:
    data = {
        "keep_original": row.keep_original,
        "max_upload_mb": row.max_upload_mb,
        "max_duration_minutes": row.max_duration_minutes,
        "twilio_account_sid": row.twilio_account_sid,
        "vonage_application_id": row.vonage_application_id,
        "twilio_api_key_sid": row.twilio_api_key_sid,
        "vonage_api_key": row.vonage_api_key,
    }
    for name in SECRET_FIELDS:
        data[f"{name}_set"] = bool(getattr(row, f"{name}_sealed"))
    return data


def update_settings(tenant, actor: Actor, data: dict[str, Any]) -> CallSettings:
    """Change limits, the keep-original policy or provider credentials (secrets are sealed)."""
    row = call_settings(tenant)
    old = settings_snapshot(row)
    errors: dict[str, list[str]] = {}
    if "keep_original" in data and data["keep_original"] is not None:
        row.keep_original = bool(data["keep_original"])
    for name, top in (("max_upload_mb", settings.MAX_UPLOAD_BYTES // (1024 * 1024)), ("max_duration_minutes", 24 * 60)):
        if data.get(name) is not None:
            try:
                value = int(data[name])
            except (TypeError, ValueError):
                value = 0
            if not 1 <= value <= top:
                errors[name] = [f"A whole number from 1 to {top}"]
            else:
                setattr(row, name, value)
    if data.get("twilio_account_sid") is not None:
        sid = str(data["twilio_account_sid"]).strip()
        if sid and not (sid.startswith("AC") and len(sid) == 34):
            errors["twilio_account_sid"] = ["A Twilio account SID starts with AC and has 34 characters"]
        row.twilio_account_sid = sid
    if data.get("vonage_application_id") is not None:
        row.vonage_application_id = str(data["vonage_application_id"]).strip()[:64]
    for name in ("twilio_api_key_sid", "vonage_api_key"):
        if data.get(name) is not None:
            setattr(row, name, str(data[name]).strip()[:64])
    for name in SECRET_FIELDS:
        if data.get(name) is not None:
            value = str(data[name]).strip()
            if len(value) > 8000:
                errors[name] = ["At most 8000 characters"]
                continue
            sealed = crypto.seal(keys.data_key(tenant), value.encode(), _aad(tenant, name)) if value else None
            setattr(row, f"{name}_sealed", sealed)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        row.save()
        changes = audit.diff(old, settings_snapshot(row))
        if changes:
            audit.record(tenant, actor, "call_settings.updated", obj=row, changes=changes)
    return row


def analysis_settings(row: CallSettings) -> intelligence.AnalysisSettings:
    """The pipeline's settings: the server's (``settings.CALLS_ANALYSIS``, read from the
    environment exactly as ``octopushx analyze`` reads it) plus the tenant's policy, which
    changes no transcript: the length limit and whether originals are kept."""
    return replace(
        settings.CALLS_ANALYSIS,
        max_duration_seconds=row.max_duration_minutes * 60.0,
        keep_original=row.keep_original,
    )
