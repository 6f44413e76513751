"""Call operations shared by the API, the web UI, the webhooks and the jobs.

Each function takes ``(tenant, actor, ...)``, validates (``ValidationError`` keyed by field),
writes in one transaction, records an audit entry and emits a domain event with ids only.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from octopushx import intelligence
from octopushx.calls.models import (
    Call,
    CallAnalysisResult,
    CallSettings,
    CallStatus,
    Direction,
    Provider,
    ReviewState,
    Utterance,
)
from octopushx.core import audit, blobs, crypto, events, jobs, keys
from octopushx.core.context import Actor
from octopushx.crm import fields as crm_fields
from octopushx.crm.models import Contact, ContactPhone
from octopushx.tenancy.models import Membership
from octopushx.tenancy.roles import Perm, Scope, has_perm, scope_of

ROLES = ("agent", "customer")
SPEAKERS = ("agent", "customer", "unknown")
SECRET_FIELDS = ("twilio_auth_token", "vonage_signature_secret", "vonage_private_key", "webhook_secret")


# --- tenant settings -------------------------------------------------------------------


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
    """The pipeline's settings: the server's model choice plus the tenant's policy."""
    llm = None
    if getattr(settings, "CALLS_LLM_URL", ""):
        llm = intelligence.LLMSettings(
            url=settings.CALLS_LLM_URL, model=settings.CALLS_LLM_MODEL, api_key=settings.CALLS_LLM_KEY
        )
    return intelligence.AnalysisSettings(
        model=settings.CALLS_ASR_MODEL,
        device=settings.CALLS_ASR_DEVICE,
        compute_type=settings.CALLS_ASR_COMPUTE_TYPE,
        beam_size=settings.CALLS_ASR_BEAM_SIZE,
        cpu_threads=settings.CALLS_ASR_THREADS,
        vad_filter=settings.CALLS_ASR_VAD,
        max_duration_seconds=row.max_duration_minutes * 60.0,
        keep_original=row.keep_original,
        llm=llm,
    )


# --- visibility ------------------------------------------------------------------------


def membership_of(tenant, actor: Actor | None) -> Membership | None:
    if actor is None or actor.user is None:
        return None
    return Membership.objects.filter(tenant=tenant, user=actor.user).first()


def visible_calls(tenant, membership: Membership | None) -> QuerySet:
    """Agents see their own calls, managers their team's, everyone else the tenant's."""
    qs = Call.objects.for_tenant(tenant)
    if membership is None:
        return qs.none()
    scope = scope_of(membership.role)
    if scope == Scope.ALL:
        return qs
    if scope == Scope.TEAM and membership.team_id:
        team = Membership.objects.filter(tenant=tenant, team_id=membership.team_id).values_list("user_id", flat=True)
        return qs.filter(agent_id__in=list(team))
    return qs.filter(agent_id=membership.user_id)


def get_visible_call(tenant, membership: Membership | None, pk) -> Call:
    """One call the member may see; 404 otherwise (the same answer as another tenant's id)."""
    call = Call.objects.get_for_tenant(tenant, pk)
    if not visible_calls(tenant, membership).filter(pk=call.pk).exists():
        raise Http404("No call with that id")
    return call


# --- matching --------------------------------------------------------------------------


def clean_number(value: Any, region: str) -> str:
    return crm_fields.clean_phone(value, region)


def match_contact(tenant, number: str) -> Contact | None:
    """The contact with this E.164 number (primary numbers first), if any."""
    if not number:
        return None
    phone = (
        ContactPhone.objects.for_tenant(tenant)
        .filter(number=number)
        .select_related("contact")
        .order_by("-is_primary", "created_at")
        .first()
    )
    return phone.contact if phone else None


def match_agent(tenant, *, email: str = "", extension: str = ""):
    """The member by email, else by extension (the raw value or its E.164 form)."""
    members = Membership.objects.filter(tenant=tenant).select_related("user")
    if email:
        found = members.filter(user__email__iexact=email.strip()).first()
        if found:
            return found.user
    if extension:
        found = members.filter(extension=extension.strip()).exclude(extension="").first()
        if found:
            return found.user
    return None


# --- intake ----------------------------------------------------------------------------


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
        contact = _visible_contact(tenant, actor, data["contact_id"])
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


def _visible_contact(tenant, actor: Actor | None, value) -> Contact | None:
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


# --- processing state ------------------------------------------------------------------


def mark(call: Call, status: str, *, failure_reason: str = "", skip_reason: str = "") -> None:
    call.status = status
    call.failure_reason = failure_reason[:500]
    call.skip_reason = skip_reason[:300]
    call.save(update_fields=["status", "failure_reason", "skip_reason", "updated_at"])


def fail(call: Call, reason: str) -> None:
    """The call failed for good: the reason is shown beside a retry action."""
    with transaction.atomic():
        mark(call, CallStatus.FAILED, failure_reason=reason)
        audit.record(
            call.tenant, Actor.system("calls"), "call.failed", obj=call, changes={"reason": [None, reason[:200]]}
        )
        events.emit(call.tenant, "call.failed", {"call_id": str(call.pk)})


def next_run(call: Call) -> int:
    return (call.results.aggregate(top=Max("run"))["top"] or 0) + 1


def retry(tenant, actor: Actor, call: Call) -> Call:
    """Queue a new analysis run: after a failure, or to reprocess (the old result is kept)."""
    if call.status in (CallStatus.QUEUED, CallStatus.PROCESSING, CallStatus.FETCHING):
        raise ValidationError({"status": ["The call is already being processed"]})
    if call.recording_id is None and call.redacted_id is None:
        if call.recording_url:
            with transaction.atomic():
                mark(call, CallStatus.FETCHING)
                audit.record(tenant, actor, "call.retried", obj=call, changes={"status": ["failed", "fetching"]})
                jobs.submit(
                    "calls.fetch",
                    tenant=tenant,
                    payload={"call_id": str(call.pk)},
                    dedupe_key=f"calls.fetch:{call.pk}:{uuid.uuid4().hex[:8]}",
                )
            return call
        raise ValidationError({"status": ["The recording of this call is not stored"]})
    old = call.status
    with transaction.atomic():
        mark(call, CallStatus.QUEUED)
        audit.record(tenant, actor, "call.retried", obj=call, changes={"status": [old, CallStatus.QUEUED]})
        _submit_processing(call, next_run(call), nonce=uuid.uuid4().hex[:8])
    return call


def save_result(
    call: Call, run: int, job_id, analysis: intelligence.CallAnalysis, peaks: list[float]
) -> CallAnalysisResult:
    """Write one run's result, its transcript lines and the call's headline values (one transaction)."""
    data = analysis.to_dict(words=False)
    original = data.pop("original_utterances", None)
    provenance = data.get("provenance", {})
    with transaction.atomic():
        result, created = CallAnalysisResult.objects.get_or_create(
            call=call,
            run=run,
            defaults=dict(
                tenant=call.tenant,
                job_id=job_id,
                pipeline_version=provenance.get("pipeline_version", ""),
                model=provenance.get("asr_model", ""),
                model_version=provenance.get("asr_model_version", ""),
                analysis_settings=provenance.get("settings", {}),
                provenance=provenance,
                data=data,
                original=original,
            ),
        )
        if not created:
            return result
        Utterance.objects.bulk_create(
            [
                Utterance(
                    tenant=call.tenant,
                    call=call,
                    result=result,
                    position=index,
                    speaker=u["speaker"],
                    start=u["start"],
                    end=u["end"],
                    text=u["text"],
                    sentiment=u.get("sentiment", 0.0),
                )
                for index, u in enumerate(data.get("utterances", []))
            ]
        )
        insights = data.get("insights", {})
        call.current = result
        call.summary = insights.get("summary", "")
        call.sentiment = (insights.get("sentiment") or {}).get("overall")
        call.review_state = ReviewState.UNREVIEWED
        call.duration = round(data.get("audio", {}).get("duration") or call.duration, 2)
        call.peaks = peaks
        call.status = CallStatus.ANALYSED
        call.failure_reason = ""
        call.skip_reason = ""
        call.save()
        audit.record(
            call.tenant,
            Actor.system("calls"),
            "call.analysed",
            obj=call,
            changes={"run": [None, run], "model": [None, result.model]},
        )
        events.emit(call.tenant, "call.analysed", {"call_id": str(call.pk), "result_id": str(result.pk), "run": run})
    return result


# --- review ----------------------------------------------------------------------------


def _current(call: Call) -> CallAnalysisResult:
    if call.current_id is None:
        raise ValidationError({"status": ["The call has no analysis to review yet"]})
    return CallAnalysisResult.objects.get(pk=call.current_id)


def approve(tenant, actor: Actor, call: Call) -> CallAnalysisResult:
    """A person confirms the AI output as it is."""
    result = _current(call)
    old = result.review_state
    with transaction.atomic():
        result.review_state = ReviewState.APPROVED
        result.reviewed_by = actor.user
        result.reviewed_at = timezone.now()
        result.save(update_fields=["review_state", "reviewed_by", "reviewed_at", "updated_at"])
        Call.objects.filter(pk=call.pk).update(review_state=ReviewState.APPROVED)
        call.review_state = ReviewState.APPROVED
        audit.record(tenant, actor, "call.approved", obj=call, changes={"review_state": [old, ReviewState.APPROVED]})
        events.emit(tenant, "call.reviewed", {"call_id": str(call.pk), "result_id": str(result.pk)})
    return result


def correct(tenant, actor: Actor, call: Call, data: dict[str, Any]) -> CallAnalysisResult:
    """Correct the summary, action items or transcript lines; each correction keeps who and when."""
    result = _current(call)
    errors: dict[str, list[str]] = {}
    changes: dict[str, list[Any]] = {}
    analysis = result.data
    insights = analysis.setdefault("insights", {})
    if data.get("summary") is not None:
        summary = str(data["summary"]).strip()
        if len(summary) > 5000:
            errors["summary"] = ["At most 5000 characters"]
        changes["summary"] = [insights.get("summary", ""), summary]
    if data.get("action_items") is not None:
        items = []
        for index, item in enumerate(data["action_items"]):
            text = str((item.get("text") if isinstance(item, dict) else item) or "").strip()
            owner = str((item.get("owner") if isinstance(item, dict) else "") or "unknown")
            if not text:
                errors[f"action_items.{index}"] = ["An action item needs a text"]
            if owner not in SPEAKERS:
                errors[f"action_items.{index}.owner"] = [f"One of {', '.join(SPEAKERS)}"]
            due = item.get("due") if isinstance(item, dict) else None
            items.append({"text": text[:500], "owner": owner, "due": due})
        changes["action_items"] = [insights.get("action_items", []), items]
    lines = {u.position: u for u in result.lines.all()}
    line_changes: list[tuple[Utterance, str, str]] = []
    for index, item in enumerate(data.get("utterances") or []):
        position = item.get("index") if isinstance(item, dict) else None
        if not isinstance(position, int) or position not in lines:
            errors[f"utterances.{index}.index"] = ["No transcript line with that index"]
            continue
        line = lines[position]
        text = str(item.get("text", line.text)).strip()
        speaker = str(item.get("speaker", line.speaker))
        if speaker not in SPEAKERS:
            errors[f"utterances.{index}.speaker"] = [f"One of {', '.join(SPEAKERS)}"]
            continue
        line_changes.append((line, text, speaker))
        changes[f"utterances.{position}"] = [
            {"speaker": line.speaker, "text": line.text},
            {"speaker": speaker, "text": text},
        ]
    if not changes and not errors:
        errors["__all__"] = ["Give a summary, action items or transcript lines to correct"]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if "summary" in changes:
            insights["summary"] = changes["summary"][1]
        if "action_items" in changes:
            insights["action_items"] = changes["action_items"][1]
        utterances = analysis.get("utterances", [])
        for line, text, speaker in line_changes:
            line.text, line.speaker = text, speaker
            line.save(update_fields=["text", "speaker", "updated_at"])
            if line.position < len(utterances):
                utterances[line.position].update(text=text, speaker=speaker)
        result.data = analysis
        result.corrections = [
            *result.corrections,
            {
                "by": actor.label,
                "by_id": str(actor.user.pk) if actor.user else None,
                "at": timezone.now().isoformat(),
                "changes": changes,
            },
        ]
        result.review_state = ReviewState.CORRECTED
        result.reviewed_by = actor.user
        result.reviewed_at = timezone.now()
        result.save()
        Call.objects.filter(pk=call.pk).update(review_state=ReviewState.CORRECTED, summary=insights.get("summary", ""))
        call.review_state = ReviewState.CORRECTED
        audit.record(tenant, actor, "call.corrected", obj=call, changes=changes)
        events.emit(tenant, "call.reviewed", {"call_id": str(call.pk), "result_id": str(result.pk)})
    return result


def action_item_task(tenant, actor: Actor, call: Call, index: int):
    """Turn one action item of the current analysis into a CRM task on the call's contact."""
    from octopushx.crm import services as crm

    result = _current(call)
    items = result.data.get("insights", {}).get("action_items", [])
    if not isinstance(index, int) or not 0 <= index < len(items):
        raise ValidationError({"index": ["No action item with that index"]})
    item = items[index]
    description = f"From the call of {timezone.localtime(call.started_at or call.created_at):%d %b %Y %H:%M}"
    if item.get("due"):
        description += f" (due: {item['due']})"
    if result.review_state == ReviewState.UNREVIEWED:
        description += " — unreviewed AI output"
    data: dict[str, Any] = {"title": item["text"][:200], "description": description}
    if call.contact_id:
        data["contact_id"] = str(call.contact_id)
    if call.agent_id and Membership.objects.filter(tenant=tenant, user_id=call.agent_id).exists():
        data["assignee_id"] = str(call.agent_id)
    return crm.create_task(tenant, actor, data)


def contact_from_number(tenant, actor: Actor, call: Call) -> Contact:
    """Turn an unmatched customer number into a new contact and link the call (and its twins)."""
    from octopushx.crm import services as crm

    if call.contact_id:
        raise ValidationError({"contact_id": ["The call is already linked to a contact"]})
    if not call.customer_number:
        raise ValidationError({"from_number": ["The call has no customer number"]})
    with transaction.atomic():
        contact = match_contact(tenant, call.customer_number) or crm.create_contact(
            tenant, actor, {"phone": call.customer_number}
        )
        link_contact(tenant, actor, call, contact)
    return contact


def link_contact(tenant, actor: Actor, call: Call, contact: Contact | None) -> Call:
    old = call_snapshot(call)
    with transaction.atomic():
        call.contact = contact
        call.company = contact.company if contact else None
        call.save(update_fields=["contact", "company", "updated_at"])
        audit.record(tenant, actor, "call.updated", obj=call, changes=audit.diff(old, call_snapshot(call)))
        events.emit(tenant, "call.updated", {"call_id": str(call.pk), "fields": ["contact"]})
    return call


def original_viewed(tenant, actor: Actor, call: Call, what: str) -> None:
    """Every look at the unredacted recording or transcript is audited (and needs the right)."""
    membership = membership_of(tenant, actor)
    if membership is None or not has_perm(membership.role, Perm.VIEW_ORIGINAL):
        raise PermissionDenied("Your role cannot see unredacted recordings (view_original)")
    audit.record(tenant, actor, "call.original_viewed", obj=call, changes={"what": [None, what]})


def delete_call(tenant, actor: Actor, call: Call) -> None:
    """Delete a call, its results and its stored recordings."""
    stored = [b for b in (call.recording, call.redacted) if b is not None]
    with transaction.atomic():
        audit.record(tenant, actor, "call.deleted", obj=call, changes=audit.diff(call_snapshot(call), {}))
        events.emit(tenant, "call.deleted", {"call_id": str(call.pk)})
        call.delete()
    for blob in stored:
        blobs.delete(blob)


# --- team figures ----------------------------------------------------------------------


def team_averages(tenant, membership: Membership | None, limit: int = 200) -> dict[str, float]:
    """Mean metrics over the member's visible analysed calls (for "metrics beside the team's")."""
    ids = list(
        visible_calls(tenant, membership)
        .filter(status=CallStatus.ANALYSED, current__isnull=False)
        .order_by("-created_at")
        .values_list("current_id", flat=True)[:limit]
    )
    totals: dict[str, list[float]] = {}
    for data in CallAnalysisResult.objects.filter(pk__in=ids).values_list("data", flat=True):
        metrics = (data.get("insights") or {}).get("metrics") or {}
        for name, value in _flat_metrics(metrics).items():
            totals.setdefault(name, []).append(value)
    return {name: round(sum(values) / len(values), 3) for name, values in totals.items() if values}


def _flat_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    flat: dict[str, float] = {}
    for speaker, value in (metrics.get("talk_ratio") or {}).items():
        flat[f"talk_ratio.{speaker}"] = float(value)
    for speaker, value in (metrics.get("words_per_minute") or {}).items():
        flat[f"words_per_minute.{speaker}"] = float(value)
    for speaker, value in (metrics.get("questions") or {}).items():
        flat[f"questions.{speaker}"] = float(value)
    for speaker, value in (metrics.get("interruptions") or {}).items():
        flat[f"interruptions.{speaker}"] = float(value)
    if metrics.get("silence_ratio") is not None:
        flat["silence_ratio"] = float(metrics["silence_ratio"])
    if metrics.get("patience") is not None:
        flat["patience"] = float(metrics["patience"])
    if (metrics.get("longest_monologue") or {}).get("seconds") is not None:
        flat["longest_monologue"] = float(metrics["longest_monologue"]["seconds"])
    return flat


def flat_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    return _flat_metrics(metrics)


def restricted_reason(call: Call) -> str:
    if call.contact_id and Contact.objects.filter(pk=call.contact_id, restricted=True).exists():
        return "The contact has restricted processing (GDPR): the recording is kept but not analysed"
    return ""


def filter_calls(qs: QuerySet, filters: dict[str, Any]) -> QuerySet:
    """List filters shared by the API and the call list page (bad values raise ValidationError)."""
    errors: dict[str, list[str]] = {}
    for name, lookup in (("date_from", "created_at__gte"), ("date_to", "created_at__lte")):
        value = filters.get(name)
        if value:
            parsed = parse_datetime(str(value)) or _date(str(value), end=name == "date_to")
            if parsed is None:
                errors[name] = ["A date such as 2026-01-31"]
            else:
                qs = qs.filter(
                    Q(started_at__isnull=False, **{lookup.replace("created_at", "started_at"): parsed})
                    | Q(started_at__isnull=True, **{lookup: parsed})
                )
    if filters.get("agent_id"):
        try:
            qs = qs.filter(agent_id=uuid.UUID(str(filters["agent_id"])))
        except ValueError:
            errors["agent_id"] = ["Not a member id"]
    if filters.get("contact_id"):
        try:
            qs = qs.filter(contact_id=uuid.UUID(str(filters["contact_id"])))
        except ValueError:
            errors["contact_id"] = ["Not a contact id"]
    if filters.get("direction"):
        if filters["direction"] not in Direction.values:
            errors["direction"] = ["inbound or outbound"]
        else:
            qs = qs.filter(direction=filters["direction"])
    for name, lookup in (
        ("min_duration", "duration__gte"),
        ("max_duration", "duration__lte"),
        ("min_sentiment", "sentiment__gte"),
        ("max_sentiment", "sentiment__lte"),
    ):
        value = filters.get(name)
        if value not in (None, ""):
            try:
                qs = qs.filter(**{lookup: float(value)})
            except (TypeError, ValueError):
                errors[name] = ["A number"]
    if filters.get("sentiment"):
        bands = {
            "positive": Q(sentiment__gte=0.05),
            "negative": Q(sentiment__lte=-0.05),
            "neutral": Q(sentiment__gt=-0.05, sentiment__lt=0.05),
        }
        if filters["sentiment"] not in bands:
            errors["sentiment"] = ["positive, neutral or negative"]
        else:
            qs = qs.filter(bands[filters["sentiment"]])
    if filters.get("review_state"):
        if filters["review_state"] not in ReviewState.values:
            errors["review_state"] = [", ".join(ReviewState.values)]
        else:
            qs = qs.filter(review_state=filters["review_state"])
    if filters.get("status"):
        if filters["status"] not in CallStatus.values:
            errors["status"] = [", ".join(CallStatus.values)]
        else:
            qs = qs.filter(status=filters["status"])
    if filters.get("keyword"):
        from octopushx.calls import search

        qs = qs.filter(pk__in=search.matching_call_ids(qs, filters["keyword"]))
    if errors:
        raise ValidationError(errors)
    return qs


def _date(text: str, *, end: bool) -> datetime | None:
    from django.utils.dateparse import parse_date

    day = parse_date(text)
    if day is None:
        return None
    moment = datetime.combine(day, datetime.max.time() if end else datetime.min.time())
    return timezone.make_aware(moment, timezone.get_current_timezone())
