"""The URLs a provider calls under ``/hooks/telephony/``: inbound calls, flow steps, status events, recordings.

Thin: each view finds the tenant from the id in its URL (a number, an account or a flow), refuses
suspended organisations, checks the provider's signature with that tenant's secret (403, nothing
stored, on a bad one), reads the provider's fields and hands them to ``routing`` (what the call hears
next) or ``callbacks`` (what the call's record becomes). Documents are TwiML for Twilio, NCCO for Vonage.
"""

from __future__ import annotations

import json
from datetime import datetime
from email.utils import parsedate_to_datetime

from django.http import Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from octopushx.core import blobs
from octopushx.telephony import callbacks, flows, prompts, routing, signatures
from octopushx.telephony.compile import PROVIDERS
from octopushx.telephony.models import CallFlow, PhoneNumber, ProviderAccount
from octopushx.tenancy.models import OrgKind
from octopushx.tenancy.suspension import webhook_refusal


def _live_tenant(tenant):
    if tenant.kind != OrgKind.CUSTOMER or tenant.deleted_at is not None:
        raise Http404("No such organisation")
    return tenant


def _forbidden() -> JsonResponse:
    return JsonResponse({"detail": "The provider signature is missing or wrong", "errors": {}}, status=403)


def _unprocessable(detail: str, fields: list[str]) -> JsonResponse:
    return JsonResponse({"detail": detail, "errors": {name: ["Required"] for name in fields}}, status=422)


def _gate(provider: str, request, tenant):
    """The refusal for a suspended tenant or a bad signature, else None."""
    refusal = webhook_refusal(tenant)
    if refusal is not None:
        return refusal
    if not signatures.valid(provider, request, tenant):
        return _forbidden()
    return None


def _document(provider: str, document) -> HttpResponse:
    if document is None:
        return HttpResponse(status=204)
    if provider == "twilio":
        return HttpResponse(document, content_type="text/xml")
    return JsonResponse(document, safe=False)


def _body(request) -> dict:
    """A Vonage JSON body (or the query string of a GET answer); Twilio's form fields."""
    if request.method == "GET":
        return request.GET.dict()
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}
    return request.POST.dict()


def _int(value) -> int | None:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def _twilio_time(value: str) -> datetime | None:
    try:
        return parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError):
        return None


def _vonage_time(value: str) -> datetime | None:
    parsed = parse_datetime(str(value or ""))
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.utc)
    return parsed


def _account(account_id, provider: str) -> ProviderAccount:
    account = ProviderAccount.objects.filter(pk=account_id, provider=provider).select_related("tenant").first()
    if account is None:
        raise Http404("No such account")
    _live_tenant(account.tenant)
    return account


# --- inbound calls --------------------------------------------------------------------------------


@csrf_exempt
@require_POST
def twilio_incoming(request, number_id):
    number = PhoneNumber.objects.filter(pk=number_id, provider="twilio").select_related("tenant", "flow", "account")
    number = number.first()
    if number is None:
        raise Http404("No such number")
    tenant = _live_tenant(number.tenant)
    refusal = _gate("twilio", request, tenant)
    if refusal is not None:
        return refusal
    data = request.POST
    if data.get("AccountSid") and data["AccountSid"] != number.account.account_id:
        return _forbidden()
    if not data.get("CallSid"):
        return _unprocessable("CallSid is required", ["CallSid"])
    document, _ = routing.start(number, call_id=data["CallSid"], from_number=data.get("From", ""),
                                to_number=data.get("To", number.number))  # fmt: skip
    return _document("twilio", document)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def vonage_answer(request, account_id):
    account = _account(account_id, "vonage")
    tenant = account.tenant
    refusal = _gate("vonage", request, tenant)
    if refusal is not None:
        return refusal
    data = _body(request)
    missing = [name for name in ("to", "uuid") if not data.get(name)]
    if missing:
        return _unprocessable("to and uuid are required", missing)
    dialled = str(data["to"]).strip()
    candidates = {dialled, dialled if dialled.startswith("+") else f"+{dialled}"}
    number = (
        PhoneNumber.objects.for_tenant(tenant).filter(account=account, number__in=candidates)
        .select_related("tenant", "flow", "account").first()
    )  # fmt: skip
    if number is None:
        raise Http404("No such number on this account")
    frm = str(data.get("from") or "")
    document, _ = routing.start(number, call_id=str(data["uuid"]), from_number=frm if frm.startswith("+") or not frm
                                else f"+{frm}", to_number=number.number,
                                conversation_id=str(data.get("conversation_uuid") or ""))  # fmt: skip
    return _document("vonage", document)


# --- status events --------------------------------------------------------------------------------


def _stored(created: bool, known: bool) -> JsonResponse:
    return JsonResponse({"stored": created, "duplicate": not created, "known_call": known})


@csrf_exempt
@require_POST
def twilio_status(request, account_id):
    account = _account(account_id, "twilio")
    tenant = account.tenant
    refusal = _gate("twilio", request, tenant)
    if refusal is not None:
        return refusal
    data = request.POST
    if data.get("AccountSid") and data["AccountSid"] != account.account_id:
        return _forbidden()
    missing = [name for name in ("CallSid", "CallStatus") if not data.get(name)]
    if missing:
        return _unprocessable("CallSid and CallStatus are required", missing)
    return _twilio_event(tenant, data, parent_call_id=data.get("ParentCallSid", ""), payload=data.dict())


def _twilio_event(tenant, data, *, parent_call_id: str, payload: dict) -> JsonResponse:
    """Store one Twilio status callback: a call's own, or a leg's that a ``<Dial>`` rang."""
    event, created = callbacks.record_status(
        tenant, provider="twilio", provider_call_id=data["CallSid"], raw_status=data["CallStatus"],
        occurred_at=_twilio_time(data.get("Timestamp", "")), sequence=_int(data.get("SequenceNumber")),
        payload=payload, parent_call_id=parent_call_id, duration=_int(data.get("CallDuration")),
        leg_to=data.get("To", ""),
    )  # fmt: skip
    return _stored(created, event.phone_call_id is not None)


@csrf_exempt
@require_POST
def vonage_event(request, account_id):
    account = _account(account_id, "vonage")
    tenant = account.tenant
    refusal = _gate("vonage", request, tenant)
    if refusal is not None:
        return refusal
    data = _body(request)
    if not data.get("uuid") or not data.get("status"):
        # Vonage also reports other things here (transfers, recordings…): nothing about the call's state.
        return JsonResponse({"stored": False, "detail": "Not a call status event"})
    event, created = callbacks.record_status(
        tenant, provider="vonage", provider_call_id=str(data["uuid"]), raw_status=str(data["status"]),
        occurred_at=_vonage_time(data.get("timestamp")), payload=data,
        conversation_id=str(data.get("conversation_uuid") or ""), duration=_int(data.get("duration")),
        leg_to=str(data.get("to") or ""),
    )  # fmt: skip
    return _stored(created, event.phone_call_id is not None)


# --- flow steps -----------------------------------------------------------------------------------


@csrf_exempt
@require_POST
def twilio_leg(request, flow_id, block_id):
    """A leg a ring group (or forward) dialled answered or ended: a child event of the caller's call.

    Each ``<Number>``/``<Sip>``/``<Client>`` the compiler emits reports here (its ``statusCallback``), so
    the member who answered is known from the leg's ``To`` while the call is on; the Dial action only
    tells that someone did, once the dial is over. The parent call must be one of this flow's (else 404);
    the block id is informational, so a flow edited while the call rang still has its legs' events stored.
    """
    row = _flow("twilio", flow_id)
    tenant = row.tenant
    refusal = _gate("twilio", request, tenant)
    if refusal is not None:
        return refusal
    data = request.POST
    missing = [name for name in ("CallSid", "ParentCallSid", "CallStatus") if not data.get(name)]
    if missing:
        return _unprocessable("CallSid, ParentCallSid and CallStatus are required", missing)
    parent = callbacks.find_call(tenant, "twilio", data["ParentCallSid"])
    if parent is None or parent.flow_id != row.pk:
        # Only this flow's own TwiML dials legs here, after its call was logged: anything else is no call of it.
        raise Http404("No such call")
    return _twilio_event(
        tenant, data, parent_call_id=data["ParentCallSid"], payload={**data.dict(), "block": block_id[:64]}
    )


def _flow(provider: str, flow_id) -> CallFlow:
    if provider not in PROVIDERS:
        raise Http404("No such provider")
    row = CallFlow.objects.filter(pk=flow_id).select_related("tenant").first()
    if row is None:
        raise Http404("No such flow")
    _live_tenant(row.tenant)
    return row


def _call_of(tenant, provider: str, data: dict):
    call_id = data.get("CallSid") if provider == "twilio" else data.get("uuid")
    phone_call = callbacks.find_call(tenant, provider, str(call_id or ""))
    if phone_call is None and provider == "vonage" and data.get("conversation_uuid"):
        phone_call = callbacks.find_conversation(tenant, "vonage", str(data["conversation_uuid"]))
    if phone_call is None:
        raise Http404("No such call")
    return phone_call


def _step_data(provider: str, request, data: dict) -> routing.Step:
    query = request.GET
    common = {"step": query.get("step", ""), "attempt": _int(query.get("attempt")) or 0}
    if provider == "twilio":
        return routing.Step(
            **common, digits=data.get("Digits", ""), leg_id=data.get("DialCallSid", ""),
            dial_status=(data.get("DialCallStatus") or data.get("QueueResult") or "").lower(),
            leg_duration=_int(data.get("DialCallDuration")) or 0, queue_time_s=_int(data.get("QueueTime")) or 0,
        )  # fmt: skip
    dtmf = data.get("dtmf")
    digits = dtmf.get("digits", "") if isinstance(dtmf, dict) else str(dtmf or "")
    status = str(data.get("status") or "").lower()
    return routing.Step(
        **common, digits=digits or "", dial_status=status, leg_id=str(data.get("uuid") or ""),
        leg_to=str(data.get("to") or ""), leg_duration=_int(data.get("duration")) or 0,
    )  # fmt: skip


@csrf_exempt
@require_http_methods(["GET", "POST"])  # GET: Vonage fetching the URL a call was transferred to
def flow_step(request, provider, flow_id, block_id):
    row = _flow(provider, flow_id)
    tenant = row.tenant
    refusal = _gate(provider, request, tenant)
    if refusal is not None:
        return refusal
    flow = flows.parse(row.definition)
    if not flow.has(block_id):
        raise Http404("No such block")
    data = _body(request)
    phone_call = _call_of(tenant, provider, data)
    document = routing.step(tenant, phone_call, row, block_id, _step_data(provider, request, data))
    return _document(provider, document)


# --- recordings -----------------------------------------------------------------------------------


def _recording(provider: str, tenant, data: dict, *, block=None):
    if provider == "twilio":
        if data.get("RecordingStatus", "completed") != "completed":
            return JsonResponse({"stored": False, "detail": "Ignored: the recording is not completed"})
        url, recording_id, channels = (
            data.get("RecordingUrl", ""),
            data.get("RecordingSid", ""),
            data.get("RecordingChannels", "1"),
        )
    else:
        url, recording_id, channels = (
            data.get("recording_url", ""),
            data.get("recording_uuid", ""),
            data.get("channels", "2" if block is None or not isinstance(block, flows.VoicemailBlock) else "1"),
        )
    if not url:
        field = "RecordingUrl" if provider == "twilio" else "recording_url"
        return _unprocessable(f"{field} is required", [field])
    phone_call = _call_of(tenant, provider, data)
    voicemail = isinstance(block, flows.VoicemailBlock)
    call = callbacks.record_recording(
        tenant, phone_call, url=str(url), recording_id=str(recording_id), channels=_int(channels) or 1,
        voicemail=voicemail, block_id=block.id if block is not None else "",
    )  # fmt: skip
    return JsonResponse({"stored": True, "call_id": str(call.pk) if call else None, "voicemail": voicemail})


@csrf_exempt
@require_POST
def flow_recording(request, provider, flow_id, block_id):
    row = _flow(provider, flow_id)
    refusal = _gate(provider, request, row.tenant)
    if refusal is not None:
        return refusal
    flow = flows.parse(row.definition)
    if not flow.has(block_id):
        raise Http404("No such block")
    return _recording(provider, row.tenant, _body(request), block=flow.block(block_id))


@csrf_exempt
@require_POST
def account_recording(request, provider, account_id):
    if provider not in PROVIDERS:
        raise Http404("No such provider")
    account = _account(account_id, provider)
    refusal = _gate(provider, request, account.tenant)
    if refusal is not None:
        return refusal
    return _recording(provider, account.tenant, _body(request))


# --- recorded greetings ---------------------------------------------------------------------------


@csrf_exempt
@require_http_methods(["GET", "HEAD"])
def media(request, flow_id, prompt_id):
    """A recorded greeting as WAV, for the provider playing it; the URL's signature is the credential."""
    if not prompts.url_valid(flow_id, prompt_id, request.GET.get("t", "")):
        return JsonResponse({"detail": "The link is wrong or has expired", "errors": {}}, status=403)
    row = CallFlow.objects.filter(pk=flow_id).select_related("tenant").first()
    if row is None:
        raise Http404("No such flow")
    tenant = _live_tenant(row.tenant)
    refusal = webhook_refusal(tenant)
    if refusal is not None:
        return refusal
    prompt = prompts.rows(tenant).filter(pk=prompt_id).select_related("blob").first()
    if prompt is None:
        raise Http404("No such recording")
    response = StreamingHttpResponse(blobs.read(prompt.blob), content_type="audio/wav")
    response["Content-Length"] = str(prompt.blob.size)
    response["Cache-Control"] = "private, max-age=3600"
    return response
