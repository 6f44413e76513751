"""Huey tasks: deliver job ids to ``jobs.run``.

Lost deliveries are re-enqueued by the reaper thread each consumer process runs
(``jobs.start_reaper``, every ``OCTOPUSHX_REAPER_SECONDS``), not by a Huey periodic task:
Huey checks periodic tasks once a minute at most, and a restarted worker should resume
orphaned work at once.
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from octopushx.core import jobs, maintenance


@db_task(retries=0)
def run_job_task(job_id: str) -> None:
    jobs.run(job_id)


@db_task(retries=0)
def run_jobs_task(job_ids: list[str]) -> None:
    """Several ids in one delivery (``jobs.enqueue_many``); each job is still claimed on its own."""
    for job_id in job_ids:
        jobs.run(job_id)


@db_periodic_task(crontab(minute="17"))
def refresh_statistics_hourly() -> None:
    maintenance.refresh_statistics()
