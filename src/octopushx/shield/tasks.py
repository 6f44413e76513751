"""Huey periodic tasks of Shield: the daily retention purge (one job per organisation)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from octopushx.shield.retention import services as retention


@db_periodic_task(crontab(hour="3", minute="30"))
def daily_retention() -> None:
    retention.schedule_daily()
