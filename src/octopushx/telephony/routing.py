"""A live call through its flow: the answer to each voice webhook, and the route it leaves on the call.

The documents come from ``services.compile_flow`` (the same compiler the golden files pin); this module
only decides *which* block answers with which step (a menu key, a dial's outcome, a queue's end, a
voicemail recorded) and writes what the call passed onto ``PhoneCall.route`` — once per provider step,
so a repeated delivery answers the same document without a second entry. Round-robin ring groups
advance their persisted pointer once per call: the turn a call took is kept in its route entry, so
the group's later attempts (the next member) ring from the same turn.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from twilio.twiml.voice_response import VoiceResponse

from octopushx.core import audit
from octopushx.core.context import Actor
from octopushx.telephony import callbacks, flows, limits, live, services, vonage_legs
from octopushx.telephony.compile import Passed, refusal_ncco, refusal_twiml
from octopushx.telephony.models import CallFlow, PhoneCall, PhoneNumber
from octopushx.tenancy.models import Membership

NOT_IN_USE = "This number is not in use."


@dataclass(frozen=True)
class Step:
    """What the provider told a step URL: ``step`` and ``attempt`` from the query, the rest from the body."""

    step: str = ""
    attempt: int = 0
    digits: str = ""
    dial_status: str = ""  # Twilio DialCallStatus / Vonage connect status / Twilio QueueResult
    leg_id: str = ""  # Twilio DialCallSid / Vonage leg uuid
    leg_to: str = ""  # the answered leg's address, when the provider says
    leg_duration: int = 0
    queue_time_s: int = 0

    def key(self, block_id: str) -> str:
        return f"{block_id}|{self.step}|{self.attempt}|{self.digits}|{self.dial_status}"


def not_in_use(provider: str):
    """What a number with no (active) flow answers: a short message, then the line hangs up."""
    if provider == "twilio":
        response = VoiceResponse()
        response.say(NOT_IN_USE)
        response.hangup()
        return response.to_xml()
    return [{"action": "talk", "text": NOT_IN_USE}]


def hang_up(provider: str):
    if provider != "twilio":
        return []
    response = VoiceResponse()
    response.hangup()
    return response.to_xml()


def _base_url() -> str:
    return settings.BASE_URL.rstrip("/")


def start(number: PhoneNumber, *, call_id: str, from_number: str, to_number: str, conversation_id: str = ""):
    """A new inbound call on ``number``: logged once (ringing), answered with the flow's start block."""
    tenant, row = number.tenant, number.flow
    if row is None or not row.is_active:
        return not_in_use(number.provider), None
    phone_call, created = open_call(number, call_id=call_id, from_number=from_number, to_number=to_number,
                                    conversation_id=conversation_id)  # fmt: skip
    flow = flows.parse(row.definition)
    refused = _refused(tenant, phone_call, flow, created)
    if refused is not None:
        return refused, phone_call
    document = answer(tenant, phone_call, row, flow, flow.start, Step(step="start"))
    return document, phone_call


def _refused(tenant, phone_call: PhoneCall, flow: flows.Flow, created: bool):
    """Over the organisation's or reseller's line limits: the caller hears why, then the line hangs up.

    Checked when the call is first logged; a repeated delivery of that first webhook answers the same.
    """
    already = any(entry.get("block") == "limits" for entry in phone_call.route or [])
    refusal = limits.check(tenant, "inbound", call=phone_call) if created else None
    if refusal is not None:
        with transaction.atomic():
            PhoneCall.objects.filter(pk=phone_call.pk).update(
                route=[
                    {
                        "block": "limits",
                        "at": timezone.now().isoformat(),
                        "what": refusal.detail,
                        "say": refusal.message,
                    }
                ]  # fmt: skip
            )
            phone_call.refresh_from_db(fields=["route"])
            callbacks.record_refusal(tenant, phone_call, occurred_at=timezone.now(), reason=refusal.reason)
        already = True
    if not already:
        return None
    message = refusal.message if refusal is not None else phone_call.route[0].get("say") or limits.BUSY_MESSAGE
    if phone_call.provider == "twilio":
        return refusal_twiml(message, flow.language)
    return refusal_ncco(message, flow.language)


def open_call(number: PhoneNumber, *, call_id: str, from_number: str, to_number: str, conversation_id: str = ""):
    from octopushx.telephony import calllog

    phone_call, created = calllog.open_call(
        number.tenant, provider=number.provider, provider_call_id=call_id, direction="inbound",
        from_number=from_number, to_number=to_number, number=number, flow=number.flow, state="ringing",
    )  # fmt: skip
    if conversation_id and not phone_call.conversation_id:
        PhoneCall.objects.filter(pk=phone_call.pk).update(conversation_id=conversation_id[:120])
        phone_call.conversation_id = conversation_id[:120]
    if created:
        callbacks.adopt_events(phone_call)
    return phone_call, created


def _turns(phone_call: PhoneCall, row: CallFlow) -> dict[str, int]:
    """The round-robin turn of each group: the one this call already took, else the group's pointer now."""
    turns = {k: int(v) for k, v in (row.rotation or {}).items()}
    for entry in phone_call.route or []:
        if "turn" in entry:
            turns[entry["block"]] = int(entry["turn"])
    return turns


def _round_robin_ids(flow: flows.Flow) -> set[str]:
    return {b.id for b in flow.blocks if isinstance(b, flows.RingGroupBlock) and b.strategy == "round_robin"}


def answer(tenant, phone_call: PhoneCall, row: CallFlow, flow: flows.Flow, block_id: str, step: Step, *,
           compile_step: str = "", attempt: int = 0, invalid: bool = False, notes: list[Passed] | None = None):  # fmt: skip
    """Compile ``block_id`` for this call and note on its route what the answer passes (once per step)."""
    trace: list[Passed] = list(notes or [])
    key = step.key(block_id)
    route = phone_call.route or []
    repeated = bool(route) and route[-1].get("key") == key
    document = services.compile_flow(
        tenant, row, block_id=block_id, provider=phone_call.provider, base_url=_base_url(), flow=flow,
        rotation=_turns(phone_call, row), call_id=phone_call.provider_call_id,
        caller_id=phone_call.to_number if phone_call.direction == "inbound" else "",
        step=compile_step, attempt=attempt, invalid=invalid, queue_time_s=step.queue_time_s,
        trace=None if repeated else trace,
    )  # fmt: skip
    if not repeated and step.step != "wait":
        _note_route(phone_call, row, flow, trace, key)
    return document


def _note_route(phone_call: PhoneCall, row: CallFlow, flow: flows.Flow, trace: list[Passed], key: str) -> None:
    """Append the passed blocks to the route, set who is ringing, advance round-robin pointers (once)."""
    now = timezone.now().isoformat()
    rotating = _round_robin_ids(flow)
    with transaction.atomic():
        pc = PhoneCall.objects.select_for_update().get(pk=phone_call.pk)
        route = list(pc.route or [])
        if route and route[-1].get("key") == key:
            return  # a concurrent delivery of the same step got here first
        taken = {e["block"] for e in route if "turn" in e}
        ringing: list[str] = []
        for passed in trace:
            entry = {"block": passed.block, "at": now, "what": passed.what, "key": key}
            if passed.block in rotating and passed.rang and passed.block not in taken:
                entry["turn"] = _advance(row, passed.block)
                taken.add(passed.block)
            route.append(entry)
            ringing = _user_ids(pc.tenant, passed.rang) if passed.rang else []
        ringing_changed = ringing != (pc.ringing_users or [])
        pc.route, pc.ringing_users = route, ringing
        pc.save(update_fields=["route", "ringing_users", "updated_at"])
        phone_call.route, phone_call.ringing_users = route, ringing
        if ringing_changed:
            transaction.on_commit(lambda: live.call_changed(pc))


def _advance(row: CallFlow, block_id: str) -> int:
    """Take the group's current turn for this call and move its pointer on by one."""
    locked = CallFlow.objects.select_for_update().get(pk=row.pk)
    rotation = dict(locked.rotation or {})
    turn = int(rotation.get(block_id, 0))
    rotation[block_id] = turn + 1
    CallFlow.objects.filter(pk=row.pk).update(rotation=rotation)
    row.rotation = rotation
    audit.record(row.tenant, Actor.system("telephony"), "call_flow.rotated", obj=row,
                 changes={f"rotation.{block_id}": [turn, turn + 1]})  # fmt: skip
    return turn


def _user_ids(tenant, emails) -> list[str]:
    wanted = [e.lower() for e in emails]
    found = {
        m.user.email.lower(): str(m.user_id)
        for m in Membership.objects.filter(tenant=tenant, user__email__in=wanted).select_related("user")
    }
    return [found[e] for e in wanted if e in found]


# --- steps ----------------------------------------------------------------------------------------

ANSWERED_DIALS = {"completed", "answered"}


def step(tenant, phone_call: PhoneCall, row: CallFlow, block_id: str, data: Step):
    """The answer to a step URL of ``block_id`` (None: nothing to say, the provider carries on)."""
    flow = flows.parse(row.definition)
    block = flow.block(block_id)
    provider = phone_call.provider
    if data.step == "choice" and isinstance(block, flows.MenuBlock):
        return _menu_choice(tenant, phone_call, row, flow, block, data)
    if data.step == "after" and isinstance(block, (flows.RingGroupBlock, flows.ForwardBlock)):
        if data.dial_status in ANSWERED_DIALS:
            _answered(tenant, phone_call, block, data)
            return hang_up(provider) if provider == "twilio" else None
        if provider == "vonage" and data.dial_status in ("started", "ringing"):
            return None
        attempt = data.attempt if isinstance(block, flows.RingGroupBlock) else 0
        note = Passed(block.id, f"{data.dial_status or 'not answered'}")
        return answer(tenant, phone_call, row, flow, block_id, data, compile_step="after", attempt=attempt,
                      notes=[note])  # fmt: skip
    if data.step == "left" and isinstance(block, flows.QueueBlock):
        if data.dial_status in ("bridged", "hangup"):
            return hang_up(provider)
        return answer(tenant, phone_call, row, flow, block_id, data, compile_step="left")
    if data.step in ("wait", "recorded"):
        return answer(tenant, phone_call, row, flow, block_id, data, compile_step=data.step)
    if data.step == "ring" and isinstance(block, flows.RingGroupBlock):
        # Vonage notify: the caller waits in the conversation; a job rings the members (route already noted).
        vonage_legs.on_ring(tenant, phone_call, block)
        return None
    if data.step == "queued" and isinstance(block, flows.QueueBlock):
        vonage_legs.on_queued(tenant, phone_call, block)  # the maximum-wait clock
        return None
    if data.step in ("ring", "queued"):
        return None
    if data.step == "timeout" and isinstance(block, flows.RingGroupBlock):
        # The ring-timeout job transferred the Vonage caller here: nobody answered, on to ``next``.
        note = Passed(block.id, f"nobody answered in {block.timeout_s} s → {block.next}")
        return answer(tenant, phone_call, row, flow, block.next, data, notes=[note])
    return answer(tenant, phone_call, row, flow, block_id, data)


def _menu_choice(tenant, phone_call, row, flow, block: flows.MenuBlock, data: Step):
    choice = flows.menu_choice(block, data.digits, data.attempt)
    if choice.outcome == "repeat":
        what = f"pressed {data.digits}, not an option" if choice.invalid else "no key"
        return answer(tenant, phone_call, row, flow, block.id, data, attempt=data.attempt + 1, invalid=choice.invalid,
                      notes=[Passed(block.id, f"{what}: menu again")])  # fmt: skip
    if choice.outcome == "option":
        what = f"pressed {data.digits} → {choice.target}"
    else:
        what = (
            f"pressed {data.digits}, not an option → {choice.target}" if choice.invalid else f"no key → {choice.target}"
        )
    return answer(tenant, phone_call, row, flow, choice.target, data, notes=[Passed(block.id, what)])


def _answered(tenant, phone_call: PhoneCall, block, data: Step) -> None:
    """An agent's leg answered: who (the leg's address, else the one member rung), stored as an event."""
    agent_id = callbacks.member_by_line(tenant, data.leg_to)
    if agent_id is None:
        ringing = list(phone_call.ringing_users or [])
        leg = None
        if data.leg_id:
            leg = phone_call.events.filter(provider_call_id=data.leg_id, payload__agent_id__isnull=False).first()
        if leg is not None:
            agent_id = leg.payload.get("agent_id")
        elif len(ringing) == 1:
            agent_id = ringing[0]
    moment = timezone.now() - timezone.timedelta(seconds=max(0, data.leg_duration))
    route_entry = Passed(block.id, "answered")
    with transaction.atomic():
        callbacks.record_answer(tenant, phone_call, leg_id=data.leg_id or f"{block.id}:{data.attempt}",
                                occurred_at=moment, agent_id=agent_id,
                                payload={"block": block.id, "to": data.leg_to})  # fmt: skip
        pc = PhoneCall.objects.get(pk=phone_call.pk)
        route = list(pc.route or [])
        key = data.key(block.id)
        if not route or route[-1].get("key") != key:
            route.append({"block": route_entry.block, "at": timezone.now().isoformat(), "what": "answered", "key": key})
            PhoneCall.objects.filter(pk=pc.pk).update(route=route, ringing_users=[])
            transaction.on_commit(lambda: live.call_changed(pc))
