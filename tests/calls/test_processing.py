"""The calls.process job: decrypt, analyse with the real pipeline, redact, store, emit."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from octopushx.calls import services
from octopushx.calls.models import Call, CallAnalysisResult, CallStatus, Utterance
from octopushx.core import blobs
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry, Blob, Job, JobState
from octopushx.crm import services as crm
from tests.calls.conftest import tone_wav


def _upload(client, path_or_bytes, **fields):
    content = path_or_bytes if isinstance(path_or_bytes, bytes) else path_or_bytes.read_bytes()
    data = {"file": SimpleUploadedFile("call.wav", content, content_type="audio/wav"), **fields}
    response = client.post("/api/v1/calls", data, multipart=True)
    assert response.status_code == 201, response.content
    return Call.objects.get(pk=response.json()["id"])


def test_stereo_call_is_analysed_redacted_and_the_original_dropped(api_as, speech, run_jobs):
    client = api_as("agent")
    call = _upload(client, speech["stereo"], channel_roles="agent,customer")
    original = call.recording
    run_jobs()
    call.refresh_from_db()
    assert call.status == CallStatus.ANALYSED, call.failure_reason
    body = client.get(f"/api/v1/calls/{call.pk}").json()
    utterances = body["transcript"]["utterances"]
    assert {u["speaker"] for u in utterances} == {"agent", "customer"}
    assert all(set(u) >= {"speaker", "start", "end", "text", "sentiment"} for u in utterances)
    text = " ".join(u["text"] for u in utterances).lower()
    assert "[card]" in text and "4916" not in text.replace(" ", "")
    insights = body["insights"]
    assert set(insights["metrics"]["talk_ratio"]) == {"agent", "customer"}
    assert 0.99 < sum(insights["metrics"]["talk_ratio"].values()) < 1.01
    assert insights["summary"] and body["label"] == "Unreviewed AI output"
    assert body["analysis"]["model"] and body["analysis"]["model_version"]
    assert call.redacted is not None and call.peaks
    # The tenant does not keep originals: only the silenced copy is left.
    assert call.recording is None and not Blob.objects.filter(pk=original.pk).exists()
    assert Utterance.objects.filter(call=call).count() == len(utterances)
    assert AuditEntry.objects.filter(tenant=call.tenant, action="call.analysed", object_id=str(call.pk)).exists()
    # Running the job again changes nothing: same single result, same copy.
    job = Job.objects.get(kind="calls.process", payload__call_id=str(call.pk))
    Job.objects.filter(pk=job.pk).update(state=JobState.QUEUED)
    redacted = call.redacted_id
    run_jobs()
    call.refresh_from_db()
    assert CallAnalysisResult.objects.filter(call=call).count() == 1
    assert call.redacted_id == redacted


def test_tenant_that_keeps_originals_keeps_the_unredacted_transcript(org, api_as, speech, run_jobs):
    services.update_settings(org, Actor.system("test"), {"keep_original": True})
    call = _upload(api_as("agent"), speech["mono"], channel_roles="mono")
    run_jobs()
    call.refresh_from_db()
    assert call.status == CallStatus.ANALYSED, call.failure_reason
    assert call.recording is not None and call.redacted is not None
    assert blobs.read_bytes(call.recording) == speech["mono"].read_bytes()
    admin = api_as("admin")
    original = admin.get(f"/api/v1/calls/{call.pk}?original=true").json()
    assert "4916" in " ".join(u["text"] for u in original["transcript"]["utterances"]).replace(" ", "")
    assert AuditEntry.objects.filter(action="call.original_viewed", object_id=str(call.pk)).count() == 1
    assert api_as("auditor").get(f"/api/v1/calls/{call.pk}?original=true").status_code == 403


def test_restricted_contact_is_not_analysed_and_says_why(org, api_as, run_jobs):
    contact = crm.create_contact(org, Actor.system("test"), {"first_name": "Rita", "restricted": True})
    call = _upload(api_as("admin"), tone_wav(), contact_id=str(contact.pk))
    run_jobs()
    call.refresh_from_db()
    assert call.status == CallStatus.SKIPPED
    assert "restricted" in call.skip_reason
    assert call.recording is not None  # kept, not analysed
    assert not CallAnalysisResult.objects.filter(call=call).exists()


def test_corrupt_recording_fails_with_a_reason_and_can_be_retried(api_as, run_jobs):
    client = api_as("agent")
    content = tone_wav(seconds=2)
    call = _upload(client, content)
    # The stored file is damaged after the upload check (as a broken disk would).
    blob = call.recording
    broken = blobs.store(call.tenant, content[:44] + b"\x00" * 10, filename="call.wav", purpose="call.recording")
    Call.objects.filter(pk=call.pk).update(recording=broken)
    blobs.delete(blob)
    run_jobs()
    call.refresh_from_db()
    assert call.status == CallStatus.FAILED
    assert call.failure_reason
    response = client.post(f"/api/v1/calls/{call.pk}/retry")
    assert response.status_code == 200
    call.refresh_from_db()
    assert call.status == CallStatus.QUEUED


def test_silence_only_recording_is_analysed_with_no_speech(api_as, run_jobs):
    call = _upload(api_as("agent"), tone_wav(seconds=2, amplitude=0.0))
    run_jobs()
    call.refresh_from_db()
    assert call.status == CallStatus.ANALYSED, call.failure_reason
    assert call.current.data["utterances"] == []


def test_lossy_recording_gets_a_lossless_redacted_copy_without_re_encoding(api_as, run_jobs, tmp_path):
    from octopushx import intelligence

    source = tmp_path / "call.wav"
    source.write_bytes(tone_wav(seconds=2, amplitude=0.0))
    intelligence.redact_audio(str(source), str(tmp_path / "call.mp3"), intelligence.Redaction())
    data = {"file": SimpleUploadedFile("call.mp3", (tmp_path / "call.mp3").read_bytes(), content_type="audio/mpeg")}
    response = api_as("agent").post("/api/v1/calls", data, multipart=True)
    assert response.status_code == 201, response.content
    run_jobs()
    call = Call.objects.select_related("redacted").get(pk=response.json()["id"])
    assert call.status == CallStatus.ANALYSED, call.failure_reason
    assert call.redacted.filename.endswith(".flac")
    assert call.redacted.content_type == "audio/flac"
    assert b"".join(blobs.read(call.redacted)).startswith(b"fLaC")
