"""Vonage ring groups and queues, driven through the Voice API (the ``vonage`` SDK) from jobs.

An NCCO ``connect`` rings one endpoint, so a simultaneous ring group compiles to a caller waiting in
the call's named conversation plus a ``notify`` (``step=ring``); a queue to a conversation plus a
``notify`` (``step=queued``). The webhook answers at once and queues the work here:

- **ring**: one outbound call per member the group rings now (``services.ring_selector``, the selection
  compilation uses), whose NCCO joins the named conversation when answered. Each leg is stored as a
  ``placed`` event of the call, so its status events (to the account's event URL) attach to the call
  as the member's child leg (``callbacks.record_status``). Idempotent: a repeated notify finds the job
  by its dedupe key (call, block, visit), and a retried job skips the legs already placed.
- **answered**: the first member's answer hangs up the other legs (queued by ``callbacks``).
- **ring timeout** (a delayed job, ``timeout_s`` after the notify): nobody answered, so the legs still
  ringing are hung up and the caller's leg is transferred to the block's ``step=timeout`` URL, which
  answers with the NCCO of the block's ``next``. A delayed job rather than the legs' own events: a
  member whose phone is off may never report an end, and the caller must move on all the same. When the
  caller hangs up first, ``callbacks`` makes that job due at once, so the members' phones stop ringing.
- **queue timeout** (delayed, ``max_wait_s``): a caller still waiting is transferred to ``step=left``.

A provider failure is logged and never reaches the caller's webhook; a failed transfer retries (the
job's backoff) so the caller still moves on once the provider answers again.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from octopushx.core import jobs
from octopushx.telephony import accounts, callbacks, flows, live, providers, services
from octopushx.telephony.compile import ring_conversation
from octopushx.telephony.models import TERMINAL_STATES, CallEvent, PhoneCall, ProviderAccount

log = logging.getLogger(__name__)

RING_JOB = "telephony.vonage_ring"
RING_TIMEOUT_JOB = callbacks.RING_TIMEOUT_JOB
QUEUE_TIMEOUT_JOB = "telephony.vonage_queue_timeout"
MAX_LEGS = 10  # as many as Twilio dials at once: the same group rings the same members on both providers


# --- what the webhooks queue ------------------------------------------------------------------------


def _visit(phone_call: PhoneCall, block_id: str, what_prefix: str) -> int:
    """How many times the call has entered ``block_id`` (its route entries): a repeated notify counts the same."""
    return sum(
        1
        for e in phone_call.route or []
        if e.get("block") == block_id and str(e.get("what", "")).startswith(what_prefix)
    )


def on_ring(tenant, phone_call: PhoneCall, block: flows.RingGroupBlock) -> None:
    """The caller waits in the conversation: ring the members now, and move the caller on at the timeout."""
    if phone_call.provider != "vonage" or block.strategy != "simultaneous" or not phone_call.is_live:
        return
    visit = _visit(phone_call, block.id, "ringing")
    payload = {"phone_call_id": str(phone_call.pk), "block": block.id, "visit": visit}
    key = f"{phone_call.pk}:{block.id}:{visit}"
    try:
        with transaction.atomic():
            jobs.submit(RING_JOB, tenant=tenant, payload=payload, dedupe_key=f"{RING_JOB}:{key}")
            jobs.submit(RING_TIMEOUT_JOB, tenant=tenant, payload=payload, dedupe_key=f"{RING_TIMEOUT_JOB}:{key}",
                        delay_s=block.timeout_s)  # fmt: skip
    except IntegrityError:  # a concurrent delivery of the same notify queued them
        pass


def on_queued(tenant, phone_call: PhoneCall, block: flows.QueueBlock) -> None:
    """The caller holds in the queue: start the maximum-wait clock."""
    if phone_call.provider != "vonage" or not phone_call.is_live:
        return
    visit = _visit(phone_call, block.id, "queued")
    payload = {"phone_call_id": str(phone_call.pk), "block": block.id, "visit": visit}
    try:
        with transaction.atomic():
            jobs.submit(QUEUE_TIMEOUT_JOB, tenant=tenant, payload=payload,
                        dedupe_key=f"{QUEUE_TIMEOUT_JOB}:{phone_call.pk}:{block.id}:{visit}", delay_s=block.max_wait_s)  # fmt: skip
    except IntegrityError:  # a concurrent delivery of the same notify queued it
        pass


# --- the jobs -------------------------------------------------------------------------------------


def _call_of(job) -> PhoneCall | None:
    return (
        PhoneCall.objects.for_tenant(job.tenant)
        .select_related("tenant", "flow", "number")
        .filter(pk=job.payload.get("phone_call_id"))
        .first()
    )


def _block(phone_call: PhoneCall, block_id: str, kind):
    if phone_call.flow is None:
        return None
    flow = flows.parse(phone_call.flow.definition)
    if not flow.has(block_id):
        return None
    block = flow.block(block_id)
    return block if isinstance(block, kind) else None


def _event_url(phone_call: PhoneCall) -> str:
    account_id = phone_call.number.account_id if phone_call.number else None
    if account_id is None:
        account = ProviderAccount.objects.for_tenant(phone_call.tenant).filter(provider="vonage").first()
        account_id = account.pk if account else ""
    return f"{accounts.hooks_base()}/hooks/telephony/vonage/event/{account_id}"


def step_url(phone_call: PhoneCall, block_id: str, step: str) -> str:
    return f"{accounts.hooks_base()}/hooks/telephony/vonage/voice/{phone_call.flow_id}/{block_id}?step={step}"


def legs(phone_call: PhoneCall, block_id: str, visit: int) -> list[CallEvent]:
    """The members' legs placed for this visit of the group, in the order they were placed."""
    placed = CallEvent.objects.for_tenant(phone_call.tenant).filter(phone_call=phone_call, status=callbacks.PLACED)
    return [e for e in placed.order_by("created_at") if e.payload.get("ring_block") == block_id
            and int(e.payload.get("visit", -1)) == visit]  # fmt: skip


def _leg_statuses(phone_call: PhoneCall, leg_ids: list[str]) -> dict[str, set[str]]:
    rows = CallEvent.objects.for_tenant(phone_call.tenant).filter(phone_call=phone_call, provider_call_id__in=leg_ids)
    statuses: dict[str, set[str]] = {leg: set() for leg in leg_ids}
    for leg, status in rows.values_list("provider_call_id", "status"):
        statuses[leg].add(status)
    return statuses


def _answered(statuses: set[str]) -> bool:
    return "in-progress" in statuses or "answered" in statuses


def _ended(statuses: set[str]) -> bool:
    return bool(statuses & set(TERMINAL_STATES))


def ring_members(job) -> dict:
    """Place one call per member the group rings now (each leg once, whatever the retries)."""
    phone_call = _call_of(job)
    if phone_call is None or not phone_call.is_live:
        return {"skipped": "the call has ended"}
    block = _block(phone_call, str(job.payload.get("block")), flows.RingGroupBlock)
    if block is None:
        return {"skipped": "no such ring group"}
    visit = int(job.payload.get("visit", 0))
    already = {e.payload.get("to") for e in legs(phone_call, block.id, visit)}
    endpoints = services.ring_selector(job.tenant, phone_call.flow, now=timezone.now())(block)[:MAX_LEGS]
    creds = accounts.credentials(job.tenant, "vonage")
    conversation = ring_conversation(str(phone_call.flow_id), block.id, phone_call.provider_call_id)
    placed, failed = 0, 0
    for endpoint in endpoints:
        if endpoint.address in already:
            continue
        try:
            leg_id = providers.vonage_ring_member(
                creds, to=endpoint.address, from_=phone_call.to_number, conversation=conversation,
                event_url=_event_url(phone_call), ringing_s=block.timeout_s,
            )  # fmt: skip
        except providers.ProviderError as error:
            failed += 1
            log.warning("vonage ring group %s: member not rung: %s", block.id, error.message)
            continue
        callbacks.record_leg_placed(job.tenant, phone_call, leg_id=leg_id, block_id=block.id, visit=visit,
                                    to=endpoint.address, agent_id=callbacks.member_by_line(job.tenant, endpoint.address))  # fmt: skip
        placed += 1
    if placed == 0 and not already:
        # Nobody could be rung (provider down, or nobody left): the caller moves on now, not at the timeout.
        try:
            _move_on(creds, phone_call, step_url(phone_call, block.id, "timeout"))
        except providers.ProviderError:
            pass  # logged; the timeout job retries the transfer
    return {"placed": placed, "failed": failed}


def _hang_up(creds, leg_ids) -> int:
    done = 0
    for leg_id in leg_ids:
        try:
            providers.vonage_hangup(creds, leg_id)
            done += 1
        except providers.ProviderError as error:
            log.warning("vonage: a ringing leg was not hung up: %s", error.message)
    return done


def _move_on(creds, phone_call: PhoneCall, url: str) -> None:
    providers.vonage_transfer(creds, phone_call.provider_call_id, url)


def hang_up_others(job) -> dict:
    """A member answered: the legs of the other members stop ringing (the earliest answer keeps the call)."""
    phone_call = _call_of(job)
    if phone_call is None:
        return {"skipped": "the call was deleted"}
    block_id, visit = str(job.payload.get("block")), int(job.payload.get("visit", 0))
    leg_ids = [e.provider_call_id for e in legs(phone_call, block_id, visit)]
    statuses = _leg_statuses(phone_call, leg_ids)
    answers = (
        CallEvent.objects.for_tenant(phone_call.tenant)
        .filter(phone_call=phone_call, provider_call_id__in=leg_ids, status="in-progress")
        .order_by("occurred_at", "created_at")
        .values_list("provider_call_id", flat=True)
    )
    winner = next(iter(answers), None)
    others = [leg for leg in leg_ids if leg != winner and not _ended(statuses[leg])]
    hung = _hang_up(accounts.credentials(job.tenant, "vonage"), others) if others else 0
    if phone_call.ringing_users:
        PhoneCall.objects.filter(pk=phone_call.pk).update(ringing_users=[])
        phone_call.ringing_users = []
        transaction.on_commit(lambda: live.call_changed(phone_call))
    return {"answered": winner, "hung_up": hung}


def ring_timeout(job) -> dict:
    """The group's ``timeout_s`` ran out: unless a member answered, stop the legs and move the caller on."""
    phone_call = _call_of(job)
    if phone_call is None:
        return {"skipped": "the call was deleted"}
    block_id, visit = str(job.payload.get("block")), int(job.payload.get("visit", 0))
    leg_ids = [e.provider_call_id for e in legs(phone_call, block_id, visit)]
    statuses = _leg_statuses(phone_call, leg_ids)
    if any(_answered(s) for s in statuses.values()):
        return {"skipped": "a member answered"}
    creds = accounts.credentials(job.tenant, "vonage")
    hung = _hang_up(creds, [leg for leg in leg_ids if not _ended(statuses[leg])])
    if not phone_call.is_live:
        return {"skipped": "the caller hung up", "hung_up": hung}
    if _visit(phone_call, block_id, "nobody answered") >= visit:
        return {"skipped": "already moved on", "hung_up": hung}
    _move_on(creds, phone_call, step_url(phone_call, block_id, "timeout"))  # a failure retries the job
    return {"moved_on": True, "hung_up": hung}


def queue_timeout(job) -> dict:
    """The queue's ``max_wait_s`` ran out: a caller still waiting leaves for the block's ``next``."""
    phone_call = _call_of(job)
    if phone_call is None:
        return {"skipped": "the call was deleted"}
    if not phone_call.is_live or phone_call.answered_at is not None:
        return {"skipped": "the caller was connected or hung up"}
    block = _block(phone_call, str(job.payload.get("block")), flows.QueueBlock)
    if block is None:
        return {"skipped": "no such queue"}
    if _visit(phone_call, block.id, "left the queue") >= int(job.payload.get("visit", 0)):
        return {"skipped": "already left the queue"}
    _move_on(accounts.credentials(job.tenant, "vonage"), phone_call, step_url(phone_call, block.id, "left"))
    return {"moved_on": True}
