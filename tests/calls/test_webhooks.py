"""Provider webhooks: Twilio (signed as Twilio signs), Vonage (signed JWT), generic (HMAC +
timestamp); recordings fetched from a local HTTP server, including one that hangs and a 404."""

from __future__ import annotations

import base64
import hashlib
import json
import time

import jwt
import pytest
from django.utils import timezone
from twilio.request_validator import RequestValidator

from octopushx.calls import services, webhooks
from octopushx.calls.models import Call, CallStatus
from octopushx.core import blobs
from octopushx.core.context import Actor
from tests.calls.conftest import RECORDING, RecordingStore, recording_store

SID = "AC" + "1" * 32
TOKEN = "twilio-auth-token-123"


@pytest.fixture
def recordings(settings):
    """A local recording store; private addresses allowed, short timeouts, no back-off."""
    settings.OUTBOUND_ALLOW_PRIVATE = True
    settings.CALLS_FETCH_TIMEOUT = 0.5
    settings.CALLS_FETCH_ATTEMPTS = 2
    settings.CALLS_FETCH_BACKOFF = 0
    settings.JOB_MAX_ATTEMPTS = 1
    with recording_store() as url:
        yield url


@pytest.fixture
def twilio_org(org):
    services.update_settings(org, Actor.system("test"), {"twilio_account_sid": SID, "twilio_auth_token": TOKEN})
    return org


def _twilio_post(client, org, params, *, token=TOKEN, signature=None):
    url = f"http://testserver/calls/webhooks/{org.pk}/twilio"
    if signature is None:
        signature = RequestValidator(token).compute_signature(url, params)
    return client.post(url, params, HTTP_X_TWILIO_SIGNATURE=signature)


def _twilio_params(base: str, path: str = "/2010-04-01/Accounts/AC1/Recordings/RE1", call_sid: str = "CA123"):
    return {
        "AccountSid": SID,
        "CallSid": call_sid,
        "RecordingSid": "RE1",
        "RecordingUrl": base + path,
        "RecordingStatus": "completed",
        "RecordingDuration": "1",
        "RecordingChannels": "2",
        "RecordingStartTime": "Mon, 22 Aug 2026 19:04:15 +0000",
        "From": "+442079460123",
        "To": "+442079460999",
        "Direction": "inbound",
    }


def test_twilio_callback_creates_the_call_and_fetches_the_dual_channel_recording(client, twilio_org, recordings):
    response = _twilio_post(client, twilio_org, _twilio_params(recordings))
    assert response.status_code == 201, response.content
    call = Call.objects.get(pk=response.json()["id"])
    assert call.status == CallStatus.FETCHING and call.provider == "twilio" and call.external_id == "CA123"
    assert call.from_number == "+442079460123" and call.started_at.year == 2026
    from octopushx.calls.tasks import fetch_recording
    from octopushx.core import jobs
    from octopushx.core.models import Job

    jobs.run(Job.objects.get(kind="calls.fetch").pk)
    call.refresh_from_db()
    assert blobs.read_bytes(call.recording) == RECORDING
    assert call.status == CallStatus.QUEUED
    request = RecordingStore.seen[0]
    assert request["path"].endswith("/RE1.wav?RequestedChannels=2")
    assert request["auth"] == "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert fetch_recording  # registered handler


def test_twilio_duplicate_delivery_makes_one_call(client, twilio_org, recordings):
    first = _twilio_post(client, twilio_org, _twilio_params(recordings))
    second = _twilio_post(client, twilio_org, _twilio_params(recordings))
    assert first.status_code == 201 and second.status_code == 200
    assert second.json()["id"] == first.json()["id"] and second.json()["duplicate"] is True
    assert Call.objects.count() == 1


def test_twilio_wrong_or_missing_signature_is_403_and_creates_nothing(client, twilio_org, recordings):
    params = _twilio_params(recordings)
    assert _twilio_post(client, twilio_org, params, token="another-token").status_code == 403
    assert _twilio_post(client, twilio_org, params, signature="").status_code == 403
    tampered = dict(params, CallSid="CA999")
    signature = RequestValidator(TOKEN).compute_signature(
        f"http://testserver/calls/webhooks/{twilio_org.pk}/twilio", params
    )
    assert _twilio_post(client, twilio_org, tampered, signature=signature).status_code == 403
    assert not Call.objects.exists()


def test_twilio_for_another_account_is_403(client, twilio_org, recordings):
    params = dict(_twilio_params(recordings), AccountSid="AC" + "2" * 32)
    assert _twilio_post(client, twilio_org, params).status_code == 403
    assert not Call.objects.exists()


def test_twilio_unknown_tenant_is_404(client, db, recordings):
    import uuid

    url = f"/calls/webhooks/{uuid.uuid4()}/twilio"
    assert client.post(url, {"CallSid": "x"}).status_code == 404


def test_webhooks_of_a_suspended_tenant_are_refused(client, twilio_org, recordings):
    type(twilio_org).objects.filter(pk=twilio_org.pk).update(suspended_at=timezone.now(), suspension_reason="abuse")
    response = _twilio_post(client, twilio_org, _twilio_params(recordings))
    assert response.status_code == 403
    assert response.json()["code"] == "abuse"
    assert not Call.objects.exists()


def test_recording_url_that_hangs_fails_the_call_with_a_reason(client, twilio_org, recordings, run_jobs):
    response = _twilio_post(client, twilio_org, _twilio_params(recordings, path="/hang/RE2"))
    started = time.monotonic()
    run_jobs()
    assert time.monotonic() - started < 10  # timeouts, not a hang
    call = Call.objects.get(pk=response.json()["id"])
    assert call.status == CallStatus.FAILED
    assert "did not answer" in call.failure_reason
    assert call.recording is None
    assert len([s for s in RecordingStore.seen if s["path"].startswith("/hang")]) == 2  # retried


def test_recording_url_that_404s_fails_the_call_and_can_be_retried(client, twilio_org, recordings, run_jobs, api_as):
    response = _twilio_post(client, twilio_org, _twilio_params(recordings, path="/missing/RE3"))
    run_jobs()
    call = Call.objects.get(pk=response.json()["id"])
    assert call.status == CallStatus.FAILED and "404" in call.failure_reason
    retried = api_as("admin").post(f"/api/v1/calls/{call.pk}/retry")
    assert retried.status_code == 200 and retried.json()["status"] == "fetching"


def test_private_addresses_are_not_fetched_by_default(client, twilio_org, recordings, settings, run_jobs):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    response = _twilio_post(client, twilio_org, _twilio_params(recordings))
    run_jobs()
    call = Call.objects.get(pk=response.json()["id"])
    assert call.status == CallStatus.FAILED and "private network" in call.failure_reason
    assert RecordingStore.seen == []


# --- Vonage ----------------------------------------------------------------------------

VONAGE_SECRET = "vonage-signature-secret"


@pytest.fixture
def vonage_org(org):
    services.update_settings(org, Actor.system("test"), {"vonage_signature_secret": VONAGE_SECRET})
    return org


def _vonage_post(client, org, body: dict, *, secret=VONAGE_SECRET, iat=None, payload_hash=None):
    raw = json.dumps(body).encode()
    claims = {
        "iat": int(iat if iat is not None else time.time()),
        "jti": "j1",
        "iss": "Vonage",
        "payload_hash": payload_hash or hashlib.sha256(raw).hexdigest(),
    }
    token = jwt.encode(claims, secret, algorithm="HS256")
    return client.post(
        f"/calls/webhooks/{org.pk}/vonage", raw, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )


def _vonage_body(base):
    return {
        "recording_url": base + "/v1/files/abc",
        "recording_uuid": "rec-1",
        "conversation_uuid": "CON-1",
        "start_time": "2026-08-22T19:04:15Z",
        "size": 1000,
    }


def test_vonage_signed_webhook_creates_one_call(client, vonage_org, recordings):
    first = _vonage_post(client, vonage_org, _vonage_body(recordings))
    assert first.status_code == 201, first.content
    assert _vonage_post(client, vonage_org, _vonage_body(recordings)).json()["id"] == first.json()["id"]
    call = Call.objects.get()
    assert call.provider == "vonage" and call.external_id == "CON-1"


def test_vonage_bad_secret_old_token_or_changed_body_is_403(client, vonage_org, recordings):
    body = _vonage_body(recordings)
    assert _vonage_post(client, vonage_org, body, secret="wrong").status_code == 403
    assert _vonage_post(client, vonage_org, body, iat=time.time() - 3600).status_code == 403
    assert _vonage_post(client, vonage_org, body, payload_hash="0" * 64).status_code == 403
    response = client.post(f"/calls/webhooks/{vonage_org.pk}/vonage", b"{}", content_type="application/json")
    assert response.status_code == 403
    assert not Call.objects.exists()


# --- generic ---------------------------------------------------------------------------

SECRET = "generic-secret"


@pytest.fixture
def generic_org(org):
    services.update_settings(org, Actor.system("test"), {"webhook_secret": SECRET})
    return org


def _generic_post(client, org, body: dict, *, timestamp=None, secret=SECRET, prefix="WEBHOOK"):
    raw = json.dumps(body).encode()
    stamp = str(int(timestamp if timestamp is not None else time.time()))
    signature = webhooks.generic_signature(secret, stamp, raw)
    headers = {f"HTTP_X_{prefix}_TIMESTAMP": stamp, f"HTTP_X_{prefix}_SIGNATURE": signature}
    return client.post(f"/calls/webhooks/{org.pk}/generic", raw, content_type="application/json", **headers)


def test_the_first_releases_header_names_are_still_accepted(client, generic_org):
    response = _generic_post(client, generic_org, {"external_id": "old-1"}, prefix="OCTOPUSHX")
    assert response.status_code == 422  # signed and accepted; the body lacks a recording_url
    assert response.json()["errors"] == {"recording_url": ["Required"]}


def test_generic_webhook_creates_the_call(client, generic_org, recordings, run_jobs):
    body = {
        "external_id": "pbx-1",
        "recording_url": recordings + "/rec.wav",
        "direction": "outbound",
        "to_number": "+442079460123",
        "channel_roles": "agent,customer",
    }
    response = _generic_post(client, generic_org, body)
    assert response.status_code == 201, response.content
    call = Call.objects.get()
    assert call.direction == "outbound" and call.to_number == "+442079460123"


def test_generic_replay_inside_the_window_is_a_duplicate_and_outside_is_refused(client, generic_org, recordings):
    body = {"external_id": "pbx-2", "recording_url": recordings + "/rec.wav"}
    stamp = time.time()
    assert _generic_post(client, generic_org, body, timestamp=stamp).status_code == 201
    assert _generic_post(client, generic_org, body, timestamp=stamp).status_code == 200
    assert _generic_post(client, generic_org, body, timestamp=stamp - 600).status_code == 403
    assert Call.objects.count() == 1


def test_generic_bad_signature_or_missing_fields(client, generic_org, recordings):
    body = {"external_id": "pbx-3", "recording_url": recordings + "/rec.wav"}
    assert _generic_post(client, generic_org, body, secret="wrong").status_code == 403
    missing = _generic_post(client, generic_org, {"external_id": "pbx-4"})
    assert missing.status_code == 422 and "recording_url" in missing.json()["errors"]
    assert not Call.objects.exists()


def test_webhook_without_configured_secret_is_403(client, org):
    assert client.post(f"/calls/webhooks/{org.pk}/generic", b"{}", content_type="application/json").status_code == 403


def test_vonage_recording_is_fetched_with_an_application_jwt(client, vonage_org, recordings):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from octopushx.core import jobs
    from octopushx.core.models import Job

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    services.update_settings(
        vonage_org, Actor.system("test"), {"vonage_application_id": "app-1", "vonage_private_key": pem.decode()}
    )
    response = _vonage_post(client, vonage_org, _vonage_body(recordings))
    jobs.run(Job.objects.get(kind="calls.fetch").pk)
    call = Call.objects.get(pk=response.json()["id"])
    assert blobs.read_bytes(call.recording) == RECORDING
    token = RecordingStore.seen[0]["auth"].removeprefix("Bearer ")
    claims = jwt.decode(token, key.public_key(), algorithms=["RS256"])
    assert claims["application_id"] == "app-1"


def test_generic_webhook_matches_the_agent_by_extension(client, generic_org, recordings):
    from tests.conftest import make_member

    agent = make_member(generic_org, "agent", email="ext@acme.test")
    agent.extension = "201"
    agent.save()
    body = {"external_id": "pbx-5", "recording_url": recordings + "/rec.wav", "agent_extension": "201"}
    assert _generic_post(client, generic_org, body).status_code == 201
    assert Call.objects.get().agent == agent.user
