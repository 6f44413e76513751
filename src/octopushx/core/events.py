"""The internal event bus: services emit, subscribers (Studio, webhooks, reports) react.

Delivery is at least once: each (event, subscriber) pair becomes a ``Job`` row written in
the emitter's transaction, so an event is never lost when the queue is down and never
delivered for a change that rolled back. Subscribers must be idempotent (use ``event_id``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from octopushx.core import jobs
from octopushx.core.bulk import fast_insert
from octopushx.core.models import Job, JobState


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


def _dedupe_key(event_id: str, subscriber: str) -> str:
    return f"event:{event_id}:{subscriber}"[:200]


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
                dedupe_key=_dedupe_key(event.id, subscriber),
            )
    return event


def emit_many(tenant, events: Iterable[tuple[str, dict[str, Any]]]) -> int:
    """Publish many events at once (bulk writes such as imports); returns the delivery jobs written.

    The same deliveries as ``emit``, one job per (event, subscriber), but every job row is written
    by one bulk insert in the caller's transaction and the ids are enqueued in batches once it
    commits. Without a matching subscriber nothing is built or written.
    """
    if not SUBSCRIBERS:
        return 0
    listeners: dict[str, list[str]] = {}  # event name -> matching subscriber names
    base = {field.attname: field.get_default() for field in Job._meta.concrete_fields}
    base.update(
        tenant_id=tenant.pk, kind="event.deliver", state=JobState.QUEUED.value, max_attempts=settings.JOB_MAX_ATTEMPTS
    )
    at = base["created_at"].isoformat()
    tenant_id = str(tenant.pk)
    rows: list[dict[str, Any]] = []
    for name, payload in events:
        subscribers = listeners.get(name)
        if subscribers is None:
            subscribers = listeners[name] = [s for s, (pattern, _fn) in SUBSCRIBERS.items() if matches(pattern, name)]
        if not subscribers:
            continue
        event = {"id": uuid.uuid4().hex, "name": name, "tenant_id": tenant_id, "payload": payload or {}, "at": at}
        rows.extend(
            {
                **base,
                "id": uuid.uuid4(),
                "payload": {"subscriber": subscriber, "event": event},
                "dedupe_key": _dedupe_key(event["id"], subscriber),
            }
            for subscriber in subscribers
        )
    if not rows:
        return 0
    fast_insert(Job, rows)
    ids = [row["id"] for row in rows]
    transaction.on_commit(lambda: jobs.enqueue_many(ids))
    return len(rows)


@jobs.handler("event.deliver")
def deliver(job) -> dict[str, Any]:
    subscriber = job.payload["subscriber"]
    entry = SUBSCRIBERS.get(subscriber)
    if entry is None:
        raise jobs.PermanentError(f"subscriber {subscriber!r} is not registered")
    entry[1](Event(**job.payload["event"]))
    return {"delivered_to": subscriber}
