"""Job handlers for the worker crash test, imported by worker processes through
``OCTOPUSHX_JOB_MODULES=tests.core.crash_jobs``.

``test.crash_effect`` is slow (it keeps its lease alive with heartbeats), logs every attempt,
and writes its effect idempotently: the job id is appended to ``effects.log`` only when it is
not there yet, so a re-run after a crash leaves the effect in place exactly once.
"""

from __future__ import annotations

import fcntl
import time
from pathlib import Path

from octopushx.core import jobs


def _wait(job, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(min(0.25, max(deadline - time.monotonic(), 0)))
        jobs.heartbeat(job)


def record_effect(path: Path, key: str) -> bool:
    """Append ``key`` to ``path`` unless it is already there; True when it was written."""
    with path.open("a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        if key in handle.read().split():
            return False
        handle.write(key + "\n")
        handle.flush()
        return True


@jobs.handler("test.crash_effect")
def crash_effect(job):
    folder = Path(job.payload["folder"])
    with (folder / "attempts.log").open("a") as log:
        log.write(f"{job.pk} attempt {job.attempts}\n")
    _wait(job, job.payload.get("before", 1.0))
    record_effect(folder / "effects.log", str(job.pk))
    _wait(job, job.payload.get("after", 2.0))
    return {"effect": str(job.pk)}
