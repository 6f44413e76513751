"""Jobs held by a worker process that no longer exists are re-run at once, not after their lease."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from octopushx.core import jobs
from octopushx.core.models import Job, JobState, WorkerProcess
from tests.core import test_jobs  # noqa: F401  registers test.flaky


@pytest.fixture
def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _running(org, worker: WorkerProcess) -> Job:
    job = jobs.submit("test.flaky", tenant=org)
    Job.objects.filter(pk=job.pk).update(
        state=JobState.RUNNING, attempts=1, claimed_by=worker.pk, lease_until=timezone.now() + timedelta(minutes=5)
    )
    return job


def _worker(pid: int, host: str | None = None, beat_ago: float = 0) -> WorkerProcess:
    at = timezone.now() - timedelta(seconds=beat_ago)
    return WorkerProcess.objects.create(hostname=host or socket.gethostname(), pid=pid, heartbeat_at=at)


def test_job_of_a_process_gone_from_this_machine_is_released_and_re_run(org, dead_pid):
    job = _running(org, _worker(dead_pid))
    assert jobs.reap() == 1
    assert not WorkerProcess.objects.filter(pid=dead_pid).exists()
    assert jobs.drain() == 1
    job.refresh_from_db()
    assert job.state == JobState.DONE and job.attempts == 2


def test_job_of_a_live_process_keeps_its_lease(org):
    parent = _worker(os.getppid())
    elsewhere = _worker(1, host="another-machine")
    first, second = _running(org, parent), _running(org, elsewhere)
    assert jobs.reap() == 0
    assert jobs.drain() == 0
    assert {j.state for j in Job.objects.filter(pk__in=[first.pk, second.pk])} == {JobState.RUNNING}


def test_job_of_a_process_whose_heartbeat_stopped_elsewhere_is_released(org, settings):
    settings.JOB_REAPER_SECONDS = 60
    job = _running(org, _worker(1, host="another-machine", beat_ago=jobs.worker_stale_seconds() + 5))
    assert jobs.reap() == 1
    job.refresh_from_db()
    assert job.lease_until <= timezone.now()


def test_an_earlier_life_with_this_processes_pid_is_gone(org, monkeypatch):
    monkeypatch.setattr(jobs, "_worker_id", None)
    job = _running(org, _worker(os.getpid()))  # e.g. pid 1 of a restarted container
    jobs.register_worker()
    try:
        assert jobs.reap() == 1
        job.refresh_from_db()
        assert WorkerProcess.objects.count() == 1 and job.lease_until <= timezone.now()
    finally:
        jobs.unregister_worker()


def test_job_of_a_cleanly_stopped_worker_is_released(org):
    worker = _worker(os.getppid())
    job = _running(org, worker)
    worker.delete()
    assert jobs.reap() == 1
    job.refresh_from_db()
    assert job.lease_until <= timezone.now()


def test_claims_carry_the_registered_process(org, monkeypatch):
    monkeypatch.setattr(jobs, "_worker_id", None)
    worker_id = jobs.register_worker()
    try:
        claimed = []
        jobs.HANDLERS["test.claim"] = lambda job: claimed.append(Job.objects.get(pk=job.pk).claimed_by)
        jobs.run(jobs.submit("test.claim", tenant=org).pk)
        assert claimed == [worker_id]
    finally:
        jobs.HANDLERS.pop("test.claim", None)
        jobs.unregister_worker()
