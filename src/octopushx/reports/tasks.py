"""Huey deliveries for reports: the minute task wakes the scheduler of scheduled reports.

The database holds the due times (``reports.schedules``); the reaper round calls the same
function, so a lost delivery only delays a send to the next round.
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from octopushx.reports import schedules


@db_periodic_task(crontab(minute="*"))
def report_schedules() -> None:
    schedules.fire_due()
