"""Telephony background work: presence left "busy" by calls whose hang-up never arrived; voicemail follow-ups;
Vonage ring-group legs and queue time-outs (``vonage_legs``)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from octopushx.core import jobs
from octopushx.telephony import callbacks, services, voicemail, vonage_legs
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


@jobs.handler(vonage_legs.RING_JOB)
def vonage_ring_members(job) -> dict:
    """Ring a simultaneous group's members into the caller's conversation (each leg once)."""
    return vonage_legs.ring_members(job)


@jobs.handler(callbacks.RING_ANSWERED_JOB)
def vonage_ring_answered(job) -> dict:
    """The first member answered: the others' legs are hung up."""
    return vonage_legs.hang_up_others(job)


@jobs.handler(vonage_legs.RING_TIMEOUT_JOB)
def vonage_ring_timeout(job) -> dict:
    """Nobody answered within the group's timeout: the caller moves on to the block's ``next``."""
    return vonage_legs.ring_timeout(job)


@jobs.handler(vonage_legs.QUEUE_TIMEOUT_JOB)
def vonage_queue_timeout(job) -> dict:
    """The queue's maximum wait ran out: a caller still waiting moves on to the block's ``next``."""
    return vonage_legs.queue_timeout(job)
