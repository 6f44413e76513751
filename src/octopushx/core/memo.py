"""Reads kept for the length of one batch of work (a worker running many workflow runs at once).

Inside ``batch()`` the same lookup (a member, a tag, the workflows listening to an event) is read
once and then answered from memory; outside one, ``remember`` reads every time, so requests and
other callers behave as they always did. A batch lasts a fraction of a second inside one
transaction: keep only rows that a batch's own work does not change.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Hashable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
_memo: contextvars.ContextVar[dict | None] = contextvars.ContextVar("octopushx_memo", default=None)


@contextlib.contextmanager
def batch() -> Iterator[dict]:
    """Open a batch (nested ones share the outer batch's memory)."""
    current = _memo.get()
    if current is not None:
        yield current
        return
    token = _memo.set({})
    try:
        yield _memo.get()
    finally:
        _memo.reset(token)


def current() -> dict | None:
    """The open batch's memory, or None outside a batch."""
    return _memo.get()


def remember(key: Hashable, load: Callable[[], T]) -> T:
    """``load()``, read once per batch under ``key`` (every time outside a batch)."""
    memory = _memo.get()
    if memory is None:
        return load()
    if key in memory:
        return memory[key]
    value = memory[key] = load()
    return value


def keep(key: Hashable, value: Any) -> None:
    """Store a value already read (a row loaded with others) for ``remember`` to answer."""
    memory = _memo.get()
    if memory is not None:
        memory[key] = value


def forget(key: Hashable) -> None:
    """Drop ``key`` (what it held changed): the next ``remember`` reads it again."""
    memory = _memo.get()
    if memory is not None:
        memory.pop(key, None)
