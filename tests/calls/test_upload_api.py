"""POST /api/v1/calls: a recording is checked, stored encrypted and queued; bad input stores nothing."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from octopushx.calls import services
from octopushx.calls.models import Call, CallStatus
from octopushx.core.context import Actor
from octopushx.core.models import Blob, Job
from octopushx.crm import services as crm
from tests.calls.conftest import tone_wav
from tests.conftest import make_member


def _upload(client, content: bytes = b"", name: str = "call.wav", **fields):
    data = {"file": SimpleUploadedFile(name, content or tone_wav(), content_type="audio/wav"), **fields}
    return client.post("/api/v1/calls", data, multipart=True)


def _nothing_stored():
    return (
        not Call.objects.exists()
        and not Blob.objects.exists()
        and not Job.objects.filter(kind="calls.process").exists()
    )


def test_upload_answers_queued_at_once_and_queues_a_job(api_as):
    client = api_as("agent")
    response = _upload(client, direction="outbound", to_number="+442079460123")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "queued"
    call = Call.objects.get(pk=body["id"])
    assert call.recording.purpose == "call.recording"
    assert call.direction == "outbound"
    assert call.to_number == "+442079460123"
    assert call.agent == client.membership.user  # an agent's upload is their own call
    assert Job.objects.filter(kind="calls.process", payload__call_id=str(call.pk)).exists()


def test_upload_stores_the_recording_encrypted(api_as, settings):
    content = tone_wav()
    response = _upload(api_as("agent"), content)
    call = Call.objects.get(pk=response.json()["id"])
    from octopushx.core import blobs

    assert blobs.read_bytes(call.recording) == content
    from django.core.files.storage import default_storage

    with default_storage.open(call.recording.path, "rb") as raw:
        assert content[:64] not in raw.read()


def test_upload_links_contact_by_number_and_agent_by_email(org, api_as):
    agent = make_member(org, "agent", email="sam@acme.test")
    contact = crm.create_contact(org, Actor.system("test"), {"first_name": "Ann", "phone": "+44 20 7946 0123"})
    response = _upload(api_as("manager"), from_number="020 7946 0123", agent_email="SAM@acme.test")
    call = Call.objects.get(pk=response.json()["id"])
    assert call.from_number == "+442079460123"
    assert call.contact == contact
    assert call.agent == agent.user


def test_upload_not_audio_is_refused_and_nothing_is_stored(api_as):
    response = _upload(api_as("agent"), b"%PDF-1.4 this is not audio at all" * 20, name="invoice.pdf")
    assert response.status_code == 422
    assert "file" in response.json()["errors"]
    assert _nothing_stored()


def test_upload_truncated_file_is_refused(api_as):
    response = _upload(api_as("agent"), tone_wav()[:30])
    assert response.status_code == 422
    assert _nothing_stored()


def test_upload_empty_file_is_refused(api_as):
    data = {"file": SimpleUploadedFile("empty.wav", b"", content_type="audio/wav")}
    response = api_as("agent").post("/api/v1/calls", data, multipart=True)
    assert response.status_code == 422
    assert _nothing_stored()


def test_upload_without_file_is_422(api_as):
    response = api_as("agent").post("/api/v1/calls", {"direction": "inbound"}, multipart=True)
    assert response.status_code == 422
    assert _nothing_stored()


def test_upload_over_the_tenant_size_limit_is_refused(org, api_as):
    services.update_settings(org, Actor.system("test"), {"max_upload_mb": 1})
    response = _upload(api_as("agent"), tone_wav(seconds=40, rate=16000))  # ~2.5 MB
    assert response.status_code == 422
    assert "limit" in response.json()["errors"]["file"][0]
    assert _nothing_stored()


def test_upload_over_the_tenant_duration_limit_is_refused(org, api_as):
    services.update_settings(org, Actor.system("test"), {"max_duration_minutes": 1})
    response = _upload(api_as("agent"), tone_wav(seconds=90, channels=1, rate=4000))
    assert response.status_code == 422
    assert "minutes" in response.json()["errors"]["file"][0]
    assert _nothing_stored()


def test_upload_bad_fields_are_422_with_field_errors(api_as):
    response = _upload(
        api_as("agent"), direction="sideways", from_number="12", channel_roles="left,right", started_at="yesterday"
    )
    assert response.status_code == 422
    assert set(response.json()["errors"]) >= {"direction", "from_number", "channel_roles", "started_at"}
    assert _nothing_stored()


def test_upload_with_another_tenants_contact_is_422(api_as, other_org):
    contact = crm.create_contact(other_org, Actor.system("test"), {"first_name": "Other"})
    response = _upload(api_as("agent"), contact_id=str(contact.pk))
    assert response.status_code == 422
    assert "contact_id" in response.json()["errors"]
    assert _nothing_stored()


def test_upload_with_unknown_agent_email_is_422(api_as):
    response = _upload(api_as("admin"), agent_email="nobody@elsewhere.test")
    assert response.status_code == 422
    assert "agent_email" in response.json()["errors"]


def test_upload_twice_with_the_same_external_id_makes_one_call(api_as):
    client = api_as("agent")
    first = _upload(client, external_id="pbx-42")
    second = _upload(client, external_id="pbx-42")
    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert Call.objects.count() == 1
    assert Blob.objects.count() == 1


def test_upload_by_an_auditor_is_403(api_as):
    response = _upload(api_as("auditor"))
    assert response.status_code == 403
    assert _nothing_stored()


def test_upload_without_token_is_401(db, client):
    data = {"file": SimpleUploadedFile("call.wav", tone_wav(), content_type="audio/wav")}
    assert client.post("/api/v1/calls", data).status_code == 401
    assert not Call.objects.exists()


def test_new_call_is_queued_status(api_as):
    response = _upload(api_as("agent"))
    assert Call.objects.get(pk=response.json()["id"]).status == CallStatus.QUEUED


@pytest.mark.skipif(shutil.which("sox") is None, reason="sox is not installed")
def test_two_hour_recording_over_the_limit_is_refused_without_decoding(org, api_as, tmp_path):
    services.update_settings(org, Actor.system("test"), {"max_duration_minutes": 60})
    path = tmp_path / "two-hours.flac"  # two hours of silence: a small FLAC file
    subprocess.run(["sox", "-R", "-D", "-n", "-r", "8000", "-c", "1", str(path), "trim", "0", "7200"], check=True)
    response = _upload(api_as("agent"), path.read_bytes(), name="two-hours.flac")
    assert response.status_code == 422
    assert "120.0 minutes" in response.json()["errors"]["file"][0]
    assert _nothing_stored()
