"""Metered quantities: each product's ``usage.py`` (autodiscovered) says which bus event measures what.

A meter is ``(metric, event, measure)``: when ``event`` is emitted, ``measure(tenant, payload)``
answers a ``Reading`` (an idempotency key, a quantity, when it happened) or ``None`` (nothing
to count). Billing reads the registry and keeps the ledger; products never import billing, and
core knows no product by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
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


def meters() -> list[Meter]:
    """Every registered meter (discovering the products' ``usage.py`` on first use)."""
    global _discovered
    if not _discovered:
        autodiscover_modules("usage")
        _discovered = True
    return list(_METERS.values())
