"""Metered quantities: each product's ``usage.py`` (autodiscovered) says which bus event measures what.

A meter is ``(metric, event, measure)``: when ``event`` is emitted, ``measure(tenant, payload)``
answers a ``Reading`` (an idempotency key, a quantity, when it happened) or ``None`` (nothing
to count). What no single event measures (stored gigabytes, runs of a day) is a *daily* meter:
``fn(day)`` answers ``(tenant_id, quantity)`` pairs for one UTC day, recorded once per day and
tenant. Billing reads the registries and keeps the ledger; products never import billing, and
core knows no product by name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.utils.module_loading import autodiscover_modules

METRICS: dict[str, str] = {
    "transcription_minutes": "Transcription minutes",
    "storage_gb_days": "Storage (GB-days)",
    "workflow_runs": "Workflow runs",
}


@dataclass(frozen=True)
class Reading:
    key: str  # unique per tenant and metric: the same key counts once however often it is measured
    quantity: Decimal
    occurred_at: datetime | None = None  # None: now, as the recorder's clock reads it


@dataclass(frozen=True)
class Meter:
    metric: str
    event: str
    measure: Callable[[Any, dict[str, Any]], Reading | None]


_METERS: dict[tuple[str, str], Meter] = {}
_discovered = False


def meter(metric: str, event: str) -> Callable:
    """Register ``fn(tenant, payload) -> Reading | None`` as the measure of ``metric`` on ``event``."""
    if metric not in METRICS:
        raise ValueError(f"Unknown metric {metric!r}; one of {', '.join(METRICS)}")

    def register(fn: Callable) -> Callable:
        _METERS[(metric, event)] = Meter(metric, event, fn)
        return fn

    return register


def _discover() -> None:
    global _discovered
    if not _discovered:
        autodiscover_modules("usage")
        _discovered = True


def meters() -> list[Meter]:
    """Every registered meter (discovering the products' ``usage.py`` on first use)."""
    _discover()
    return list(_METERS.values())


DailyMeasure = Callable[[date], Iterable[tuple[Any, Decimal]]]
_DAILY: dict[str, DailyMeasure] = {}


def daily(metric: str) -> Callable[[DailyMeasure], DailyMeasure]:
    """Register ``fn(day) -> [(tenant_id, quantity), ...]`` as the measure of ``metric`` for one UTC day."""
    if metric not in METRICS:
        raise ValueError(f"Unknown metric {metric!r}; one of {', '.join(METRICS)}")

    def register(fn: DailyMeasure) -> DailyMeasure:
        _DAILY[metric] = fn
        return fn

    return register


def daily_meters() -> dict[str, DailyMeasure]:
    _discover()
    return dict(_DAILY)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


GIGABYTE = Decimal(10**9)


@daily("storage_gb_days")
def stored_gigabytes(day: date) -> list[tuple[Any, Decimal]]:
    """Core's own daily meter: every file a tenant keeps (recordings, exports, images), in GB, for a day."""
    from django.db.models import Sum

    from octopushx.core.models import Blob

    _, end = day_bounds(day)
    rows = Blob.objects.filter(created_at__lt=end).values("tenant_id").annotate(total=Sum("size")).order_by()
    return [
        (row["tenant_id"], (Decimal(row["total"]) / GIGABYTE).quantize(Decimal("0.0001")))
        for row in rows
        if row["total"]
    ]
