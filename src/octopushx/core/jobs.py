"""Background work: the ``Job`` row holds the truth, Huey only delivers its id.

A job is claimed with a lease (a conditional UPDATE), so a duplicated delivery is a
no-op and a job whose worker died is re-run by the reaper once its lease expires, or
sooner: each consuming process registers itself (``WorkerProcess``: host, pid, heartbeat)
and the jobs held by a process that no longer exists are released at once (on this
machine: its pid is gone; elsewhere: its heartbeat stopped). A restarted worker thus
resumes the work its predecessor was killed in, within seconds.
Handlers must be idempotent: a retried job has the same effect as one run.
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from octopushx.core.models import Job, JobState, WorkerProcess

log = logging.getLogger(__name__)

Handler = Callable[[Job], dict[str, Any] | None]
HANDLERS: dict[str, Handler] = {}

# This process's WorkerProcess id once it consumes jobs (serve, worker); claims carry it.
_worker_id: uuid.UUID | None = None


class PermanentError(Exception):
    """Raised by a handler when retrying cannot help (bad input); the job fails at once."""


FailureHook = Callable[[Job], None]
FAILURE_HOOKS: dict[str, FailureHook] = {}


def handler(kind: str, *, on_failure: FailureHook | None = None) -> Callable[[Handler], Handler]:
    """Register the handler of ``kind``; ``on_failure(job)`` runs once the job has failed for good
    (its last attempt raised, or its worker died during it), so the record it works on can say so."""

    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        if on_failure is not None:
            FAILURE_HOOKS[kind] = on_failure
        return fn

    return register


def _failed_for_good(job: Job) -> None:
    hook = FAILURE_HOOKS.get(job.kind)
    if hook is None:
        return
    try:
        hook(job)
    except Exception:  # the job row already says it failed; the hook only mirrors it
        log.warning("failure hook of job %s (%s) failed", job.pk, job.kind, exc_info=True)


def load_job_modules() -> None:
    for module in settings.JOB_MODULES:
        importlib.import_module(module)


def submit(
    kind: str,
    *,
    tenant=None,
    payload: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
    max_attempts: int | None = None,
    delay_s: int = 0,
) -> Job:
    """Record a job and enqueue it once the surrounding transaction commits (``delay_s``: not before then)."""
    if kind not in HANDLERS:
        raise ValueError(f"No handler for job kind {kind!r}")
    if dedupe_key:
        existing = Job.objects.filter(dedupe_key=dedupe_key).first()
        if existing is not None:
            return existing
    job = Job.objects.create(
        tenant=tenant,
        kind=kind,
        payload=payload or {},
        dedupe_key=dedupe_key,
        max_attempts=max_attempts or settings.JOB_MAX_ATTEMPTS,
        run_after=timezone.now() + timedelta(seconds=max(0, delay_s)),
    )
    transaction.on_commit(lambda: enqueue(job.pk, delay=max(0, delay_s)))
    return job


def enqueue(job_id, delay: int = 0) -> None:
    """Hand the id to Huey. If the queue is down the reaper delivers it later."""
    from octopushx.core.tasks import run_job_task

    try:
        if delay:
            run_job_task.schedule(args=(str(job_id),), delay=delay)
        else:
            run_job_task(str(job_id))
    except Exception:  # the row is the truth; the reaper re-enqueues
        log.warning("could not enqueue job %s; the reaper will retry", job_id, exc_info=True)


def enqueue_many(job_ids, batch: int = 200) -> None:
    """Hand many ids to Huey, ``batch`` to a delivery (bulk event fan-out); the reaper covers failures."""
    from octopushx.core.tasks import run_jobs_task

    ids = [str(job_id) for job_id in job_ids]
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        try:
            run_jobs_task(chunk)
        except Exception:  # the rows are the truth; the reaper re-enqueues
            log.warning("could not enqueue %s job(s); the reaper will retry", len(chunk), exc_info=True)


def _runnable(now) -> Q:
    """Due queued jobs, and running jobs whose worker vanished with attempts left."""
    return Q(state=JobState.QUEUED, run_after__lte=now) | Q(
        state=JobState.RUNNING, lease_until__lt=now, attempts__lt=F("max_attempts")
    )


def fail_abandoned() -> int:
    """Fail jobs whose worker died during their last allowed attempt.

    Without this a job that kills its worker every time (a poison input) would be re-run
    forever, one lease after another.
    """
    now = timezone.now()
    abandoned = Job.objects.filter(state=JobState.RUNNING, lease_until__lt=now, attempts__gte=F("max_attempts"))
    ids = list(abandoned.values_list("pk", flat=True)[:500])
    count = abandoned.filter(pk__in=ids).update(
        state=JobState.FAILED,
        last_error="The worker stopped during the last attempt (its lease expired).",
        lease_until=None,
        finished_at=now,
    )
    if count:
        log.warning("%s job(s) failed for good: their worker stopped during the last attempt", count)
        for job in Job.objects.filter(pk__in=ids, state=JobState.FAILED, finished_at=now):
            _failed_for_good(job)
    return count


def _claim(job_id) -> Job | None:
    now = timezone.now()
    runnable = _runnable(now)
    claimed = Job.objects.filter(runnable, pk=job_id).update(
        state=JobState.RUNNING,
        attempts=F("attempts") + 1,
        lease_until=now + timedelta(seconds=settings.JOB_LEASE_SECONDS),
        started_at=now,
        claimed_by=_worker_id,
    )
    return Job.objects.filter(pk=job_id).first() if claimed else None


def backoff(attempts: int) -> int:
    return min(15 * 2 ** max(attempts - 1, 0), 3600)


def run(job_id) -> Job | None:
    """Claim and run one job. Returns the job, or None when it was not runnable."""
    job = _claim(job_id)
    if job is None:
        return None
    fn = HANDLERS.get(job.kind)
    try:
        if fn is None:
            raise PermanentError(f"no handler registered for {job.kind!r}")
        if job.tenant_id and getattr(job.tenant, "suspended_at", None):
            # A suspended tenant's work waits; reinstatement resumes it.
            Job.objects.filter(pk=job.pk).update(
                state=JobState.QUEUED,
                attempts=F("attempts") - 1,
                run_after=timezone.now() + timedelta(hours=1),
            )
            return job
        result = fn(job) or {}
    except Exception as exc:
        permanent = isinstance(exc, PermanentError) or job.attempts >= job.max_attempts
        log.warning("job %s (%s) attempt %s failed: %s", job.pk, job.kind, job.attempts, exc)
        delay = backoff(job.attempts)
        Job.objects.filter(pk=job.pk, state=JobState.RUNNING).update(
            state=JobState.FAILED if permanent else JobState.QUEUED,
            last_error=f"{type(exc).__name__}: {exc}"[:4000],
            run_after=timezone.now() + timedelta(seconds=delay),
            lease_until=None,
            finished_at=timezone.now() if permanent else None,
        )
        from octopushx.core import metrics

        metrics.JOB_FAILURES.labels(job.kind).inc()
        job.refresh_from_db()
        if not permanent:
            enqueue(job.pk, delay=delay)
        elif job.state == JobState.FAILED:
            _failed_for_good(job)
        return job
    Job.objects.filter(pk=job.pk, state=JobState.RUNNING).update(
        state=JobState.DONE,
        result=result,
        progress=1.0,
        lease_until=None,
        finished_at=timezone.now(),
        last_error="",
    )
    from octopushx.core import metrics

    metrics.JOB_RUNS.labels(job.kind).inc()
    job.refresh_from_db()
    if job.started_at and job.finished_at:
        took = (job.finished_at - job.started_at).total_seconds()
        log.info("job %s done in %.1f s (%s)", job.kind, took, ", ".join(f"{k}: {v}" for k, v in result.items())[:200])
    return job


def heartbeat(job: Job, progress: float | None = None) -> None:
    """Extend a long job's lease (call it between steps) and record progress."""
    fields: dict[str, Any] = {"lease_until": timezone.now() + timedelta(seconds=settings.JOB_LEASE_SECONDS)}
    if progress is not None:
        fields["progress"] = max(0.0, min(1.0, progress))
    Job.objects.filter(pk=job.pk).update(**fields)


def retry(job: Job, actor=None) -> Job:
    """Put a job that failed for good back in the queue (from the jobs page or the API)."""
    from octopushx.core import audit

    with transaction.atomic():
        requeued = Job.objects.filter(pk=job.pk, state=JobState.FAILED).update(
            state=JobState.QUEUED, attempts=0, run_after=timezone.now(), finished_at=None
        )
        if not requeued:
            raise ValidationError({"state": ["Only a job that failed for good can be retried."]})
        if job.tenant_id:
            audit.record(job.tenant, actor, "job.retried", obj=job, changes={"state": ["failed", "queued"]})
        transaction.on_commit(lambda: enqueue(job.pk))
    job.refresh_from_db()
    return job


def register_worker() -> uuid.UUID:
    """Record this process as a job consumer (once); its claims and heartbeats carry the id."""
    global _worker_id
    if _worker_id is None:
        _worker_id = WorkerProcess.objects.create(hostname=socket.gethostname(), pid=os.getpid()).pk
    return _worker_id


def worker_heartbeat() -> None:
    """Say this process is alive (the reaper thread calls it each round)."""
    if _worker_id is None:
        return
    now = timezone.now()
    # Re-created if another process took it for dead meanwhile (a long database outage, say).
    WorkerProcess.objects.update_or_create(
        pk=_worker_id, defaults={"heartbeat_at": now}, create_defaults={
            "hostname": socket.gethostname(), "pid": os.getpid(), "heartbeat_at": now,
        }
    )  # fmt: skip


def unregister_worker() -> None:
    """On a clean stop: forget this process; jobs it still held are released by the next reaper."""
    global _worker_id
    if _worker_id is not None:
        WorkerProcess.objects.filter(pk=_worker_id).delete()
        _worker_id = None


def worker_stale_seconds() -> int:
    """A process that has not heart-beaten for this long is taken for dead."""
    return max(3 * settings.JOB_REAPER_SECONDS, 30)


def _process_exists(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        return True
    try:  # a killed process nobody has waited for yet is a zombie: gone all the same
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _gone(worker: WorkerProcess, now, host: str) -> bool:
    if worker.pk == _worker_id:
        return False
    if worker.heartbeat_at < now - timedelta(seconds=worker_stale_seconds()):
        return True
    if worker.hostname != host:
        return False
    # Our own pid under another id is an earlier life of this process slot (a restarted container).
    return worker.pid == os.getpid() or not _process_exists(worker.pid)


def release_lost_jobs() -> int:
    """Expire the leases of running jobs whose worker process is gone, so the reaper re-runs them now."""
    now = timezone.now()
    host = socket.gethostname()
    gone = [worker.pk for worker in WorkerProcess.objects.all() if _gone(worker, now, host)]
    if gone:
        WorkerProcess.objects.filter(pk__in=gone).delete()
        log.warning("%s job process(es) stopped without finishing their work", len(gone))
    released = (
        Job.objects.filter(state=JobState.RUNNING, claimed_by__isnull=False, lease_until__gte=now)
        .exclude(claimed_by__in=WorkerProcess.objects.values("pk"))
        .update(lease_until=now)
    )
    if released:
        log.warning("released %s job(s) held by a stopped process", released)
    return released


def reap(stale_after: int = 60) -> int:
    """Re-enqueue queued jobs nobody picked up and running jobs whose lease expired or whose worker is gone.

    ``stale_after`` spares queued jobs younger than that many seconds (their delivery is
    probably still in the queue); a duplicate delivery is harmless either way.
    """
    release_lost_jobs()
    fail_abandoned()
    now = timezone.now()
    due = Job.objects.filter(
        Q(state=JobState.QUEUED, run_after__lte=now - timedelta(seconds=stale_after))
        | Q(state=JobState.RUNNING, lease_until__lt=now, attempts__lt=F("max_attempts"))
    ).values_list("pk", flat=True)[:500]
    count = 0
    for job_id in due:
        enqueue(job_id)
        count += 1
    return count


# Work other packages do on every reaper round (Studio wakes due runs and schedules): ``fn()``.
ROUND_HOOKS: list[Callable[[], Any]] = []


def each_round(fn: Callable[[], Any]) -> Callable[[], Any]:
    """Register ``fn`` to run on every reaper round of every consuming process."""
    if fn not in ROUND_HOOKS:
        ROUND_HOOKS.append(fn)
    return fn


def _run_round_hooks() -> None:
    for hook in ROUND_HOOKS:
        try:
            hook()
        except Exception:  # one hook's failure must not stop the reaper
            log.warning("reaper hook %s failed", getattr(hook, "__qualname__", hook), exc_info=True)


def _reaper_loop(stop: threading.Event, interval: float) -> None:
    from django.db import connection

    stale_after = 0  # at start-up, deliver everything due: a restarted worker resumes at once
    while not stop.is_set():
        try:
            worker_heartbeat()
            count = reap(stale_after=stale_after)
            if count:
                log.info("reaper re-enqueued %s job(s)", count)
            _run_round_hooks()
        except Exception:  # the database may be briefly unavailable; try again next round
            log.warning("job reaper failed; retrying in %ss", interval, exc_info=True)
        finally:
            connection.close()
        stale_after = 60
        stop.wait(interval)


def start_reaper(interval: float | None = None) -> threading.Event:
    """Reap now and then every ``JOB_REAPER_SECONDS`` in a daemon thread; set the event to stop.

    The process registers as a worker first (if it has not yet), so its claims can be
    told apart from those of a process that died.
    """
    register_worker()
    stop = threading.Event()
    seconds = settings.JOB_REAPER_SECONDS if interval is None else interval
    threading.Thread(target=_reaper_loop, args=(stop, seconds), name="octopushx-reaper", daemon=True).start()
    return stop


def drain(max_rounds: int = 50) -> int:
    """Run every runnable job in this process (tests, `octopushx jobs run`)."""
    ran = 0
    for _ in range(max_rounds):
        fail_abandoned()
        ids = list(Job.objects.filter(_runnable(timezone.now())).order_by("created_at").values_list("pk", flat=True))
        if not ids:
            break
        for job_id in ids:
            if run(job_id) is not None:
                ran += 1
    return ran
