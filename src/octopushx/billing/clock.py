"""The one clock billing code reads: ``now()`` and ``today()`` (UTC), overridable in tests.

Invoices must be reproducible, so no billing code calls ``timezone.now()`` or ``date.today()``
itself: a test (or ``billing run --at``) sets the time here and every figure follows it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time

from django.utils import timezone

_source: Callable[[], datetime] | None = None


def now() -> datetime:
    """The current moment (aware, UTC) as billing sees it."""
    return _source() if _source is not None else timezone.now()


def today() -> date:
    """The current UTC date as billing sees it."""
    return now().astimezone(UTC).date()


def set_source(source: Callable[[], datetime] | None) -> None:
    """Replace the clock (``None``: the real one again)."""
    global _source
    _source = source


@contextmanager
def frozen(at: datetime | date) -> Iterator[None]:
    """Billing time stands still at ``at`` (a date means its midnight UTC) inside the block."""
    moment = at if isinstance(at, datetime) else datetime.combine(at, time.min, tzinfo=UTC)
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)
    previous = _source
    set_source(lambda: moment)
    try:
        yield
    finally:
        set_source(previous)
