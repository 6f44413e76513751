"""The internal event bus: services emit, subscribers (Studio, webhooks, reports) react.

Delivery is at least once: each (event, subscriber) pair becomes a ``Job`` row written in
the emitter's transaction, so an event is never lost when the queue is down and never
delivered for a change that rolled back. Subscribers must be idempotent (use ``event_id``).
"""

from __future__ import annotations

import contextlib
import contextvars
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
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
    # The record the event is about as the emitter holds it, for listeners in the emitter's
    # transaction (Studio's trigger conditions read it without a query). Never delivered or stored.
    subject: Any = field(default=None, compare=False, repr=False)

    def data(self) -> dict[str, Any]:
        """The event as delivered to subscribers and stored in their jobs."""
        return {"id": self.id, "name": self.name, "tenant_id": self.tenant_id, "payload": self.payload, "at": self.at}


Subscriber = Callable[[Event], None]
SUBSCRIBERS: dict[str, tuple[str, Subscriber]] = {}  # subscriber name -> (pattern, fn)

# Listeners see every event as it is emitted, inside the emitter's transaction (Studio's trigger
# index writes its queued runs there: an event is never lost and never acted on for a change that
# rolled back). A listener must be cheap; the work goes to rows that workers pick up.
Listener = Callable[[object, list[Event]], None]
LISTENERS: list[Listener] = []

# What caused the events emitted now: a workflow run's id and depth, so a workflow whose step
# triggers workflows again (update a contact -> contact.updated) can be stopped at a depth.
_cause: contextvars.ContextVar[dict | None] = contextvars.ContextVar("event_cause", default=None)


def listen(fn: Listener) -> Listener:
    """Register ``fn(tenant, events)``, called in the emitter's transaction for every event."""
    if fn not in LISTENERS:
        LISTENERS.append(fn)
    return fn


@contextlib.contextmanager
def caused_by(run_id: str, depth: int) -> Iterator[None]:
    """Events emitted inside carry ``{"cause": {"run_id", "depth"}}`` in their payload."""
    token = _cause.set({"run_id": run_id, "depth": depth})
    try:
        yield
    finally:
        _cause.reset(token)


def _with_cause(payload: dict[str, Any] | None) -> dict[str, Any]:
    cause = _cause.get()
    payload = dict(payload or {})
    if cause is not None:
        payload["cause"] = cause
    return payload


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


def emit(tenant, name: str, payload: dict[str, Any] | None = None, subject: Any = None) -> Event:
    """Publish an event; one delivery job per matching subscriber, committed with the caller.
    ``subject``: the record the event is about, as just written (see ``Event.subject``)."""
    event = Event(
        id=uuid.uuid4().hex,
        name=name,
        tenant_id=str(tenant.pk),
        payload=_with_cause(payload),
        at=timezone.now().isoformat(),
        subject=subject,
    )
    for listener in LISTENERS:
        listener(tenant, [event])
    for subscriber, (pattern, _fn) in SUBSCRIBERS.items():
        if matches(pattern, name):
            jobs.submit(
                "event.deliver",
                tenant=tenant,
                payload={"subscriber": subscriber, "event": event.data()},
                dedupe_key=_dedupe_key(event.id, subscriber),
            )
    return event


def emit_many(tenant, events: Iterable[tuple[str, dict[str, Any]]]) -> int:
    """Publish many events at once (bulk writes such as imports); returns the delivery jobs written.

    The same deliveries as ``emit``, one job per (event, subscriber), but every job row is written
    by one bulk insert in the caller's transaction and the ids are enqueued in batches once it
    commits. Without a matching subscriber nothing is built or written.
    """
    if not SUBSCRIBERS and not LISTENERS:
        return 0
    at = timezone.now().isoformat()
    built = [Event(uuid.uuid4().hex, name, str(tenant.pk), _with_cause(payload), at) for name, payload in events]
    for listener in LISTENERS:
        listener(tenant, built)
    if not SUBSCRIBERS:
        return 0
    listeners: dict[str, list[str]] = {}  # event name -> matching subscriber names
    base = {field.attname: field.get_default() for field in Job._meta.concrete_fields}
    base.update(
        tenant_id=tenant.pk, kind="event.deliver", state=JobState.QUEUED.value, max_attempts=settings.JOB_MAX_ATTEMPTS
    )
    rows: list[dict[str, Any]] = []
    for built_event in built:
        name = built_event.name
        subscribers = listeners.get(name)
        if subscribers is None:
            subscribers = listeners[name] = [s for s, (pattern, _fn) in SUBSCRIBERS.items() if matches(pattern, name)]
        if not subscribers:
            continue
        event = built_event.data()
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
