"""Provider callbacks about a call: status events, agents' legs, recordings; and the call's derived record.

Every status callback is stored append-only as a ``CallEvent`` (deduplicated on provider|call id|status|
timestamp), then the ``PhoneCall``, its ``calls.Call`` (outcome, status) and the agent's presence are
recomputed from *all* the call's events (``callstate.derive``), so late, repeated and reordered
deliveries converge on one record. Recordings go into the existing intake (``attach_recording_url``);
a voicemail also queues the notification job for the voicemail block's members.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from octopushx.calls import services as call_services
from octopushx.calls.models import Call, CallStatus
from octopushx.core import audit, events, jobs
from octopushx.core.context import Actor
from octopushx.core.models import Job, JobState
from octopushx.telephony import callstate, live, services
from octopushx.telephony.models import (
    TERMINAL_STATES,
    CallEvent,
    CallFlow,
    CallState,
    PhoneCall,
    Presence,
    PresenceSource,
)

VOICEMAIL_JOB = "telephony.voicemail"
RING_ANSWERED_JOB = "telephony.vonage_ring_answered"  # a member's ring-group leg answered: hang up the others
RING_TIMEOUT_JOB = "telephony.vonage_ring_timeout"  # a Vonage ring group's clock (``vonage_legs``)
PLACED = "placed"  # a member's leg the platform placed (Vonage ring groups): stored, says nothing of the state


def _actor(provider: str) -> Actor:
    return Actor.system(f"{provider} telephony")


def member_by_line(tenant, address: str) -> str | None:
    """The id of the member whose line (number or SIP URI) is ``address`` (a leg's "To"), if any."""
    address = (address or "").strip()
    if not address:
        return None
    candidates = {address}
    if address.isdigit():  # Vonage writes numbers without the plus
        candidates.add(f"+{address}")
    if address.startswith("sip:"):
        candidates.add(address.split(";", 1)[0])
    row = (
        Presence.objects.for_tenant(tenant)
        .filter(Q(phone_number__in=candidates) | Q(sip_uri__in=candidates))
        .values_list("user_id", flat=True)
        .first()
    )
    return str(row) if row else None


def find_call(tenant, provider: str, provider_call_id: str) -> PhoneCall | None:
    if not provider_call_id:
        return None
    return (
        PhoneCall.objects.for_tenant(tenant)
        .filter(provider=provider, provider_call_id=provider_call_id)
        .select_related("call", "flow")
        .first()
    )


def find_conversation(tenant, provider: str, conversation_id: str) -> PhoneCall | None:
    """The call whose Vonage conversation this is (recordings and connected legs report only that)."""
    if not conversation_id:
        return None
    found = PhoneCall.objects.for_tenant(tenant).filter(provider=provider, conversation_id=conversation_id)
    return found.select_related("call", "flow").first()


def _owner(tenant, provider: str, call_id: str, parent_id: str, conversation_id: str) -> tuple[PhoneCall | None, bool]:
    """The call an event belongs to, and whether the event is about an agent's leg of it."""
    own = find_call(tenant, provider, call_id)
    if own is not None:
        return own, False
    parent = find_call(tenant, provider, parent_id)
    if parent is not None:
        return parent, True
    by_conversation = find_conversation(tenant, provider, conversation_id)
    if by_conversation is not None:
        return by_conversation, True
    return None, False


def record_status(
    tenant,
    *,
    provider: str,
    provider_call_id: str,
    raw_status: str,
    occurred_at: datetime | None,
    sequence: int | None = None,
    payload: dict | None = None,
    parent_call_id: str = "",
    conversation_id: str = "",
    duration: int | None = None,
    leg_to: str = "",
) -> tuple[CallEvent, bool]:
    """Store one status callback (once) and bring its call up to date: ``(event, created)``.

    An unknown call id is stored with no call, for inspection; a child leg (``parent_call_id``, or a
    Vonage leg in the call's conversation) is stored on its parent call, with the member it rang.
    """
    status = callstate.neutral_status(provider, raw_status) or (raw_status or "unknown").strip().lower()[:20]
    placed = placed_leg(tenant, provider, provider_call_id)
    if placed is not None:
        phone_call, child = placed.phone_call, True
    else:
        phone_call, child = _owner(tenant, provider, provider_call_id, parent_call_id, conversation_id)
    stamp = occurred_at.isoformat() if occurred_at is not None else ""
    data = dict(payload or {})
    if duration is not None:
        data["duration_s"] = duration
    if child:
        data["child"] = True
        agent_id = member_by_line(tenant, leg_to) or (placed.payload.get("agent_id") if placed else None)
        if agent_id:
            data["agent_id"] = agent_id
    key = f"{provider}|{provider_call_id}|{status}|{stamp}"[:300]
    stored = _store(
        tenant, phone_call, provider, provider_call_id, status, raw_status, occurred_at, sequence, key, data
    )
    if stored[1] and placed is not None and status == CallState.IN_PROGRESS:
        block, visit = placed.payload.get("ring_block"), placed.payload.get("visit", 0)
        jobs.submit(RING_ANSWERED_JOB, tenant=tenant, payload={
            "phone_call_id": str(phone_call.pk), "block": block, "visit": visit, "leg": provider_call_id,
        }, dedupe_key=f"{RING_ANSWERED_JOB}:{phone_call.pk}:{block}:{visit}")  # fmt: skip
    if stored[1] and not child and phone_call is not None and provider == "vonage" and status in TERMINAL_STATES:
        _stop_ringing_now(phone_call)
    return stored


def _stop_ringing_now(phone_call: PhoneCall) -> None:
    """The caller hung up: the ring groups' clocks run out now, so the members' phones stop ringing."""
    pending = Job.objects.filter(tenant=phone_call.tenant, kind=RING_TIMEOUT_JOB, state=JobState.QUEUED,
                                 payload__phone_call_id=str(phone_call.pk))  # fmt: skip
    ids = list(pending.values_list("pk", flat=True))
    if ids:
        Job.objects.filter(pk__in=ids).update(run_after=timezone.now())
        for job_id in ids:
            transaction.on_commit(lambda job_id=job_id: jobs.enqueue(job_id))


def placed_leg(tenant, provider: str, leg_id: str) -> CallEvent | None:
    """The ``placed`` event of a member's leg the platform rang (its status events belong to that call)."""
    if provider != "vonage" or not leg_id:
        return None
    found = CallEvent.objects.for_tenant(tenant).filter(provider=provider, provider_call_id=leg_id, status=PLACED)
    return found.exclude(phone_call__isnull=True).select_related("phone_call", "phone_call__call").first()


def record_leg_placed(
    tenant, phone_call: PhoneCall, *, leg_id: str, block_id: str, visit: int, to: str, agent_id: str | None
) -> tuple[CallEvent, bool]:
    """A ring-group member's leg is ringing (placed through the Voice API); its events will find the call by it."""
    data = {"child": True, "ring_block": block_id, "visit": visit, "to": to}
    if agent_id:
        data["agent_id"] = agent_id
    key = f"{phone_call.provider}|{leg_id}|{PLACED}"[:300]
    return _store(tenant, phone_call, phone_call.provider, leg_id, PLACED, PLACED, timezone.now(), None, key, data)


def record_answer(
    tenant, phone_call: PhoneCall, *, leg_id: str, occurred_at: datetime, agent_id: str | None, payload: dict
) -> tuple[CallEvent, bool]:
    """An agent's leg answered (a dial's or connect's outcome): stored as an event of the call."""
    data = {**payload, "child": True}
    if agent_id:
        data["agent_id"] = agent_id
    key = f"{phone_call.provider}|{phone_call.provider_call_id}|{callstate.ANSWERED}|{leg_id}"[:300]
    return _store(tenant, phone_call, phone_call.provider, leg_id or phone_call.provider_call_id, callstate.ANSWERED,
                  "answered", occurred_at, None, key, data)  # fmt: skip


def record_refusal(tenant, phone_call: PhoneCall, *, occurred_at: datetime, reason: str) -> tuple[CallEvent, bool]:
    """The line limits refused the call (it hears why and hangs up): its outcome is "refused" once it ends."""
    key = f"{phone_call.provider}|{phone_call.provider_call_id}|{callstate.REFUSED}"[:300]
    return _store(tenant, phone_call, phone_call.provider, phone_call.provider_call_id, callstate.REFUSED,
                  "refused", occurred_at, None, key, {"reason": reason})  # fmt: skip


def _store(tenant, phone_call, provider, call_id, status, raw, occurred_at, sequence, key, data):
    # No look-up first: the unique dedupe key turns a repeated delivery into an IntegrityError.
    if phone_call is not None:
        phone_call.tenant = tenant
    try:
        with transaction.atomic():
            event = CallEvent.objects.create(
                tenant=tenant, phone_call=phone_call, provider=provider, provider_call_id=call_id[:120],
                status=status, raw_status=(raw or "")[:40], occurred_at=occurred_at, sequence=sequence,
                dedupe_key=key, payload=data,
            )  # fmt: skip
            if phone_call is not None:
                refresh(phone_call)
    except IntegrityError:  # a concurrent delivery of the same callback won
        return CallEvent.objects.for_tenant(tenant).get(dedupe_key=key), False
    return event, True


def adopt_events(phone_call: PhoneCall) -> int:
    """Callbacks that arrived before the call was known (stored without a call) now belong to it."""
    adopted = (
        CallEvent.objects.for_tenant(phone_call.tenant)
        .filter(phone_call__isnull=True, provider=phone_call.provider, provider_call_id=phone_call.provider_call_id)
        .update(phone_call=phone_call)
    )
    if adopted:
        refresh(phone_call)
    return adopted


def _event(row: CallEvent, own_id: str) -> callstate.Event:
    payload = row.payload or {}
    return callstate.Event(
        status=row.status,
        occurred_at=row.occurred_at,
        sequence=row.sequence,
        child=bool(payload.get("child")) or row.provider_call_id != own_id,
        duration=payload.get("duration_s"),
        agent_id=payload.get("agent_id"),
    )


def _records_answers(phone_call: PhoneCall) -> bool:
    """Whether an answered call of this flow is recorded (so its call record waits for the recording)."""
    if phone_call.flow_id is None:
        return True
    definition = CallFlow.objects.filter(pk=phone_call.flow_id).values_list("definition", flat=True).first() or {}
    return bool((definition.get("recording") or {}).get("enabled", True))


def _snapshot(pc: PhoneCall) -> dict:
    def iso(value):
        return value.isoformat() if value else None

    return {"state": pc.state, "agent": str(pc.agent_id) if pc.agent_id else None,
            "answered_at": iso(pc.answered_at), "ended_at": iso(pc.ended_at), "duration": pc.duration}  # fmt: skip


def refresh(phone_call: PhoneCall) -> PhoneCall:
    """Recompute the call's record from all its events (idempotent; call it inside the event's transaction)."""
    tenant = phone_call.tenant
    with transaction.atomic():
        pc = PhoneCall.objects.select_for_update().get(pk=phone_call.pk)
        pc.tenant = tenant  # already loaded: audit and presence read it
        rows = CallEvent.objects.for_tenant(tenant).filter(phone_call=pc)
        derived = callstate.derive(
            [_event(r, pc.provider_call_id) for r in rows], direction=pc.direction, started_at=pc.started_at
        )
        before = _snapshot(pc)
        previous_agent, previous_end = pc.agent_id, pc.ended_at
        if derived.state is not None:
            pc.state, pc.state_at = derived.state, derived.state_at
        pc.answered_at = derived.answered_at
        if derived.agent_id:
            pc.agent_id = derived.agent_id
        pc.ended_at = derived.ended_at
        pc.duration = derived.duration or 0
        if derived.terminal:
            pc.ringing_users = []
        after = _snapshot(pc)
        changes = audit.diff(before, after)
        if changes:
            pc.save()
            audit.record(tenant, _actor(pc.provider), "phone_call.updated", obj=pc, changes=changes)
            events.emit(tenant, "phone_call.updated", {"phone_call_id": str(pc.pk), "state": pc.state})
            if "ended_at" in changes and derived.terminal:
                events.emit(tenant, "phone_call.ended", {
                    "phone_call_id": str(pc.pk), "call_id": str(pc.call_id) if pc.call_id else None,
                    "outcome": derived.outcome, "agent_id": str(pc.agent_id) if pc.agent_id else None,
                })  # fmt: skip
            transaction.on_commit(lambda: live.call_changed(pc))
        _update_call_record(pc, derived)
        _update_presence(pc, derived, previous_agent, previous_end)
    return pc


def _update_call_record(pc: PhoneCall, derived: callstate.Derived) -> None:
    """The call record's outcome and status follow the derived state (the recording's own statuses win)."""
    if pc.call_id is None:
        return
    call = Call.objects.select_for_update().get(pk=pc.call_id)
    before = {"outcome": call.outcome, "status": call.status, "agent": str(call.agent_id) if call.agent_id else None}
    call.outcome = derived.outcome
    if call.status in (CallStatus.LIVE, CallStatus.NO_RECORDING):
        waits = derived.outcome == "voicemail" or (derived.outcome == "answered" and _records_answers(pc))
        call.status = CallStatus.LIVE if (not derived.terminal or waits) else CallStatus.NO_RECORDING
    if pc.agent_id and call.agent_id != pc.agent_id:
        call.agent_id = pc.agent_id
    after = {"outcome": call.outcome, "status": call.status, "agent": str(call.agent_id) if call.agent_id else None}
    changes = audit.diff(before, after)
    if changes:
        call.save(update_fields=["outcome", "status", "agent", "updated_at"])
        audit.record(pc.tenant, _actor(pc.provider), "call.updated", obj=call, changes=changes)
        events.emit(pc.tenant, "call.updated", {"call_id": str(call.pk), "fields": sorted(changes)})
        if "outcome" in changes and derived.outcome in ("missed", "abandoned"):
            events.emit(pc.tenant, f"phone_call.{derived.outcome}", {
                "phone_call_id": str(pc.pk), "call_id": str(call.pk),
                "contact_id": str(call.contact_id) if call.contact_id else None,
            })  # fmt: skip


def _update_presence(pc: PhoneCall, derived: callstate.Derived, previous_agent, previous_end) -> None:
    """Busy while the agent is on the call; cleared (and idle from the end) once it has ended."""
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    if previous_agent and str(previous_agent) != str(pc.agent_id):  # the derived id is a string, the field's a UUID
        # Another member answered first after all: the one thought on the call is free again.
        other = user_model.objects.filter(pk=previous_agent).first()
        if other is not None:
            services.apply_call_status(pc.tenant, other, call_ref=pc.provider_call_id, state="completed",
                                       at=derived.answered_at)  # fmt: skip
    if pc.agent_id is None or derived.answered_at is None:
        return
    presence = Presence.objects.for_tenant(pc.tenant).filter(user_id=pc.agent_id).select_related("user").first()
    agent = presence.user if presence is not None else user_model.objects.filter(pk=pc.agent_id).first()
    if agent is None:
        return
    if not derived.terminal:
        if presence is None or presence.set_by != PresenceSource.CALL or presence.call_ref != pc.provider_call_id:
            services.apply_call_status(pc.tenant, agent, call_ref=pc.provider_call_id, state="in-progress",
                                       at=derived.answered_at)  # fmt: skip
        return
    if presence is None:
        return
    if presence.set_by == PresenceSource.CALL and presence.call_ref == pc.provider_call_id:
        presence = services.apply_call_status(pc.tenant, agent, call_ref=pc.provider_call_id, state=derived.state,
                                              at=derived.ended_at)  # fmt: skip
    # The end also counts for longest-idle routing when the "busy" never got to be set (end arrived first),
    # and an earlier end reported late corrects the one this call set.
    idle = presence.last_call_ended_at
    if derived.ended_at and (idle is None or idle < derived.ended_at or (previous_end and idle == previous_end)):
        Presence.objects.filter(pk=presence.pk).update(last_call_ended_at=derived.ended_at)


# --- recordings -----------------------------------------------------------------------------------


def channel_roles(phone_call: PhoneCall, channels: int) -> str:
    """Which speaker each channel holds: the first is the call's own leg (the caller, inbound), the
    second the leg it dialled; one channel is mono."""
    if channels != 2:
        return ""
    return "customer,agent" if phone_call.direction == "inbound" else "agent,customer"


def record_recording(
    tenant, phone_call: PhoneCall, *, url: str, recording_id: str, channels: int, voicemail: bool,
    block_id: str = "", occurred_at: datetime | None = None,
) -> Call | None:  # fmt: skip
    """A completed recording of the call enters the intake (fetched by a job, then analysed); once only."""
    call = phone_call.call
    if call is None or not url:
        return call
    with transaction.atomic():
        locked = Call.objects.select_for_update().get(pk=call.pk)
        fresh = locked.recording_id is None and locked.status != CallStatus.FETCHING
        if fresh:
            roles = "" if voicemail else channel_roles(phone_call, channels)
            if locked.channel_roles != roles:
                locked.channel_roles = roles
                locked.save(update_fields=["channel_roles", "updated_at"])
            call = call_services.attach_recording_url(locked, url)
        if voicemail:
            key = f"{phone_call.provider}|{phone_call.provider_call_id}|{callstate.VOICEMAIL}|{recording_id}"
            _store(tenant, phone_call, phone_call.provider, phone_call.provider_call_id, callstate.VOICEMAIL,
                   "voicemail", occurred_at or timezone.now(), None, key[:300],
                   {"recording_id": recording_id, "block": block_id})  # fmt: skip
            jobs.submit(VOICEMAIL_JOB, tenant=tenant, payload={"phone_call_id": str(phone_call.pk), "block": block_id},
                        dedupe_key=f"{VOICEMAIL_JOB}:{phone_call.pk}")  # fmt: skip
    return call
