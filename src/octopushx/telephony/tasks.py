"""Telephony background work: presence left "busy" by calls whose hang-up never arrived."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from octopushx.telephony import services


@db_periodic_task(crontab(minute="*/5"))
def reconcile_presence_every_five_minutes() -> None:
    services.reconcile_presence()
