"""A processing job whose worker died mid-run is re-run once its lease expires and finishes once."""

from __future__ import annotations

from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from octopushx.calls.models import Call, CallAnalysisResult, CallStatus
from octopushx.core import jobs
from octopushx.core.models import Job, JobState
from tests.calls.conftest import tone_wav


def test_interrupted_processing_resumes_and_finishes_once(api_as):
    response = api_as("agent").post(
        "/api/v1/calls", {"file": SimpleUploadedFile("call.wav", tone_wav(), content_type="audio/wav")}, multipart=True
    )
    call = Call.objects.get(pk=response.json()["id"])
    job = Job.objects.get(kind="calls.process", payload__call_id=str(call.pk))
    # A worker claimed it, marked the call processing, then died: its lease runs out.
    Job.objects.filter(pk=job.pk).update(
        state=JobState.RUNNING, attempts=1, lease_until=timezone.now() - timedelta(seconds=1)
    )
    Call.objects.filter(pk=call.pk).update(status=CallStatus.PROCESSING)
    assert jobs.reap() == 1
    jobs.drain()
    call.refresh_from_db()
    assert call.status == CallStatus.ANALYSED, call.failure_reason
    assert CallAnalysisResult.objects.filter(call=call).count() == 1
    job.refresh_from_db()
    assert job.state == JobState.DONE and job.attempts == 2
