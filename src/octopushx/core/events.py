"""The internal event bus: services emit, subscribers (Studio, webhooks, reports) react.

Delivery is at least once: each (event, subscriber) pair becomes a ``Job`` row written in
the emitter's transaction, so an event is never lost when the queue is down and never
delivered for a change that rolled back. Subscribers must be idempotent (use ``event_id``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from octopushx.core import jobs


@dataclass(frozen=True)
class Event:
    id: str
    name: str
    tenant_id: str
    payload: dict[str, Any]
    at: str


Subscriber = Callable[[Event], None]
SUBSCRIBERS: dict[str, tuple[str, Subscriber]] = {}  # subscriber name -> (pattern, fn)


def subscribe(pattern: str, name: str | None = None) -> Callable[[Subscriber], Subscriber]:
    """Register ``fn`` for events named ``pattern`` (``contact.*`` and ``*`` match prefixes)."""

    def register(fn: Subscriber) -> Subscriber:
        SUBSCRIBERS[name or f"{fn.__module__}.{fn.__qualname__}"] = (pattern, fn)
        return fn

    return register


def matches(pattern: str, name: str) -> bool:
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return name.startswith(pattern[:-1])
    return pattern == name


def emit(tenant, name: str, payload: dict[str, Any] | None = None) -> Event:
    """Publish an event; one delivery job per matching subscriber, committed with the caller."""
    event = Event(
        id=uuid.uuid4().hex,
        name=name,
        tenant_id=str(tenant.pk),
        payload=payload or {},
        at=timezone.now().isoformat(),
    )
    for subscriber, (pattern, _fn) in SUBSCRIBERS.items():
        if matches(pattern, name):
            jobs.submit(
                "event.deliver",
                tenant=tenant,
                payload={"subscriber": subscriber, "event": event.__dict__},
                dedupe_key=f"event:{event.id}:{subscriber}"[:200],
            )
    return event


@jobs.handler("event.deliver")
def deliver(job) -> dict[str, Any]:
    subscriber = job.payload["subscriber"]
    entry = SUBSCRIBERS.get(subscriber)
    if entry is None:
        raise jobs.PermanentError(f"subscriber {subscriber!r} is not registered")
    entry[1](Event(**job.payload["event"]))
    return {"delivered_to": subscriber}
