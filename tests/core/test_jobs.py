from datetime import timedelta

from django.utils import timezone

from octopushx.core import events, jobs
from octopushx.core.models import Job, JobState

CALLS = []


@jobs.handler("test.flaky")
def flaky(job):
    CALLS.append(job.pk)
    if job.payload.get("fail_times", 0) >= job.attempts:
        raise RuntimeError("boom")
    return {"ok": True}


@events.subscribe("thing.*", name="test-subscriber")
def on_thing(event):
    CALLS.append(event.name)


def test_job_runs_once_and_is_done(org):
    job = jobs.submit("test.flaky", tenant=org)
    assert jobs.drain() == 1
    job.refresh_from_db()
    assert job.state == JobState.DONE and job.result == {"ok": True}
    assert jobs.run(job.pk) is None  # a duplicate delivery is a no-op


def test_failure_is_retried_with_backoff_then_succeeds(org):
    job = jobs.submit("test.flaky", tenant=org, payload={"fail_times": 1})
    jobs.run(job.pk)
    job.refresh_from_db()
    assert job.state == JobState.QUEUED and job.run_after > timezone.now() and "boom" in job.last_error
    Job.objects.filter(pk=job.pk).update(run_after=timezone.now())
    jobs.run(job.pk)
    job.refresh_from_db()
    assert job.state == JobState.DONE and job.attempts == 2


def test_job_fails_for_good_after_max_attempts_and_can_be_retried(org):
    job = jobs.submit("test.flaky", tenant=org, payload={"fail_times": 99}, max_attempts=2)
    for _ in range(2):
        Job.objects.filter(pk=job.pk).update(run_after=timezone.now())
        jobs.run(job.pk)
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    jobs.retry(job)
    job.refresh_from_db()
    assert job.state == JobState.QUEUED and job.attempts == 0


def test_expired_lease_is_reclaimed(org):
    job = jobs.submit("test.flaky", tenant=org)
    Job.objects.filter(pk=job.pk).update(state=JobState.RUNNING, lease_until=timezone.now() - timedelta(seconds=1))
    assert jobs.run(job.pk).state == JobState.DONE


def test_live_lease_is_not_stolen(org):
    job = jobs.submit("test.flaky", tenant=org)
    Job.objects.filter(pk=job.pk).update(state=JobState.RUNNING, lease_until=timezone.now() + timedelta(minutes=5))
    assert jobs.run(job.pk) is None


def test_event_is_delivered_to_matching_subscriber(org):
    CALLS.clear()
    events.emit(org, "thing.created", {"id": "1"})
    events.emit(org, "other.created", {"id": "2"})
    jobs.drain()
    assert "thing.created" in CALLS and "other.created" not in CALLS


def test_dedupe_key_creates_one_job(org):
    a = jobs.submit("test.flaky", tenant=org, dedupe_key="k1")
    b = jobs.submit("test.flaky", tenant=org, dedupe_key="k1")
    assert a.pk == b.pk


def test_worker_dying_on_the_last_attempt_fails_the_job_for_good(org):
    job = jobs.submit("test.flaky", tenant=org, max_attempts=2)
    expired = timezone.now() - timedelta(seconds=1)
    Job.objects.filter(pk=job.pk).update(state=JobState.RUNNING, attempts=2, lease_until=expired)
    assert jobs.run(job.pk) is None  # not claimed again ...
    assert jobs.reap() == 0  # ... nor re-delivered
    job.refresh_from_db()
    assert job.state == JobState.FAILED and "lease expired" in job.last_error and job.finished_at


def test_reap_redelivers_expired_leases_and_stale_queued_jobs(org):
    from tests.core.queue import waiting_deliveries

    running = jobs.submit("test.flaky", tenant=org)
    stale = jobs.submit("test.flaky", tenant=org)
    fresh = jobs.submit("test.flaky", tenant=org)
    Job.objects.filter(pk=running.pk).update(
        state=JobState.RUNNING, attempts=1, lease_until=timezone.now() - timedelta(seconds=1)
    )
    Job.objects.filter(pk=stale.pk).update(run_after=timezone.now() - timedelta(minutes=5))
    assert jobs.reap() == 2
    assert len(waiting_deliveries(running)) == len(waiting_deliveries(stale)) == 1
    assert waiting_deliveries(fresh) == []
    assert jobs.reap(stale_after=0) == 3  # at start-up every due job is delivered
