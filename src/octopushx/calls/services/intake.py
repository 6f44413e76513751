"""New calls: upload, webhook announcement and fetched recordings; validation of call fields and audio."""

from __future__ import annotations

import os
import re
import uuid
from datetime import datetime
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from octopushx import intelligence
from octopushx.calls.models import (
    Call,
    CallStatus,
    Direction,
    Provider,
)
from octopushx.calls.services.config import (
    call_settings,
)
from octopushx.calls.services.queries import (
    clean_number,
    match_agent,
    match_contact,
    membership_of,
)
from octopushx.core import audit, blobs, events, jobs
from octopushx.core.context import Actor
from octopushx.crm.models import Contact

ROLES = ("agent", "customer")
SPEAKERS = ("agent", "customer", "unknown")


def _parse_started_at(value: Any, errors: dict) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        parsed = value
    else:
        parsed = parse_datetime(str(value).strip())
        if parsed is None:
            errors["started_at"] = ["A date and time such as 2026-01-31T09:30:00Z"]
            return None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.utc)
    return parsed


def _parse_roles(value: Any, errors: dict) -> str:
    if value in (None, ""):
        return ",".join(ROLES)
    text = str(value).strip().lower()
    if text in ("mono", "none"):
        return ""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 2 or any(p not in SPEAKERS for p in parts):
        errors["channel_roles"] = ["Two roles for the two channels, such as agent,customer (or mono)"]
        return ""
    return ",".join(parts)


def clean_call_fields(tenant, actor: Actor | None, data: dict[str, Any], *, strict: bool = True) -> dict[str, Any]:
    """Validate the descriptive fields of a new call; ``strict=False`` drops bad values (webhooks)."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    direction = str(data.get("direction") or Direction.INBOUND).strip().lower()
    if direction not in Direction.values:
        errors["direction"] = ["inbound or outbound"]
    values["direction"] = direction if direction in Direction.values else Direction.INBOUND
    for name in ("from_number", "to_number"):
        raw = data.get(name)
        values[name] = ""
        if raw not in (None, ""):
            try:
                values[name] = clean_number(raw, tenant.default_region)
            except ValueError as exc:
                errors[name] = [str(exc)]
    values["started_at"] = _parse_started_at(data.get("started_at"), errors)
    values["channel_roles"] = _parse_roles(data.get("channel_roles"), errors)
    external_id = str(data.get("external_id") or "").strip()
    if len(external_id) > 120:
        errors["external_id"] = ["At most 120 characters"]
    values["external_id"] = external_id[:120]
    email = str(data.get("agent_email") or "").strip()
    agent_side = values["to_number"] if values["direction"] == Direction.INBOUND else values["from_number"]
    extension = str(data.get("agent_extension") or "").strip()
    agent = match_agent(tenant, email=email, extension=extension) if (email or extension) else None
    if agent is None and email:
        errors["agent_email"] = ["No member of this organisation with that email"]
    if agent is None and agent_side:
        agent = match_agent(tenant, extension=agent_side)
    if agent is None and actor is not None and actor.user is not None and not email:
        agent = actor.user  # an upload without an agent is the uploader's own call
    values["agent"] = agent
    contact = None
    if data.get("contact_id") not in (None, ""):
        contact = visible_contact(tenant, actor, data["contact_id"])
        if contact is None:
            errors["contact_id"] = ["No contact with that id"]
    if contact is None and "contact_id" not in errors:
        customer = values["from_number"] if values["direction"] == Direction.INBOUND else values["to_number"]
        contact = match_contact(tenant, customer)
    values["contact"] = contact
    values["company"] = contact.company if contact is not None else None
    if errors and strict:
        raise ValidationError(errors)
    return values


def visible_contact(tenant, actor: Actor | None, value) -> Contact | None:
    """The tenant's contact with this id if the actor's membership may see it; else ``None``."""
    from octopushx.crm.visibility import visible

    try:
        pk = uuid.UUID(str(value))
    except ValueError:
        return None
    membership = membership_of(tenant, actor)
    qs = visible(Contact, tenant, membership) if membership is not None else Contact.objects.for_tenant(tenant)
    return qs.filter(pk=pk).first()


def check_recording(tenant, source: IO[bytes] | str, size: int) -> intelligence.AudioInfo:
    """Refuse what is not audio, is empty or corrupt, or is over the tenant's limits (field ``file``)."""
    row = call_settings(tenant)
    if size <= 0:
        raise ValidationError({"file": ["The file is empty"]})
    if size > row.max_upload_mb * 1024 * 1024:
        raise ValidationError(
            {"file": [f"The file is larger than this organisation's limit of {row.max_upload_mb} MB"]}
        )
    try:
        info = intelligence.probe(source)
    except intelligence.AudioError as exc:
        raise ValidationError({"file": [str(exc)]}, code=getattr(exc, "code", "invalid_audio"))
    finally:
        if hasattr(source, "seek"):
            source.seek(0)
    if info.duration > row.max_duration_minutes * 60 + 1:
        raise ValidationError(
            {
                "file": [
                    f"The recording is {info.duration / 60:.1f} minutes long; the limit is {row.max_duration_minutes} minutes"
                ]
            }
        )
    return info


def existing_call(tenant, provider: str, external_id: str) -> Call | None:
    if not external_id:
        return None
    return Call.objects.for_tenant(tenant).filter(provider=provider, external_id=external_id).first()


def call_snapshot(call: Call) -> dict[str, Any]:
    return {
        "direction": call.direction,
        "from_number": call.from_number,
        "to_number": call.to_number,
        "agent": str(call.agent_id) if call.agent_id else None,
        "contact": str(call.contact_id) if call.contact_id else None,
        "company": str(call.company_id) if call.company_id else None,
        "started_at": call.started_at.isoformat() if call.started_at else None,
        "provider": call.provider,
        "external_id": call.external_id,
        "status": call.status,
    }


def _submit_processing(call: Call, run: int, nonce: str = "") -> None:
    key = f"calls.process:{call.pk}:{run}" + (f":{nonce}" if nonce else "")
    jobs.submit("calls.process", tenant=call.tenant, payload={"call_id": str(call.pk), "run": run}, dedupe_key=key)


def upload_call(
    tenant,
    actor: Actor,
    source: IO[bytes],
    *,
    filename: str,
    size: int,
    content_type: str = "",
    data: dict[str, Any] | None = None,
    provider: str = Provider.UPLOAD,
) -> tuple[Call, bool]:
    """Validate and store an uploaded recording and queue its analysis; ``(call, created)``.

    A repeated ``external_id`` answers the call already made from it (nothing stored twice).
    """
    values = clean_call_fields(tenant, actor, data or {})
    duplicate = existing_call(tenant, provider, values["external_id"])
    if duplicate is not None:
        return duplicate, False
    info = check_recording(tenant, source, size)
    blob = blobs.store(
        tenant,
        source,
        filename=filename,
        content_type=content_type or "application/octet-stream",
        purpose="call.recording",
    )
    try:
        with transaction.atomic():
            call = Call.objects.create(
                tenant=tenant,
                provider=provider,
                filename=os.path.basename(filename)[:255],
                recording=blob,
                duration=round(info.duration, 2),
                status=CallStatus.QUEUED,
                **values,
            )
            audit.record(tenant, actor, "call.created", obj=call, changes=audit.diff({}, call_snapshot(call)))
            events.emit(tenant, "call.created", {"call_id": str(call.pk)})
            _submit_processing(call, 1)
    except IntegrityError:
        blobs.delete(blob)  # a concurrent delivery of the same provider id won the race
        found = existing_call(tenant, provider, values["external_id"])
        if found is None:
            raise
        return found, False
    return call, True


def create_webhook_call(tenant, provider: str, data: dict[str, Any], recording_url: str) -> tuple[Call, bool]:
    """A call announced by a telephony provider; the recording is fetched by a job."""
    actor = Actor.system(f"{provider} webhook")
    values = clean_call_fields(tenant, None, data, strict=False)
    duplicate = existing_call(tenant, provider, values["external_id"])
    if duplicate is not None:
        return duplicate, False
    duration = data.get("duration")
    try:
        with transaction.atomic():
            call = Call.objects.create(
                tenant=tenant,
                provider=provider,
                recording_url=recording_url[:1000],
                status=CallStatus.FETCHING,
                duration=float(duration) if str(duration or "").replace(".", "", 1).isdigit() else 0,
                **values,
            )
            audit.record(tenant, actor, "call.created", obj=call, changes=audit.diff({}, call_snapshot(call)))
            events.emit(tenant, "call.created", {"call_id": str(call.pk)})
            jobs.submit(
                "calls.fetch", tenant=tenant, payload={"call_id": str(call.pk)}, dedupe_key=f"calls.fetch:{call.pk}"
            )
    except IntegrityError:
        found = existing_call(tenant, provider, values["external_id"])
        if found is None:
            raise
        return found, False
    return call, True


def attach_fetched_recording(call: Call, path: str, content_type: str) -> Call:
    """Store a fetched recording for a webhook call and queue its analysis (idempotent)."""
    if call.recording_id:
        return call
    info = check_recording(call.tenant, path, os.path.getsize(path))
    with open(path, "rb") as handle:
        blob = blobs.store(
            call.tenant,
            handle,
            filename=f"{call.provider}-{call.external_id or call.pk}",
            content_type=content_type,
            purpose="call.recording",
        )
    with transaction.atomic():
        call.recording = blob
        call.status = CallStatus.QUEUED
        call.failure_reason = ""
        call.duration = round(info.duration, 2)
        call.save(update_fields=["recording", "status", "failure_reason", "duration", "updated_at"])
        _submit_processing(call, 1)
    return call


E164 = re.compile(r"\+[1-9]\d{6,14}")


def log_live_call(tenant, provider: str, data: dict[str, Any]) -> tuple[Call, bool]:
    """The call record of a cloud-telephony call as it starts (status "live", no recording yet).

    ``data`` as for ``create_webhook_call`` plus optional ``agent`` (a user) and ``contact_id``. Idempotent
    on the provider's call id: ``(call, created)``; the recording comes later (``attach_recording_url``).
    """
    actor = Actor.system(f"{provider} telephony")
    values = clean_call_fields(tenant, None, data, strict=False)
    for name in ("from_number", "to_number"):
        # The provider sends E.164 already: keep a number the library's metadata does not know yet.
        raw = str(data.get(name) or "")
        if not values[name] and E164.fullmatch(raw):
            values[name] = raw
    if values["contact"] is None and data.get("contact_id") in (None, ""):
        customer = values["from_number"] if values["direction"] == Direction.INBOUND else values["to_number"]
        values["contact"] = match_contact(tenant, customer)
        values["company"] = values["contact"].company if values["contact"] is not None else None
    if data.get("agent") is not None:
        values["agent"] = data["agent"]
    duplicate = existing_call(tenant, provider, values["external_id"])
    if duplicate is not None:
        return duplicate, False
    try:
        with transaction.atomic():
            call = Call.objects.create(tenant=tenant, provider=provider, status=CallStatus.LIVE, **values)
            audit.record(tenant, actor, "call.created", obj=call, changes=audit.diff({}, call_snapshot(call)))
            events.emit(tenant, "call.created", {"call_id": str(call.pk)})
    except IntegrityError:
        found = existing_call(tenant, provider, values["external_id"])
        if found is None:
            raise
        return found, False
    return call, True


def attach_recording_url(call: Call, recording_url: str) -> Call:
    """A live or ended telephony call's recording is ready at the provider: fetch it, then analyse (idempotent)."""
    with transaction.atomic():
        call = Call.objects.select_for_update().get(pk=call.pk)
        if call.recording_id or call.status == CallStatus.FETCHING:
            return call
        call.recording_url, call.status = recording_url[:1000], CallStatus.FETCHING
        call.save(update_fields=["recording_url", "status", "updated_at"])
        jobs.submit(
            "calls.fetch", tenant=call.tenant, payload={"call_id": str(call.pk)}, dedupe_key=f"calls.fetch:{call.pk}"
        )
    return call
