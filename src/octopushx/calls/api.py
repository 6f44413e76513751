"""API of Octopush X: upload calls, list and read them (transcript, insights), audio with
Range requests, review (approve, correct), retry, action item → CRM task, transcript search."""

from __future__ import annotations

import re
from typing import Any

from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.urls import reverse
from ninja import File, Form, Query, Router, Schema
from ninja.files import UploadedFile

from octopushx.api.auth import require
from octopushx.api.errors import ErrorOut
from octopushx.api.pagination import paginate
from octopushx.calls import search, services
from octopushx.calls.models import Call, CallAnalysisResult, ReviewState
from octopushx.calls.schemas import (
    AnalysisRunList,
    CallContactOut,
    CallDetailOut,
    CallPage,
    CallSettingsOut,
    CallStatusOut,
    CallSummaryOut,
    CallTaskOut,
    CallUploadOut,
    SummaryEmailOut,
    TranscriptSearchOut,
)
from octopushx.calls.services import trackers
from octopushx.core import blobs
from octopushx.tenancy.roles import Perm, has_perm

router = Router(tags=["calls"])
ERRORS = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
UNREVIEWED_LABEL = "Unreviewed AI output"


# --- representations -------------------------------------------------------------------


def _person(user) -> dict | None:
    if user is None:
        return None
    return {"id": str(user.pk), "email": user.email, "name": getattr(user, "display_name", "") or user.email}


def call_summary(call: Call) -> dict[str, Any]:
    return {
        "id": str(call.pk),
        "status": call.status,
        "outcome": call.outcome or None,
        "failure_reason": call.failure_reason,
        "skip_reason": call.skip_reason,
        "direction": call.direction,
        "from_number": call.from_number,
        "to_number": call.to_number,
        "agent": _person(call.agent),
        "contact": {"id": str(call.contact_id), "name": str(call.contact)} if call.contact_id else None,
        "company_id": str(call.company_id) if call.company_id else None,
        "started_at": call.started_at.isoformat() if call.started_at else None,
        "duration": call.duration,
        "provider": call.provider,
        "external_id": call.external_id,
        "created_at": call.created_at.isoformat(),
        "summary": call.summary,
        "sentiment": call.sentiment,
        "review_state": call.review_state or None,
        "label": UNREVIEWED_LABEL if call.review_state == ReviewState.UNREVIEWED else None,
    }


def result_info(result: CallAnalysisResult) -> dict[str, Any]:
    return {
        "id": str(result.pk),
        "run": result.run,
        "created_at": result.created_at.isoformat(),
        "pipeline_version": result.pipeline_version,
        "model": result.model,
        "model_version": result.model_version,
        "settings": result.analysis_settings,
        "diarisation": result.provenance.get("diarisation"),
        "review_state": result.review_state,
        "reviewed_by": _person(result.reviewed_by),
        "reviewed_at": result.reviewed_at.isoformat() if result.reviewed_at else None,
        "corrections": result.corrections,
    }


def call_detail(call: Call, *, original: bool = False) -> dict[str, Any]:
    data = call_summary(call)
    data["channel_roles"] = call.channel_roles or "mono"
    data["has_original_audio"] = call.recording_id is not None
    data["has_redacted_audio"] = call.redacted_id is not None
    data["peaks"] = call.peaks
    result = CallAnalysisResult.objects.filter(pk=call.current_id).select_related("reviewed_by").first()
    if result is None:
        data.update(analysis=None, transcript=None, insights=None, redaction=None, warnings=[], speakers=None)
        return data
    body = result.data
    utterances = body.get("utterances", [])
    if original and result.original:
        utterances = result.original
    data["analysis"] = result_info(result)
    data["transcript"] = {
        "redacted": not (original and result.original),
        "utterances": [
            {
                "index": i,
                "speaker": u["speaker"],
                "start": u["start"],
                "end": u["end"],
                "text": u["text"],
                "sentiment": u.get("sentiment", 0.0),
            }
            for i, u in enumerate(utterances)
        ],
    }
    data["insights"] = {**(body.get("insights") or {}), "trackers": trackers.call_hits(call)}
    spans = (body.get("redaction") or {}).get("spans", [])
    counts: dict[str, int] = {}
    for span in spans:
        counts[span["kind"]] = counts.get(span["kind"], 0) + 1
    data["redaction"] = {"counts": counts, "spans": spans}
    data["warnings"] = body.get("warnings", [])
    data["speakers"] = services.speakers_of(body)
    return data


# --- intake ----------------------------------------------------------------------------


@router.post("/calls", response={200: CallUploadOut, 201: CallUploadOut, **ERRORS}, summary="Upload a call recording")
def upload_call(
    request,
    file: File[UploadedFile],
    direction: Form[str | None] = None,
    from_number: Form[str | None] = None,
    to_number: Form[str | None] = None,
    agent_email: Form[str | None] = None,
    contact_id: Form[str | None] = None,
    started_at: Form[str | None] = None,
    channel_roles: Form[str | None] = None,
    external_id: Form[str | None] = None,
):
    """Multipart upload; answers ``{"id", "status": "queued"}`` at once and analyses in a job."""
    require(request, Perm.WRITE)
    data = {
        "direction": direction,
        "from_number": from_number,
        "to_number": to_number,
        "agent_email": agent_email,
        "contact_id": contact_id,
        "started_at": started_at,
        "channel_roles": channel_roles,
        "external_id": external_id,
    }
    call, created = services.upload_call(
        request.tenant,
        request.actor,
        file.file,
        filename=file.name or "recording",
        size=file.size,
        content_type=file.content_type or "",
        data=data,
    )
    return (201 if created else 200), {"id": str(call.pk), "status": call.status, "duplicate": not created}


# --- reading ---------------------------------------------------------------------------


class CallFilters(Schema):
    date_from: str | None = None
    date_to: str | None = None
    date_before: str | None = None
    agent_id: str | None = None
    contact_id: str | None = None
    direction: str | None = None
    min_duration: float | None = None
    max_duration: float | None = None
    sentiment: str | None = None
    min_sentiment: float | None = None
    max_sentiment: float | None = None
    keyword: str | None = None
    review_state: str | None = None
    status: str | None = None
    outcome: str | None = None
    tracker: str | None = None


@router.get("/calls", response={200: CallPage, **ERRORS}, summary="List calls")
def list_calls(request, filters: Query[CallFilters], cursor: str | None = None, limit: int = 50):
    require(request, Perm.READ)
    qs = services.visible_calls(request.tenant, request.membership).select_related("agent", "contact")
    qs = services.filter_calls(qs, filters.dict(exclude_none=True))
    rows, next_cursor = paginate(qs, cursor=cursor, limit=limit)
    return {"items": [call_summary(c) for c in rows], "next": next_cursor}


@router.get("/calls/search", response={200: TranscriptSearchOut, **ERRORS}, summary="Search transcripts")
def search_calls(request, q: str, limit: int = 50, tracker: str | None = None):
    """Transcript lines matching every word of ``q`` in the calls you may see (with a hit of ``tracker``)."""
    require(request, Perm.READ)
    if not 1 <= limit <= 200:
        from django.core.exceptions import ValidationError

        raise ValidationError({"limit": ["Between 1 and 200"]})
    calls = services.filter_calls(services.visible_calls(request.tenant, request.membership), {"tracker": tracker})
    lines = (
        search.matching_lines(calls, q)
        .select_related("call", "call__contact")
        .order_by("-call__created_at", "position")
    )
    hits = []
    for line in lines[:limit]:
        hits.append(
            {
                "call_id": str(line.call_id),
                "call": line.call.title,
                "index": line.position,
                "speaker": line.speaker,
                "start": line.start,
                "end": line.end,
                "text": line.text,
                "highlights": [piece for piece, hit in search.highlight(line.text, q) if hit],
            }
        )
    return {"items": hits, "query": q}


@router.get("/calls/settings", response={200: CallSettingsOut, **ERRORS}, summary="Call settings of the organisation")
def get_settings(request):
    require(request, Perm.ADMIN)
    return services.settings_snapshot(services.call_settings(request.tenant))


class CallSettingsIn(Schema):
    keep_original: bool | None = None
    max_upload_mb: int | None = None
    max_duration_minutes: int | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    vonage_signature_secret: str | None = None
    vonage_application_id: str | None = None
    vonage_private_key: str | None = None
    webhook_secret: str | None = None


@router.patch("/calls/settings", response={200: CallSettingsOut, **ERRORS}, summary="Change call settings")
def patch_settings(request, payload: CallSettingsIn):
    """Secrets are write-only: they are sealed with the organisation's key and never shown again."""
    require(request, Perm.ADMIN)
    row = services.update_settings(request.tenant, request.actor, payload.dict(exclude_unset=True))
    return services.settings_snapshot(row)


def _call(request, call_id) -> Call:
    return services.get_visible_call(request.tenant, request.membership, call_id)


@router.get(
    "/calls/{call_id}",
    response={200: CallDetailOut, **ERRORS},
    exclude_unset=True,
    summary="One call with transcript and insights",
)
def get_call(request, call_id: str, original: bool = False):
    """``original=true`` shows the unredacted transcript (view_original right; every view audited)."""
    require(request, Perm.READ)
    call = _call(request, call_id)
    if original:
        services.original_viewed(request.tenant, request.actor, call, "transcript")
    return call_detail(call, original=original)


@router.get(
    "/calls/{call_id}/results",
    response={200: AnalysisRunList, **ERRORS},
    exclude_unset=True,
    summary="Every analysis run of a call",
)
def call_results(request, call_id: str):
    require(request, Perm.READ)
    call = _call(request, call_id)
    results = CallAnalysisResult.objects.for_tenant(request.tenant).filter(call=call).select_related("reviewed_by")
    return {"items": [{**result_info(r), "current": r.pk == call.current_id} for r in results]}


RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def audio_response(request, call: Call, *, original: bool = False) -> HttpResponse:
    """The recording (redacted unless ``original``) with single-range support for seeking."""
    blob = call.recording if original else call.redacted
    if blob is None:
        raise Http404("No such recording for this call")
    size = blob.size
    start, end, status = 0, size - 1, 200
    header = request.headers.get("Range", "")
    if header:
        match = RANGE.match(header.strip())
        if not match or (not match.group(1) and not match.group(2)):
            return _unsatisfiable(size)
        if match.group(1):
            start = int(match.group(1))
            end = min(int(match.group(2)), size - 1) if match.group(2) else size - 1
        else:
            start = max(0, size - int(match.group(2)))
        if start >= size or start > end:
            return _unsatisfiable(size)
        status = 206
    length = end - start + 1

    def body():
        remaining = length
        for piece in blobs.read(blob, start=start):
            if remaining <= 0:
                break
            yield piece[:remaining]
            remaining -= len(piece)

    response = StreamingHttpResponse(
        body(), status=status, content_type=blob.content_type or "application/octet-stream"
    )
    response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, no-store"
    if status == 206:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    return response


def _unsatisfiable(size: int) -> HttpResponse:
    response = HttpResponse(status=416)
    response["Content-Range"] = f"bytes */{size}"
    return response


@router.get(
    "/calls/{call_id}/audio",
    summary="The recording (redacted by default), with Range requests",
    response={200: None, 206: None, **ERRORS},
)
def call_audio(request, call_id: str, original: bool = False):
    require(request, Perm.READ)
    call = _call(request, call_id)
    if original:
        services.original_viewed(request.tenant, request.actor, call, "audio")
    return audio_response(request, call, original=original)


# --- review and actions ----------------------------------------------------------------


@router.post(
    "/calls/{call_id}/approve",
    response={200: CallDetailOut, **ERRORS},
    exclude_unset=True,
    summary="Approve the AI output",
)
def approve_call(request, call_id: str):
    require(request, Perm.WRITE)
    call = _call(request, call_id)
    services.approve(request.tenant, request.actor, call)
    return call_detail(Call.objects.get(pk=call.pk))


class ActionItemIn(Schema):
    text: str
    owner: str = "unknown"
    due: str | None = None


class UtteranceFix(Schema):
    index: int
    text: str | None = None
    speaker: str | None = None


class CorrectionIn(Schema):
    summary: str | None = None
    action_items: list[ActionItemIn] | None = None
    utterances: list[UtteranceFix] | None = None


@router.post(
    "/calls/{call_id}/corrections",
    response={200: CallDetailOut, **ERRORS},
    exclude_unset=True,
    summary="Correct the AI output",
)
def correct_call(request, call_id: str, payload: CorrectionIn):
    """Corrections are kept with who made them and when; the review state becomes ``corrected``."""
    require(request, Perm.WRITE)
    call = _call(request, call_id)
    data = payload.dict(exclude_none=True)
    if "utterances" in data:
        data["utterances"] = [{k: v for k, v in u.items() if v is not None} for u in data["utterances"]]
    services.correct(request.tenant, request.actor, call, data)
    return call_detail(Call.objects.get(pk=call.pk))


@router.post("/calls/{call_id}/retry", response={200: CallStatusOut, **ERRORS}, summary="Retry or reprocess a call")
def retry_call(request, call_id: str):
    require(request, Perm.WRITE)
    call = services.retry(request.tenant, request.actor, _call(request, call_id))
    return {"id": str(call.pk), "status": call.status}


class ActionItemTaskIn(Schema):
    index: int


@router.post(
    "/calls/{call_id}/tasks", response={201: CallTaskOut, **ERRORS}, summary="Turn an action item into a CRM task"
)
def action_item_task(request, call_id: str, payload: ActionItemTaskIn):
    require(request, Perm.WRITE)
    task = services.action_item_task(request.tenant, request.actor, _call(request, call_id), payload.index)
    return 201, {
        "id": str(task.pk),
        "title": task.title,
        "contact_id": str(task.contact_id) if task.contact_id else None,
    }


@router.post(
    "/calls/{call_id}/contact",
    response={201: CallContactOut, **ERRORS},
    summary="Make a contact of the caller's number",
)
def contact_from_call(request, call_id: str):
    require(request, Perm.WRITE)
    contact = services.contact_from_number(request.tenant, request.actor, _call(request, call_id))
    return 201, {"id": str(contact.pk), "name": str(contact)}


class ContactLinkIn(Schema):
    contact_id: str | None = None


@router.put("/calls/{call_id}/contact", response={200: CallSummaryOut, **ERRORS}, summary="Link the call to a contact")
def link_contact(request, call_id: str, payload: ContactLinkIn):
    """Link to a contact you may see (404 for any other id); ``null`` or ``""`` unlinks. Audited."""
    require(request, Perm.WRITE)
    call = services.link_contact_by_id(request.tenant, request.actor, _call(request, call_id), payload.contact_id)
    return call_summary(call)


@router.delete("/calls/{call_id}", response={204: None, **ERRORS}, summary="Delete a call and its recordings")
def delete_call(request, call_id: str):
    require(request, Perm.DELETE)
    services.delete_call(request.tenant, request.actor, _call(request, call_id))
    return 204, None


def can_view_original(request) -> bool:
    return has_perm(getattr(request.membership, "role", None), Perm.VIEW_ORIGINAL)


# --- sharing the summary ---------------------------------------------------------------


def call_link(request, call: Call) -> str:
    return request.build_absolute_uri(reverse("calls:detail", args=[call.pk]))


@router.get(
    "/calls/{call_id}/summary",
    response={200: None, **ERRORS},
    summary="Download the call summary (md, pdf or json)",
)
def export_summary(request, call_id: str, format: str = "md", confirm_unreviewed: bool = False):
    """Summary, action items, key metrics and a link back. A summary no person approved needs
    ``confirm_unreviewed=true`` (422 otherwise) and carries an "unreviewed AI output" label."""
    require(request, Perm.EXPORT)
    call = _call(request, call_id)
    filename, content_type, body = services.export_summary(
        request.tenant,
        request.actor,
        call,
        format,
        link=call_link(request, call),
        confirm_unreviewed=confirm_unreviewed,
    )
    return file_response(filename, content_type, body)


def file_response(filename: str, content_type: str, body: bytes) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


class SummaryEmailIn(Schema):
    to: str
    confirm_unreviewed: bool = False
    message: str | None = None


@router.post(
    "/calls/{call_id}/summary/email", response={200: SummaryEmailOut, **ERRORS}, summary="Email the call summary"
)
def email_summary(request, call_id: str, payload: SummaryEmailIn):
    """Sends the summary as plain text to one address (422 for a bad address or an unconfirmed draft)."""
    require(request, Perm.EXPORT)
    call = _call(request, call_id)
    doc = services.email_summary(
        request.tenant,
        request.actor,
        call,
        payload.to,
        link=call_link(request, call),
        confirm_unreviewed=payload.confirm_unreviewed,
        message=payload.message or "",
    )
    return {"sent_to": payload.to.strip(), "labelled": doc.label is not None, "label": doc.label}
