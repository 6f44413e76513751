"""An organisation's configuration reads, kept in each process while the organisation's settings are unchanged.

Every write request used to read the same few rows again: the CRM settings (who sees what), the custom field
definitions and the workflows listening to an event — about a fifth of an API write's time. ``cached`` keeps
such a read per process under the organisation's ``config_version``, which every request loads afresh with its
organisation (the session middleware and token authentication read that row anyway).

A product marks the models whose reads it caches with ``watch(Model)``: any save or delete of one raises the
version in the same transaction (other processes see the new version and the new rows together, at commit)
and drops this process's entries for that organisation at once. While that transaction is open, this thread
reads the organisation's configuration from the database and keeps nothing (a rollback must not leave rows
that never existed in the cache). A queryset ``update()`` sends no signal: call ``changed(tenant_id)`` beside it.

An organisation object held for a long time (a long job) keeps the version it was read with, so other
processes' changes reach that job when it next loads the organisation.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from django.db import connection
from django.db.models import F
from django.db.models.signals import post_delete, post_save

T = TypeVar("T")
MAX_ENTRIES = 4096

_entries: OrderedDict[tuple, object] = OrderedDict()
_lock = threading.Lock()
_local = threading.local()  # .dirty: organisations changed in this thread's open transaction


def _dirty() -> set:
    if not hasattr(_local, "dirty"):
        _local.dirty = set()
    return _local.dirty


def cached(tenant, key: Hashable, load: Callable[[], T]) -> T:
    """``load()`` once per process and configuration version of ``tenant``."""
    version = getattr(tenant, "config_version", None)
    dirty = _dirty()
    if dirty and not connection.in_atomic_block:
        _forget(dirty)  # the transaction that changed them ended (committed or not): read afresh
        dirty.clear()
    if version is None or tenant.pk in dirty:
        return load()
    entry = (tenant.pk, version, key)
    with _lock:
        if entry in _entries:
            _entries.move_to_end(entry)
            return _entries[entry]  # type: ignore[return-value]
    value = load()
    with _lock:
        _entries[entry] = value
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
    return value


def changed(tenant_id) -> None:
    """``tenant_id``'s configuration changed in the current transaction: every process reads it again."""
    from octopushx.tenancy.models import Organization

    Organization.objects.filter(pk=tenant_id).update(config_version=F("config_version") + 1)
    _forget({tenant_id})
    if connection.in_atomic_block:
        _dirty().add(tenant_id)


def _forget(tenant_ids: set) -> None:
    with _lock:
        for entry in [e for e in _entries if e[0] in tenant_ids]:
            del _entries[entry]


def _on_change(sender, instance, **kwargs) -> None:
    tenant_id = getattr(instance, "tenant_id", None)
    if tenant_id is not None:
        changed(tenant_id)


def watch(model) -> None:
    """Saves and deletes of ``model`` rows change their organisation's configuration."""
    uid = f"tenancy.config:{model._meta.label}"
    post_save.connect(_on_change, sender=model, dispatch_uid=f"{uid}:save", weak=False)
    post_delete.connect(_on_change, sender=model, dispatch_uid=f"{uid}:delete", weak=False)
