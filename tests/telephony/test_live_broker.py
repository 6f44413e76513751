"""The live-event brokers: in one process (queues per subscriber) and across processes (Redis pub/sub)."""

from __future__ import annotations

import threading
import time

import pytest
from django.conf import settings

from octopushx.telephony import live
from octopushx.telephony.models import CallState, PhoneCall


def test_two_subscribers_of_a_channel_both_get_one_publish():
    broker = live.LocalBroker()
    first, second = broker.subscribe("t:u"), broker.subscribe("t:u")
    broker.publish("t:u", {"type": "call.ringing", "phone_call_id": "1"})
    assert first.get(timeout=1) == {"type": "call.ringing", "phone_call_id": "1"}
    assert second.get(timeout=1) == {"type": "call.ringing", "phone_call_id": "1"}


def test_a_subscriber_hears_only_its_own_channel():
    broker = live.LocalBroker()
    mine, other = broker.subscribe("t:me"), broker.subscribe("t:you")
    broker.publish("t:me", {"type": "call.ended", "phone_call_id": "1"})
    assert mine.get(timeout=1) is not None
    assert other.get(timeout=0.05) is None


def test_closing_a_subscription_unsubscribes_it():
    broker = live.LocalBroker()
    with broker.subscribe("t:u"):
        assert broker.subscriber_count("t:u") == 1
    assert broker.subscriber_count() == 0
    broker.publish("t:u", {"type": "call.ended", "phone_call_id": "1"})  # nobody listening: no error


def test_a_waiting_subscriber_wakes_as_soon_as_another_thread_publishes():
    broker = live.LocalBroker()
    subscription = broker.subscribe("t:u")
    threading.Timer(0.05, broker.publish, args=("t:u", {"type": "call.ringing", "phone_call_id": "9"})).start()
    started = time.monotonic()
    assert subscription.get(timeout=5)["phone_call_id"] == "9"
    assert time.monotonic() - started < 1


def test_stream_slots_refuse_past_the_limit_and_come_back():
    slots = live.StreamSlots(2)
    assert slots.take() and slots.take()
    assert not slots.take()
    slots.give_back()
    assert slots.take()


def test_serve_keeps_a_quarter_of_its_threads_for_ordinary_requests(settings):
    settings.LIVE_MAX_STREAMS = 48
    assert live.fit_to_threads(64) == 48
    assert live.fit_to_threads(16) == 12
    assert live.fit_to_threads(8) == 4
    assert live.fit_to_threads(4) == 0
    live._slots = None


def _call(state=CallState.RINGING, **kwargs) -> PhoneCall:
    return PhoneCall(tenant_id="00000000-0000-0000-0000-000000000001", state=state, **kwargs)


def test_ringing_members_hear_ringing():
    assert live.events_for(_call(ringing_users=["a", "b"]), set()) == {"a": live.RINGING, "b": live.RINGING}


def test_the_agent_hears_answered_and_the_others_rung_before_hear_ended():
    call = _call(ringing_users=[], agent_id="a", state=CallState.IN_PROGRESS)
    assert live.events_for(call, {"a", "b"}) == {"a": live.ANSWERED, "b": live.ENDED}


def test_everyone_concerned_hears_the_end():
    call = _call(ringing_users=["b"], agent_id="a", state=CallState.COMPLETED)
    assert live.events_for(call, {"c"}) == {"a": live.ENDED, "b": live.ENDED, "c": live.ENDED}


@pytest.mark.skipif(not settings.REDIS_URL, reason="REDIS_URL is not set")
def test_redis_broker_delivers_across_brokers_as_across_processes():
    sender, receiver = live.RedisBroker(settings.REDIS_URL), live.RedisBroker(settings.REDIS_URL)
    try:
        first, second = receiver.subscribe("t:u"), receiver.subscribe("t:u")
        other = receiver.subscribe("t:someone-else")
        sender.publish("t:u", {"type": "call.ringing", "phone_call_id": "42"})
        assert first.get(timeout=3) == {"type": "call.ringing", "phone_call_id": "42"}
        assert second.get(timeout=3) == {"type": "call.ringing", "phone_call_id": "42"}
        assert other.get(timeout=0.2) is None
        first.close()
        second.close()
        assert receiver.subscriber_count("t:u") == 0
    finally:
        sender.stop()
        receiver.stop()
