"""The registry of data classes the retention purge knows, and of what a legal hold can name.

Products register both from their own ``retention.py``, which Shield autodiscovers; Shield
imports no product (no model imports here).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError


@dataclass(frozen=True)
class Holds:
    """The legal holds in force for one tenant when the purge runs."""

    tenant_wide: bool = False
    contact_ids: frozenset[str] = field(default_factory=frozenset)
    call_ids: frozenset[str] = field(default_factory=frozenset)


Finder = Callable[[Any, datetime, Holds], Iterable[Any]]
Purger = Callable[[Any, Iterable[Any]], int]


@dataclass(frozen=True)
class DataClass:
    key: str
    label: str
    finder: Finder
    purger: Purger
    default_days: int | None  # None: kept until a policy says otherwise
    description: str = ""


_REGISTRY: dict[str, DataClass] = {}


def register(
    key: str,
    finder: Finder,
    purger: Purger,
    *,
    label: str | None = None,
    default_days: int | None = None,
    description: str = "",
) -> DataClass:
    """Add (or replace) a data class; call it when your app's modules load."""
    if default_days is not None and default_days < 1:
        raise ValueError("default_days must be at least 1, or None to keep")
    entry = DataClass(key, label or key.replace("_", " ").capitalize(), finder, purger, default_days, description)
    _REGISTRY[key] = entry
    return entry


_HOLD_TARGETS: dict[str, Callable[[Any, str], bool]] = {}
_discovered = False


def register_hold_target(scope: str, exists: Callable[[Any, str], bool]) -> None:
    """Let a legal hold name one record of ``scope`` ("contact", "call"): ``exists(tenant, id)``."""
    _HOLD_TARGETS[scope] = exists


def discover() -> None:
    """Import the built-in classes and every installed app's ``retention`` module (once)."""
    global _discovered
    if not _discovered:
        from django.utils.module_loading import autodiscover_modules

        from octopushx.shield.retention import builtin  # noqa: F401 (registers the built-in classes)

        autodiscover_modules("retention")
        _discovered = True


def data_classes() -> dict[str, DataClass]:
    discover()
    return dict(_REGISTRY)


def hold_target_exists(tenant, scope: str, object_id: str) -> bool | None:
    """Whether the record exists in ``tenant``; None when no installed product holds that scope."""
    discover()
    exists = _HOLD_TARGETS.get(scope)
    if exists is None:
        return None
    try:
        return bool(exists(tenant, object_id))
    except (ValueError, TypeError, ValidationError):  # a malformed id names nothing
        return False
