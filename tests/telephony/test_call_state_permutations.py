"""Callbacks arrive late, twice and out of order: every order converges on one call record."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction

from octopushx.core.models import AuditEntry
from octopushx.telephony import callbacks, callstate, routing
from octopushx.telephony.models import CallEvent, PhoneCall, Presence
from tests.telephony.providers import CALLER, LINE, SID, connect, twilio_post, twilio_time

pytestmark = pytest.mark.django_db
T0 = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)  # callbacks arrive after the fact
ANN_LINE = "+447700900002"
PERMUTATIONS = 1000


def _at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


# One answered inbound call as Twilio reports it: the call itself, and the agent's leg (ParentCallSid).
CALLBACKS = [
    {"provider_call_id": "CA1", "raw_status": "ringing", "occurred_at": _at(0), "sequence": 0},
    {"provider_call_id": "CA1", "raw_status": "in-progress", "occurred_at": _at(1), "sequence": 1},
    {"provider_call_id": "CA2", "raw_status": "ringing", "occurred_at": _at(12), "sequence": 0,
     "parent_call_id": "CA1", "leg_to": ANN_LINE},
    {"provider_call_id": "CA2", "raw_status": "in-progress", "occurred_at": _at(15), "sequence": 1,
     "parent_call_id": "CA1", "leg_to": ANN_LINE},
    {"provider_call_id": "CA2", "raw_status": "completed", "occurred_at": _at(65), "sequence": 2,
     "parent_call_id": "CA1", "leg_to": ANN_LINE, "duration": 50},
    {"provider_call_id": "CA1", "raw_status": "completed", "occurred_at": _at(70), "sequence": 2, "duration": 70},
    # a late second end (the provider's own retry logic reporting a cancel after the completion)
    {"provider_call_id": "CA1", "raw_status": "canceled", "occurred_at": _at(75), "sequence": 3},
]  # fmt: skip


class _Rollback(Exception):
    pass


@pytest.fixture
def opened(line_org):
    line = connect(line_org)
    phone_call, _ = routing.open_call(line["numbers"]["twilio"], call_id="CA1", from_number=CALLER, to_number=LINE)
    PhoneCall.objects.filter(pk=phone_call.pk).update(started_at=T0)
    phone_call.refresh_from_db()
    return line, phone_call


def _final(phone_call: PhoneCall) -> tuple:
    pc = PhoneCall.objects.select_related("call").get(pk=phone_call.pk)
    ann = Presence.objects.get(phone_number=ANN_LINE)
    return (
        pc.state, pc.state_at, pc.answered_at, pc.ended_at, pc.duration, str(pc.agent_id), tuple(pc.ringing_users),
        pc.call.outcome, pc.call.status, str(pc.call.agent_id),
        ann.status, ann.set_by, ann.call_ref, ann.last_call_ended_at,
        CallEvent.objects.filter(phone_call=pc).count(),
    )  # fmt: skip


def _deliver(tenant, callback: dict) -> None:
    callbacks.record_status(tenant, provider="twilio", payload={"seq": callback.get("sequence")}, **callback)


def test_a_thousand_orders_with_duplicates_converge_on_one_record(opened):
    line, phone_call = opened
    tenant = phone_call.tenant
    rng = random.Random(17)
    finals = set()
    for _ in range(PERMUTATIONS):
        deliveries = CALLBACKS + [rng.choice(CALLBACKS) for _ in range(rng.randint(1, 3))]
        rng.shuffle(deliveries)
        try:
            with transaction.atomic():
                for callback in deliveries:
                    _deliver(tenant, callback)
                finals.add(_final(phone_call))
                raise _Rollback
        except _Rollback:
            pass
    assert len(finals) == 1, [
        (i, set(column)) for i, column in enumerate(zip(*finals, strict=True)) if len(set(column)) > 1
    ]
    (state, state_at, answered, ended, duration, agent, ringing, outcome, status, call_agent, presence, set_by,
     call_ref, idle_since, stored) = finals.pop()  # fmt: skip
    ann = Presence.objects.get(phone_number=ANN_LINE)
    assert (state, state_at, answered, ended, duration) == ("completed", _at(70), _at(15), _at(70), 70)
    assert agent == call_agent == str(ann.user_id) and ringing == ()
    assert (outcome, status) == ("answered", "live")  # answered: the call record waits for its recording
    assert (presence, set_by, call_ref, idle_since) == ("available", "manual", "", _at(70))
    assert stored == len(CALLBACKS)


def test_orders_through_the_signed_status_webhook_converge_too(client, opened):
    line, phone_call = opened
    path = f"/hooks/telephony/twilio/status/{line['twilio'].pk}"
    rng = random.Random(5)
    finals = set()
    for _ in range(4):
        deliveries = CALLBACKS + [rng.choice(CALLBACKS)]
        rng.shuffle(deliveries)
        try:
            with transaction.atomic():
                for callback in deliveries:
                    params = {"AccountSid": SID, "CallSid": callback["provider_call_id"],
                              "CallStatus": callback["raw_status"], "Timestamp": twilio_time(callback["occurred_at"]),
                              "SequenceNumber": str(callback["sequence"]), "To": callback.get("leg_to", LINE),
                              "From": CALLER}  # fmt: skip
                    if "parent_call_id" in callback:
                        params["ParentCallSid"] = callback["parent_call_id"]
                    if "duration" in callback:
                        params["CallDuration"] = str(callback["duration"])
                    assert twilio_post(client, path, params).status_code == 200
                finals.add(_final(phone_call))
                raise _Rollback
        except _Rollback:
            pass
    assert len(finals) == 1, [set(column) for column in zip(*finals, strict=True) if len(set(column)) > 1]
    assert finals.pop()[:5] == ("completed", _at(70), _at(15), _at(70), 70)


# --- the derivation on its own --------------------------------------------------------------------


def _event(status, seconds, **extra) -> callstate.Event:
    return callstate.Event(status=status, occurred_at=_at(seconds), **extra)


def test_a_terminal_state_wins_over_a_later_live_one():
    derived = callstate.derive([_event("completed", 30, duration=30), _event("in-progress", 40)],
                               direction="inbound", started_at=T0)  # fmt: skip
    assert (derived.state, derived.ended_at, derived.outcome) == ("completed", _at(30), "missed")


def test_between_two_ends_the_earliest_wins():
    derived = callstate.derive([_event("no-answer", 50), _event("busy", 20)], direction="outbound", started_at=T0)
    assert (derived.state, derived.outcome, derived.duration) == ("busy", "failed", 20)


def test_a_short_unanswered_call_is_abandoned_and_a_voicemail_wins_over_missed():
    short = callstate.derive([_event("completed", 9, duration=9)], direction="inbound", started_at=T0)
    voicemail = callstate.derive([_event("completed", 60, duration=60), _event(callstate.VOICEMAIL, 55)],
                                 direction="inbound", started_at=T0)  # fmt: skip
    assert (short.outcome, voicemail.outcome) == ("abandoned", "voicemail")


def test_the_flow_picking_up_an_inbound_call_is_not_an_answer_by_a_person():
    derived = callstate.derive([_event("in-progress", 1)], direction="inbound", started_at=T0)
    assert derived.state == "in-progress" and derived.answered_at is None and derived.outcome == ""


def test_the_agent_stays_busy_through_the_events_of_their_own_call(opened):
    """A status event after the agent's answer does not take the agent off the call for a moment."""
    _line, phone_call = opened
    for callback in CALLBACKS[:4]:  # ringing, the flow's pick-up, the agent's leg ringing and answering
        _deliver(phone_call.tenant, callback)
    ann = Presence.objects.get(phone_number=ANN_LINE)
    changes = AuditEntry.objects.filter(action="presence.changed", object_id=str(ann.pk))
    assert (ann.status, ann.set_by, changes.count()) == ("busy", "call", 1)
    _deliver(phone_call.tenant, {**CALLBACKS[3], "occurred_at": _at(16), "sequence": 5})  # a repeat, a moment later
    ann.refresh_from_db()
    assert (ann.status, ann.set_by, ann.last_call_ended_at, changes.count()) == ("busy", "call", None, 1)
