"""The cheap part of bench/faults in every CI run: the job queue (Redis) is down while the API takes
work, and clients retry as a careful integration does. Every acknowledged write exists once, and once
the queue is back, every piece of work completes exactly once: the database holds the work, the queue
only delivers it (ARCHITECTURE.md). bench/faults/run.py does the same to a real cluster with kill -9."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from huey.contrib.djhuey import HUEY
from redis.exceptions import ConnectionError as RedisConnectionError

from octopushx.calls.models import Call, CallAnalysisResult, CallStatus
from octopushx.core import audit, jobs
from octopushx.core.models import Job, JobState
from octopushx.crm.models import Contact, Task
from octopushx.studio.models import Run
from tests.calls.conftest import speech  # noqa: F401  (fixture)
from tests.studio.conftest import make_workflow, run_all, studio_settings  # noqa: F401  (fixture)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WELCOME = {
    "name": "Welcome",
    "trigger": {"type": "event", "event": "contact.created"},
    "steps": [
        {"id": "task", "type": "create_task", "title": "Welcome {{ contact.first_name }}", "assignee": "record_owner"}
    ],
}


@pytest.fixture
def queue_down(monkeypatch):
    """Every delivery to the queue fails as redis-py fails with Redis gone; undo() brings it back."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(HUEY, "enqueue", refuse)
    return attempts


def _upload(api, path, external_id):
    with open(path, "rb") as handle:
        data = {
            "file": SimpleUploadedFile("call.wav", handle.read(), content_type="audio/wav"),
            "external_id": external_id,
            "from_number": "+442079460123",
        }
    return api.post("/api/v1/calls", data, multipart=True)


def test_writes_while_the_queue_is_down_complete_exactly_once_when_it_is_back(
    org,
    api_as,
    speech,  # noqa: F811  (the fixture imported above)
    studio_settings,  # noqa: F811  (the fixture imported above)
    queue_down,
    monkeypatch,
):
    make_workflow(org, WELCOME)
    api = api_as("admin")

    created = []
    for i in range(4):
        body = {"first_name": f"Queue{i}", "last_name": "Down"}
        first = api.post("/api/v1/contacts", body, HTTP_IDEMPOTENCY_KEY=f"contact-{i}")
        again = api.post("/api/v1/contacts", body, HTTP_IDEMPOTENCY_KEY=f"contact-{i}")  # the client's retry
        assert first.status_code == 201, first.json()
        assert again.status_code in (200, 201) and again.json()["id"] == first.json()["id"]
        created.append(first.json()["id"])
    upload = _upload(api, speech["stereo"], "provider-call-1")
    retried = _upload(api, speech["stereo"], "provider-call-1")
    assert upload.status_code == 201, upload.json()
    assert retried.status_code == 200 and retried.json()["id"] == upload.json()["id"]

    assert queue_down, "the API tried the queue and carried on"
    assert Contact.objects.filter(tenant=org, last_name="Down").count() == 4
    assert Call.objects.filter(tenant=org).count() == 1
    assert Job.objects.filter(tenant=org, state=JobState.QUEUED).exists()

    monkeypatch.undo()  # the queue is back: the reaper hands the rows to it again
    assert jobs.reap(stale_after=0) > 0
    run_all()
    jobs.reap(stale_after=0)  # a second round and a duplicate delivery change nothing
    run_all()

    call = Call.objects.get(pk=upload.json()["id"])
    assert call.status == CallStatus.ANALYSED
    assert CallAnalysisResult.objects.filter(call=call).count() == 1
    for contact_id in created:
        assert Run.objects.filter(tenant=org, record_id=contact_id).count() == 1
        assert Run.objects.get(tenant=org, record_id=contact_id).status == "succeeded"
    assert Task.objects.filter(tenant=org, title__startswith="Welcome Queue").count() == 4
    assert not Job.objects.filter(tenant=org).exclude(state=JobState.DONE).exists()
    assert audit.verify(org).ok
