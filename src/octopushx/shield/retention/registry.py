"""The registry of data classes the retention purge knows (no model imports here)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


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


def data_classes() -> dict[str, DataClass]:
    from octopushx.shield.retention import builtin  # noqa: F401 (registers the built-in classes)

    return dict(_REGISTRY)
