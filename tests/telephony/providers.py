"""A support line wired to Twilio and Vonage accounts, and requests signed the way each provider signs them.

Twilio requests are signed with the SDK's own ``RequestValidator.compute_signature``; Vonage requests carry
an HS256 JWT (PyJWT) with the body's ``payload_hash``, as Vonage's signed webhooks do.
"""

from __future__ import annotations

import hashlib
import json
import time
from email.utils import format_datetime

import jwt
import pytest
from twilio.request_validator import RequestValidator

from octopushx.calls import services as call_services
from octopushx.core.context import Actor
from octopushx.telephony import services
from octopushx.telephony.models import PhoneNumber, Presence, PresenceStatus, ProviderAccount
from octopushx.tenancy.models import Membership
from tests.calls.conftest import RecordingStore, recording_store
from tests.telephony.samples import support_line

SID = "AC" + "7" * 32
TOKEN = "twilio-token-of-acme"
VONAGE_APP = "0b3e1a8c-4a53-4c1d-9d5e-1b2c3d4e5f60"
VONAGE_SECRET = "vonage-signature-secret-of-acme"
LINE = "+441134960000"  # the organisation's number
CALLER = "+447700900123"
LINES = {"owner@acme.test": "+447700900001", "ann@acme.test": "+447700900002", "bob@acme.test": "+447700900003"}


def open_line() -> dict:
    """The issue's support line, open every hour of every day (tests run at any time)."""
    definition = support_line()
    hours = definition["blocks"][0]
    hours["schedule"] = {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    hours["holidays"] = None
    vm = definition["blocks"][-1]
    vm["notify_team"] = "Support"
    return definition


def connect(org, *, sid: str = SID, token: str = TOKEN, secret: str = VONAGE_SECRET, line: str = LINE, flow=None):
    """Both providers connected, one number each on the support line; every member available on a line."""
    call_services.update_settings(org, Actor.system("test"), {
        "twilio_account_sid": sid, "twilio_auth_token": token,
        "vonage_application_id": VONAGE_APP, "vonage_signature_secret": secret,
    })  # fmt: skip
    if flow is None:
        flow, _ = services.create_flow(org, Actor.system("test"), open_line())
    twilio = ProviderAccount.objects.create(tenant=org, provider="twilio", account_id=sid)
    vonage = ProviderAccount.objects.create(tenant=org, provider="vonage", account_id=VONAGE_APP)
    numbers = {
        "twilio": PhoneNumber.objects.create(tenant=org, account=twilio, provider="twilio", number=line, flow=flow),
        "vonage": PhoneNumber.objects.create(tenant=org, account=vonage, provider="vonage", number=line, flow=flow),
    }
    for membership in Membership.objects.filter(tenant=org).select_related("user"):
        email = membership.user.email
        Presence.objects.create(
            tenant=org, user=membership.user, status=PresenceStatus.AVAILABLE,
            manual_status=PresenceStatus.AVAILABLE, phone_number=LINES.get(email, ""),
        )  # fmt: skip
    return {"flow": flow, "twilio": twilio, "vonage": vonage, "numbers": numbers}


def twilio_post(client, path: str, params: dict, *, token: str = TOKEN, signature: str | None = None):
    url = f"http://testserver{path}"
    if signature is None:
        signature = RequestValidator(token).compute_signature(url, params)
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)


def vonage_post(client, path: str, body: dict, *, secret: str = VONAGE_SECRET, method: str = "post"):
    raw = json.dumps(body).encode() if method == "post" else b""
    claims = {"iat": int(time.time()), "api_key": "abc", "application_id": VONAGE_APP, "jti": str(time.time_ns())}
    if method == "post":
        claims["payload_hash"] = hashlib.sha256(raw).hexdigest()
    token = jwt.encode(claims, secret, algorithm="HS256")
    if method == "get":
        return client.get(path, body, HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.post(path, raw, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")


def twilio_time(moment) -> str:
    return format_datetime(moment)


def path_of(url: str) -> str:
    """A URL a compiled document points at, as the test client requests it."""
    return url.replace("http://127.0.0.1:8000", "").replace("&amp;", "&")


@pytest.fixture
def recordings(settings):
    """A local server that plays the provider's recording store (private addresses allowed)."""
    settings.OUTBOUND_ALLOW_PRIVATE = True
    settings.CALLS_FETCH_TIMEOUT = 2
    settings.CALLS_FETCH_BACKOFF = 0
    with recording_store() as url:
        yield url


def seen_requests() -> list[dict]:
    return list(RecordingStore.seen)
