"""Inbound telephony webhooks, one URL per tenant: Twilio, Vonage and a generic signed format.

Nothing here trusts the caller: each request is authenticated by the provider's signature with
the tenant's secret before its payload is read, suspended tenants are refused, a duplicate
delivery of the same provider call id answers the call already made, and the recording is
fetched later by a job (timeouts, size limit, retries) so the provider gets a quick answer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit, urlunsplit

import jwt
from django.conf import settings
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from octopushx.calls import services
from octopushx.calls.models import Provider
from octopushx.tenancy.models import Organization, OrgKind
from octopushx.tenancy.suspension import webhook_refusal

REPLAY_WINDOW = 300  # seconds a signed timestamp stays valid


def _refuse(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail, "errors": {}}, status=status)


def _tenant(tenant_id) -> Organization:
    tenant = Organization.objects.filter(pk=tenant_id, kind=OrgKind.CUSTOMER, deleted_at__isnull=True).first()
    if tenant is None:
        raise Http404("No such organisation")
    return tenant


def _answer(call, created: bool) -> JsonResponse:
    return JsonResponse(
        {"id": str(call.pk), "status": call.status, "duplicate": not created}, status=201 if created else 200
    )


# --- Twilio ----------------------------------------------------------------------------


def twilio_signature(auth_token: str, url: str, params: dict[str, list[str]]) -> str:
    """Twilio's scheme: HMAC-SHA1 over the full URL then each POST name+value, sorted, base64."""
    payload = url
    for name in sorted(params):
        for value in sorted(set(params[name])):
            payload += name + value
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _url_variants(url: str) -> set[str]:
    """Twilio signs the URL as it called it; accept it with and without the default port."""
    parts = urlsplit(url)
    variants = {url}
    default = {"http": 80, "https": 443}.get(parts.scheme)
    host = parts.hostname or ""
    if parts.port is None and default:
        variants.add(urlunsplit(parts._replace(netloc=f"{host}:{default}")))
    elif parts.port == default:
        variants.add(urlunsplit(parts._replace(netloc=host)))
    return variants


def candidate_urls(request) -> set[str]:
    urls = _url_variants(request.build_absolute_uri())
    base = getattr(settings, "BASE_URL", "")
    if base:
        urls |= _url_variants(base.rstrip("/") + request.get_full_path())
    return urls


@csrf_exempt
@require_POST
def twilio(request, tenant_id):
    tenant = _tenant(tenant_id)
    refusal = webhook_refusal(tenant)
    if refusal is not None:
        return refusal
    token = services.credential(tenant, "twilio_auth_token")
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token:
        return _refuse(403, "Twilio is not configured for this organisation")
    params = {name: request.POST.getlist(name) for name in request.POST}
    valid = any(hmac.compare_digest(twilio_signature(token, url, params), signature) for url in candidate_urls(request))
    if not signature or not valid:
        return _refuse(403, "The X-Twilio-Signature header is missing or wrong")
    row = services.call_settings(tenant)
    if row.twilio_account_sid and request.POST.get("AccountSid") != row.twilio_account_sid:
        return _refuse(403, "The callback is for another Twilio account")
    if request.POST.get("RecordingStatus", "completed") != "completed":
        return JsonResponse({"detail": "Ignored: the recording is not completed"}, status=200)
    url = request.POST.get("RecordingUrl", "")
    call_sid = request.POST.get("CallSid", "")
    if not url or not call_sid:
        return JsonResponse(
            {
                "detail": "CallSid and RecordingUrl are required",
                "errors": {k: ["Required"] for k in ("CallSid", "RecordingUrl") if not request.POST.get(k)},
            },
            status=422,
        )
    started = None
    if request.POST.get("RecordingStartTime"):
        try:
            started = parsedate_to_datetime(request.POST["RecordingStartTime"]).isoformat()
        except (TypeError, ValueError):
            started = None
    data = {
        "external_id": call_sid,
        "direction": "outbound" if request.POST.get("Direction", "").startswith("outbound") else "inbound",
        "from_number": request.POST.get("From", ""),
        "to_number": request.POST.get("To", ""),
        "started_at": started,
        "duration": request.POST.get("RecordingDuration"),
        "channel_roles": "agent,customer" if request.POST.get("RecordingChannels", "2") == "2" else "mono",
    }
    call, created = services.create_webhook_call(tenant, Provider.TWILIO, data, url)
    return _answer(call, created)


# --- Vonage ----------------------------------------------------------------------------


def _bearer(request) -> str:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else ""


@csrf_exempt
@require_POST
def vonage(request, tenant_id):
    tenant = _tenant(tenant_id)
    refusal = webhook_refusal(tenant)
    if refusal is not None:
        return refusal
    secret = services.credential(tenant, "vonage_signature_secret")
    if not secret:
        return _refuse(403, "Vonage is not configured for this organisation")
    try:
        claims = jwt.decode(_bearer(request), secret, algorithms=["HS256"], options={"require": ["iat"]})
    except jwt.PyJWTError:
        return _refuse(403, "The signed JWT in the Authorization header is missing or wrong")
    if abs(time.time() - float(claims["iat"])) > REPLAY_WINDOW:
        return _refuse(403, "The signed JWT is too old (replayed webhook?)")
    if "payload_hash" in claims and not hmac.compare_digest(
        str(claims["payload_hash"]), hashlib.sha256(request.body).hexdigest()
    ):
        return _refuse(403, "The body does not match the signed payload_hash")
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return JsonResponse({"detail": "The body is not JSON", "errors": {}}, status=422)
    if (
        not isinstance(body, dict)
        or not body.get("recording_url")
        or not (body.get("conversation_uuid") or body.get("recording_uuid"))
    ):
        return JsonResponse({"detail": "recording_url and conversation_uuid are required", "errors": {}}, status=422)
    data = {
        "external_id": body.get("conversation_uuid") or body.get("recording_uuid"),
        "started_at": body.get("start_time"),
        "direction": body.get("direction", "inbound"),
        "from_number": body.get("from", ""),
        "to_number": body.get("to", ""),
        "channel_roles": body.get("channel_roles", "agent,customer"),
    }
    call, created = services.create_webhook_call(tenant, Provider.VONAGE, data, str(body["recording_url"]))
    return _answer(call, created)


def vonage_fetch_token(tenant) -> str:
    """A short-lived application JWT (RS256) to download a Vonage recording, when configured."""
    row = services.call_settings(tenant)
    private_key = services.credential(tenant, "vonage_private_key")
    if not (row.vonage_application_id and private_key):
        return ""
    now = int(time.time())
    claims = {"application_id": row.vonage_application_id, "iat": now, "exp": now + 300, "jti": uuid.uuid4().hex}
    return jwt.encode(claims, private_key, algorithm="RS256")


# --- any other provider ----------------------------------------------------------------


def generic_signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` + hex HMAC-SHA256 of ``"<timestamp>.<raw body>"`` with the tenant's secret."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


@csrf_exempt
@require_POST
def generic(request, tenant_id):
    tenant = _tenant(tenant_id)
    refusal = webhook_refusal(tenant)
    if refusal is not None:
        return refusal
    secret = services.credential(tenant, "webhook_secret")
    if not secret:
        return _refuse(403, "The call webhook is not configured for this organisation")
    # X-Webhook-*; the first release's X-Octopushx-* names are still read (senders set up before).
    timestamp = request.headers.get("X-Webhook-Timestamp") or request.headers.get("X-Octopushx-Timestamp", "")
    signature = request.headers.get("X-Webhook-Signature") or request.headers.get("X-Octopushx-Signature", "")
    if not timestamp.isdigit() or not signature:
        return _refuse(403, "X-Webhook-Timestamp and X-Webhook-Signature are required")
    if not hmac.compare_digest(generic_signature(secret, timestamp, request.body), signature):
        return _refuse(403, "The signature is wrong")
    if abs(time.time() - int(timestamp)) > REPLAY_WINDOW:
        return _refuse(403, "The timestamp is outside the replay window")
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return JsonResponse({"detail": "The body is not JSON", "errors": {}}, status=422)
    errors = {
        name: ["Required"]
        for name in ("external_id", "recording_url")
        if not (isinstance(body, dict) and body.get(name))
    }
    if errors:
        return JsonResponse({"detail": "The request has invalid fields", "errors": errors}, status=422)
    data = {
        k: body.get(k)
        for k in (
            "external_id",
            "direction",
            "from_number",
            "to_number",
            "agent_email",
            "agent_extension",
            "started_at",
            "channel_roles",
            "duration",
        )
    }
    call, created = services.create_webhook_call(tenant, Provider.GENERIC, data, str(body["recording_url"]))
    return _answer(call, created)
