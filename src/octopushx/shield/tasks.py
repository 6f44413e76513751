"""Huey periodic tasks of Shield: the daily retention purge (one job per organisation), and the
hourly look for terminations whose notice has ended (one deletion job each)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from octopushx.shield.offboarding import services as offboarding
from octopushx.shield.retention import services as retention


@db_periodic_task(crontab(hour="3", minute="30"))
def daily_retention() -> None:
    retention.schedule_daily()


@db_periodic_task(crontab(minute="41"))
def hourly_terminations() -> None:
    offboarding.schedule_due()
