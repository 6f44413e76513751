"""Is this provider request really from the organisation's provider account?

Twilio signs each webhook with the account's auth token (``X-Twilio-Signature``, checked with the SDK's
``RequestValidator`` against the URL as Twilio called it, with and without the default port, and the
configured base URL behind a proxy). Vonage signs each webhook with a JWT (HS256, the account's signature
secret) whose ``payload_hash`` covers the body; a token older than five minutes is a replay.
Nothing here says why a request failed beyond what the provider's own documentation says: 403 either way.
"""

from __future__ import annotations

import hashlib
import hmac
import time

import jwt
from twilio.request_validator import RequestValidator

from octopushx.calls import services as call_services
from octopushx.calls.webhooks import REPLAY_WINDOW, candidate_urls


def twilio_valid(request, tenant) -> bool:
    token = call_services.credential(tenant, "twilio_auth_token")
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    validator = RequestValidator(token)
    params = request.POST if request.method == "POST" else {}
    return any(validator.validate(url, params, signature) for url in candidate_urls(request))


def vonage_valid(request, tenant) -> bool:
    secret = call_services.credential(tenant, "vonage_signature_secret")
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    if not secret or not token:
        return False
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["iat"]})
    except jwt.PyJWTError:
        return False
    if abs(time.time() - float(claims["iat"])) > REPLAY_WINDOW:
        return False
    body_hash = hashlib.sha256(request.body).hexdigest()
    return "payload_hash" not in claims or hmac.compare_digest(str(claims["payload_hash"]), body_hash)


def valid(provider: str, request, tenant) -> bool:
    """The provider's signature on ``request`` is right for ``tenant``'s account."""
    return twilio_valid(request, tenant) if provider == "twilio" else vonage_valid(request, tenant)
