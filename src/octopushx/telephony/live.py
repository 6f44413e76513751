"""Live call events for the members' open pages (the caller card).

``call_changed`` is called after the transaction that changed a ``PhoneCall`` commits: whoever is in
``phone_call.ringing_users`` sees the caller card, the agent who answered keeps it, and it closes at the
end. Each concerned member gets one small event on their own channel (tenant and user in its name):
``{"type": "call.ringing" | "call.answered" | "call.ended", "phone_call_id": ...}``; the browser then
fetches the card itself, so an event carries no personal data.

Two brokers, chosen by ``REDIS_URL``: in one process (``octopushx serve`` is waitress with threads) a
queue per subscriber; across processes (gunicorn web processes behind a proxy) Redis pub/sub, read by one
listener thread per process that hands each message to that process's local subscribers.

Members who were rung earlier but are no longer (a colleague answered, the call moved on) are remembered
per call in the cache (shared through Redis when it is set, per process otherwise, as the broker is), so
their card is told to close too.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)

RINGING, ANSWERED, ENDED = "call.ringing", "call.answered", "call.ended"
RECIPIENTS_TTL = 3 * 3600  # seconds a call's notified members are remembered (longer than any call)


def channel(tenant_id, user_id) -> str:
    """One member's channel in one organisation: events never cross tenants or members."""
    return f"{tenant_id}:{user_id}"


class Subscription:
    """One open stream's inbox. ``get`` waits up to ``timeout`` seconds; ``None`` when nothing came."""

    def __init__(self, broker: LocalBroker, key: str):
        self.broker, self.key = broker, key
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()

    def deliver(self, message: dict) -> None:
        self._inbox.put(message)

    def get(self, timeout: float) -> dict | None:
        try:
            return self._inbox.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        self.broker.unsubscribe(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class LocalBroker:
    """Publish/subscribe between the threads of one process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[str, set[Subscription]] = {}

    def subscribe(self, key: str) -> Subscription:
        subscription = Subscription(self, key)
        with self._lock:
            self._subscribers.setdefault(key, set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            inboxes = self._subscribers.get(subscription.key)
            if inboxes is not None:
                inboxes.discard(subscription)
                if not inboxes:
                    del self._subscribers[subscription.key]

    def subscriber_count(self, key: str | None = None) -> int:
        with self._lock:
            if key is not None:
                return len(self._subscribers.get(key, ()))
            return sum(len(s) for s in self._subscribers.values())

    def publish(self, key: str, message: dict) -> None:
        self.deliver(key, message)

    def deliver(self, key: str, message: dict) -> None:
        with self._lock:
            inboxes = list(self._subscribers.get(key, ()))
        for subscription in inboxes:
            subscription.deliver(message)


class RedisBroker(LocalBroker):
    """Publish through Redis; one listener thread per process delivers to this process's subscribers."""

    def __init__(self, url: str, prefix: str = "octopushx:live:") -> None:
        super().__init__()
        import redis

        self.prefix = prefix
        self._redis = redis.Redis.from_url(url)
        self._listener: threading.Thread | None = None
        self._ready = threading.Event()
        self._stopped = threading.Event()

    def subscribe(self, key: str) -> Subscription:
        self._start_listener()
        return super().subscribe(key)

    def publish(self, key: str, message: dict) -> None:
        self._redis.publish(self.prefix + key, json.dumps(message))

    def _start_listener(self) -> None:
        with self._lock:
            if self._listener is not None and self._listener.is_alive():
                return
            self._ready.clear()
            self._listener = threading.Thread(target=self._listen, name="live-events", daemon=True)
            self._listener.start()
        self._ready.wait(timeout=5)

    def _listen(self) -> None:
        """Read every member's channel of this installation; reconnect after a Redis outage."""
        while not self._stopped.is_set():
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.psubscribe(self.prefix + "*")
                self._ready.set()
                while not self._stopped.is_set():
                    item = pubsub.get_message(timeout=1.0)
                    if item and item.get("type") == "pmessage":
                        key = item["channel"].decode()[len(self.prefix) :]
                        self.deliver(key, json.loads(item["data"]))
            except Exception:  # noqa: BLE001 (a dropped connection must not end the listener)
                log.warning("live events: Redis listener lost its connection; reconnecting", exc_info=True)
                self._stopped.wait(1.0)
            finally:
                pubsub.close()

    def stop(self) -> None:
        self._stopped.set()


_broker: LocalBroker | None = None
_broker_lock = threading.Lock()


def broker() -> LocalBroker:
    """This process's broker: Redis pub/sub when ``REDIS_URL`` is set, else in-process."""
    global _broker
    with _broker_lock:
        if _broker is None:
            _broker = RedisBroker(settings.REDIS_URL) if settings.REDIS_URL else LocalBroker()
        return _broker


def reset_broker() -> None:
    """Forget the broker (tests switch ``REDIS_URL``)."""
    global _broker
    with _broker_lock:
        if isinstance(_broker, RedisBroker):
            _broker.stop()
        _broker = None


# --- which member hears what -------------------------------------------------------------------


def _ids(values) -> set[str]:
    return {str(v) for v in values or () if v}


def events_for(phone_call, earlier: set[str]) -> dict[str, str]:
    """The event each concerned member gets for the call as it is now (user id → event type).

    Ringing members hear "ringing", the agent who answered "answered", everyone at the end "ended";
    a member rung before but no longer (a colleague answered, the ring group moved on) hears "ended"
    for their card.
    """
    ringing = _ids(phone_call.ringing_users)
    agent = str(phone_call.agent_id) if phone_call.agent_id else None
    everyone = earlier | ringing | ({agent} if agent else set())
    if not phone_call.is_live:
        return dict.fromkeys(everyone, ENDED)
    result = {}
    for user_id in everyone:
        if user_id == agent:
            result[user_id] = ANSWERED
        elif user_id in ringing and agent is None:
            result[user_id] = RINGING
        else:
            result[user_id] = ENDED
    return result


def _recipients_key(phone_call) -> str:
    return f"telephony:live:recipients:{phone_call.pk}"


def call_changed(phone_call) -> None:
    """Tell the browsers of the members concerned that ``phone_call`` changed."""
    key = _recipients_key(phone_call)
    earlier = set(cache.get(key) or ())
    events = events_for(phone_call, earlier)
    if not events:
        return
    cache.set(key, sorted(earlier | set(events)), RECIPIENTS_TTL)
    hub = broker()
    for user_id, kind in events.items():
        message = {"type": kind, "phone_call_id": str(phone_call.pk)}
        try:
            hub.publish(channel(phone_call.tenant_id, user_id), message)
        except Exception:  # noqa: BLE001 (the card is a convenience: a broker outage must not fail the webhook)
            log.warning("live events: could not publish %s for call %s", kind, phone_call.pk, exc_info=True)


# --- the open streams of this process ------------------------------------------------------------


@dataclass
class StreamSlots:
    """A per-process cap on open event streams: each holds a server thread while it is open."""

    limit: int
    open: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self.open >= self.limit:
                return False
            self.open += 1
            return True

    def give_back(self) -> None:
        with self._lock:
            self.open = max(0, self.open - 1)


_slots: StreamSlots | None = None


def slots() -> StreamSlots:
    global _slots
    if _slots is None:
        _slots = StreamSlots(settings.LIVE_MAX_STREAMS)
    return _slots


def fit_to_threads(threads: int) -> int:
    """Cap this process's streams so a quarter of its threads (at least 4) stay for ordinary requests."""
    global _slots
    reserve = max(4, threads // 4)
    limit = max(0, min(settings.LIVE_MAX_STREAMS, threads - reserve))
    _slots = StreamSlots(limit)
    return limit
