"""Huey tasks: deliver job ids to ``jobs.run`` and reap lost work every minute."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from octopushx.core import jobs


@db_task(retries=0)
def run_job_task(job_id: str) -> None:
    jobs.run(job_id)


@db_periodic_task(crontab(minute="*"))
def reap_jobs() -> None:
    jobs.reap()
