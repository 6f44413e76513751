"""A worker killed in the middle of a job: a new worker finishes it, with its effect once.

Real ``octopushx worker`` processes share the test database (a file for SQLite, the test
database for PostgreSQL) and their own job store (SQLite in a temporary folder, or a queue of
their own on Redis when ``REDIS_URL`` is set).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from octopushx.core import jobs
from octopushx.core.models import Job, JobState
from tests.core import crash_jobs  # noqa: F401  registers test.crash_effect here too

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

REPO = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker_env(tmp_path):
    queue = f"crash-test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "OCTOPUSHX_TESTING": "0",
        "OCTOPUSHX_DATA_DIR": str(tmp_path / "worker-data"),
        "OCTOPUSHX_MASTER_KEY_FILE": settings.MASTER_KEY_FILE,
        "DATABASE_URL": _database_url(),
        "OCTOPUSHX_QUEUE_NAME": queue,
        "OCTOPUSHX_JOB_MODULES": "tests.core.crash_jobs",
        "OCTOPUSHX_JOB_LEASE_SECONDS": "3",
        "OCTOPUSHX_REAPER_SECONDS": "1",
        "OCTOPUSHX_LOG_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    env.pop("OCTOPUSHX_MASTER_KEY", None)
    yield env
    if settings.REDIS_URL:
        from huey import RedisHuey

        RedisHuey(queue, url=settings.REDIS_URL).storage.flush_all()


class Workers:
    def __init__(self, env, log_dir: Path):
        self.env = env
        self.log_dir = log_dir
        self.started: list[subprocess.Popen] = []

    def start(self, threads: int = 1) -> subprocess.Popen:
        script = Path(sys.executable).with_name("octopushx")
        command = [str(script)] if script.exists() else [sys.executable, "-m", "octopushx.cli"]
        log = (self.log_dir / f"worker-{len(self.started)}.log").open("w")
        process = subprocess.Popen(
            [*command, "worker", "--threads", str(threads)],
            env=self.env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.started.append(process)
        return process

    def logs(self) -> str:
        return "\n".join(path.read_text() for path in sorted(self.log_dir.glob("worker-*.log")))

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@pytest.fixture
def workers(worker_env, tmp_path):
    pool = Workers(worker_env, tmp_path)
    yield pool
    pool.stop_all()


def _wait_for(condition, timeout: float, what: str, workers: Workers) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}; worker output:\n{workers.logs()}")


def _lines(path: Path) -> list[str]:
    return path.read_text().split("\n")[:-1] if path.exists() else []


def test_killed_worker_job_completes_once_after_restart(org, workers, tmp_path):
    effects, attempts = tmp_path / "effects.log", tmp_path / "attempts.log"
    job = jobs.submit("test.crash_effect", tenant=org, payload={"folder": str(tmp_path), "before": 1, "after": 4})

    first = workers.start()
    # Kill it after the effect is written but before the job is marked done: the hardest case.
    # Generous time-outs: the machine running the suite may be busy; a pass takes ~10 s.
    _wait_for(lambda: str(job.pk) in _lines(effects), 90, "the first run's effect", workers)
    job.refresh_from_db()
    assert job.state == JobState.RUNNING, workers.logs()
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    job.refresh_from_db()
    assert job.state == JobState.RUNNING and job.attempts == 1

    workers.start()
    _wait_for(lambda: Job.objects.get(pk=job.pk).state == JobState.DONE, 90, "the job to finish", workers)

    job.refresh_from_db()
    assert job.attempts == 2 and job.result == {"effect": str(job.pk)}
    assert len(_lines(attempts)) == 2  # it really ran again ...
    assert _lines(effects) == [str(job.pk)]  # ... and its effect exists exactly once


def test_restarted_worker_resumes_a_killed_workers_job_at_once_not_after_its_lease(org, workers, tmp_path):
    # The default lease and reaper period: only knowing that the first worker is gone can help.
    workers.env.update(OCTOPUSHX_JOB_LEASE_SECONDS="300", OCTOPUSHX_REAPER_SECONDS="60")
    effects = tmp_path / "effects.log"
    job = jobs.submit("test.crash_effect", tenant=org, payload={"folder": str(tmp_path), "before": 1, "after": 4})

    first = workers.start()
    _wait_for(lambda: str(job.pk) in _lines(effects), 90, "the first run's effect", workers)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    job.refresh_from_db()
    assert job.state == JobState.RUNNING and job.lease_until > timezone.now() + timedelta(seconds=200)

    restarted = time.monotonic()
    workers.start()
    _wait_for(lambda: Job.objects.get(pk=job.pk).state == JobState.DONE, 60, "the job to finish", workers)
    assert time.monotonic() - restarted < 60  # well within the 300 s lease
    job.refresh_from_db()
    assert job.attempts == 2 and _lines(effects) == [str(job.pk)]
