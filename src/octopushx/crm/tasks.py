"""CRM background work: task reminders (periodic), imports and exports (jobs)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from octopushx.core import jobs
from octopushx.crm import exports, imports, services

__all__ = ["exports", "imports"]  # imported for their job handlers


@jobs.handler("crm.reminders")
def send_due_reminders(job) -> dict:
    sent = sum(1 for task in services.due_reminders() if services.send_reminder(task))
    return {"sent": sent}


@db_periodic_task(crontab(minute="*"))
def remind_every_minute() -> None:
    send_due_reminders(None)
