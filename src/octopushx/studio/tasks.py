"""Huey deliveries for Studio: a tick runs due workflow runs; the minute task fires schedules.

The rows hold the truth (``studio.engine``); a lost delivery only delays work until the next
reaper round, which kicks a tick again.
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from octopushx.studio import engine, services, triggers


@db_task(retries=0)
def studio_tick() -> None:
    engine.tick()


@db_periodic_task(crontab(minute="*"))
def studio_schedules() -> None:
    """Wake the scheduler each minute; the database holds the due times (one firing per slot)."""
    if triggers.fire_schedules():
        engine.kick(now=True)


@db_periodic_task(crontab(minute="23"))
def studio_prune_hourly() -> None:
    services.prune_runs()
