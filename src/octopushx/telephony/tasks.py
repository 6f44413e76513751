"""Telephony background work: presence left "busy" by calls whose hang-up never arrived; voicemail follow-ups."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from octopushx.core import jobs
from octopushx.telephony import callbacks, services, voicemail
from octopushx.telephony.models import PhoneCall


@db_periodic_task(crontab(minute="*/5"))
def reconcile_presence_every_five_minutes() -> None:
    services.reconcile_presence()


@jobs.handler(callbacks.VOICEMAIL_JOB)
def notify_voicemail(job) -> dict:
    """Tasks for the members a voicemail block notifies (idempotent: once per member and call)."""
    phone_call = (
        PhoneCall.objects.for_tenant(job.tenant)
        .select_related("tenant", "flow", "contact")
        .filter(pk=job.payload.get("phone_call_id"))
        .first()
    )
    if phone_call is None:
        return {"skipped": "the call was deleted"}
    tasks = voicemail.notify(phone_call, str(job.payload.get("block") or ""))
    return {"phone_call_id": str(phone_call.pk), "tasks": len(tasks)}
