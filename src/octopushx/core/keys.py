"""Tenant data keys: created on first use, wrapped by the master key, rotated, shredded."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from octopushx.core import crypto
from octopushx.core.models import MasterKeyCheck, TenantKey

_cache: dict[tuple[str, str], bytes] = {}


def _aad(tenant_id) -> bytes:
    return f"tenant:{tenant_id}".encode()


def data_key(tenant) -> bytes:
    """The tenant's plaintext data key (created and wrapped on first use)."""
    record = TenantKey.objects.filter(tenant_id=tenant.pk).first()
    if record is None:
        with transaction.atomic():
            master = crypto.current_master_key()
            key = os.urandom(32)
            record, created = TenantKey.objects.get_or_create(
                tenant_id=tenant.pk,
                defaults={
                    "wrapped": crypto.seal(master, key, _aad(tenant.pk)),
                    "master_key_id": crypto.key_id(master),
                },
            )
    cache_key = (str(tenant.pk), bytes(record.wrapped).hex()[:48])
    if cache_key not in _cache:
        _cache[cache_key] = crypto.unwrap_with_any(bytes(record.wrapped), record.master_key_id, _aad(tenant.pk))
    return _cache[cache_key]


def shred(tenant) -> bool:
    """Destroy the tenant's data key: everything encrypted under it becomes unreadable."""
    _cache.clear()
    deleted, _ = TenantKey.objects.filter(tenant_id=tenant.pk).delete()
    return bool(deleted)


def check_master_key() -> None:
    """Fail loudly when the configured master key is not the one this database was written with."""
    keys = crypto.master_keys()
    check = MasterKeyCheck.objects.filter(pk=1).first()
    if check is None:
        MasterKeyCheck.objects.create(
            pk=1, key_id=crypto.key_id(keys[0]), sealed=crypto.seal(keys[0], crypto.CHECK_PLAINTEXT)
        )
        return
    try:
        crypto.unwrap_with_any(bytes(check.sealed), check.key_id, b"")
    except crypto.IntegrityError:
        raise crypto.MasterKeyError("The master key does not match the one this database was written with")


@dataclass
class RotationResult:
    rewrapped: int
    new_key_id: str
    new_key_text: str | None  # set when a new key file was written (embedded mode)


def rotate() -> RotationResult:
    """Rewrap every tenant key with the current master key.

    Embedded (key in a file): a new master key is generated first and the old one is
    kept in ``master.key.previous``. With ``OCTOPUSHX_MASTER_KEY``: set the new key there
    and the old one in ``OCTOPUSHX_MASTER_KEY_PREVIOUS``, then run this.
    """
    new_text = None
    if not settings.MASTER_KEY:
        path = Path(settings.MASTER_KEY_FILE)
        old = crypto.current_master_key()
        previous = Path(str(path) + ".previous")
        with previous.open("a") as handle:
            handle.write(crypto.base64.b64encode(old).decode() + "\n")
        previous.chmod(0o600)
        new_text = crypto.generate_key_text()
        tmp = path.with_suffix(".new")
        tmp.write_text(new_text + "\n")
        tmp.chmod(0o600)
        tmp.replace(path)
    master = crypto.current_master_key()
    new_id = crypto.key_id(master)
    count = 0
    with transaction.atomic():
        for record in TenantKey.objects.select_for_update():
            plain = crypto.unwrap_with_any(bytes(record.wrapped), record.master_key_id, _aad(record.tenant_id))
            record.wrapped = crypto.seal(master, plain, _aad(record.tenant_id))
            record.master_key_id = new_id
            record.rotated_at = timezone.now()
            record.save()
            count += 1
        MasterKeyCheck.objects.update_or_create(
            pk=1, defaults={"key_id": new_id, "sealed": crypto.seal(master, crypto.CHECK_PLAINTEXT)}
        )
    _cache.clear()
    return RotationResult(count, new_id, new_text)
