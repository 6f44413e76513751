"""The audit writer and verifier: every change leaves a link in its tenant's hash chain.

A link hashes the previous link, the non-personal fields and a salted SHA-256
commitment to the personal part (actor label, IP, user agent, changed values). The
personal part is stored apart (``AuditPersonal``) so erasing a person can replace it
without breaking the chain; the commitment still proves the rest was not edited.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import models, transaction
from django.db.models import Max

from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry, AuditHead, AuditPersonal

GENESIS = "0" * 64
MASK = "••••••"
SECRET_WORDS = ("password", "secret", "token", "api_key", "apikey", "auth", "otp", "key_hash")


def _json_default(value: Any) -> str:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (UUID, Decimal)):
        return str(value)
    if isinstance(value, models.Model):
        return str(value.pk)
    return str(value)


def canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=_json_default, ensure_ascii=False)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def is_secret(field: str) -> bool:
    lowered = field.lower()
    return any(word in lowered for word in SECRET_WORDS)


def mask_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """Changes with the values of secret-looking fields masked."""
    masked = {}
    for field, value in (changes or {}).items():
        if is_secret(field):
            masked[field] = [MASK, MASK] if isinstance(value, (list, tuple)) else MASK
        else:
            masked[field] = value
    # Round-trip through JSON so dates, UUIDs and decimals are stored as text.
    return json.loads(canonical(masked))


def diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for the fields whose value changed."""
    return {k: [old.get(k), new.get(k)] for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)}


def _personal_dict(personal: AuditPersonal) -> dict[str, Any]:
    return {
        "actor_label": personal.actor_label,
        "ip": personal.ip,
        "user_agent": personal.user_agent,
        "changes": personal.changes,
    }


def _commit(salt: str, personal: dict[str, Any]) -> str:
    return _sha256(salt + canonical(personal))


def _link_hash(entry: AuditEntry) -> str:
    return _sha256(
        canonical(
            {
                "tenant": str(entry.tenant_id),
                "seq": entry.seq,
                "at": entry.at.isoformat(),
                "actor": entry.actor_ref,
                "action": entry.action,
                "object_type": entry.object_type,
                "object_id": entry.object_id,
                "commitment": entry.commitment,
                "prev": entry.prev_hash,
            }
        )
    )


def record(
    tenant,
    actor: Actor | None,
    action: str,
    *,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append an audit entry to the tenant's chain (inside the caller's transaction)."""
    actor = actor or Actor.system()
    if obj is not None:
        object_type = object_type or obj._meta.model_name
        object_id = object_id or str(obj.pk)
    salt = secrets.token_hex(16)
    personal = {
        "actor_label": actor.label[:254],
        "ip": actor.ip,
        "user_agent": (actor.user_agent or "")[:300],
        "changes": mask_changes(changes or {}),
    }
    entry = AuditEntry(
        tenant=tenant,
        actor_user=actor.user,
        actor_token=actor.token,
        actor_ref=actor.ref,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        commitment=_commit(salt, personal),
    )
    pending = _deferred.get()
    if pending is not None:
        pending.append((tenant, entry, salt, personal))
        return entry
    key = (transaction.get_connection().alias, tenant.pk)
    # No savepoint of its own: an entry that cannot be written fails the caller's whole transaction.
    with transaction.atomic(savepoint=False):
        known = _heads.get(key)
        if known is None or not _advance(tenant, known, entry):
            # The head this process last wrote moved on (another process, a rolled-back write):
            # read it, locked, and link to it.
            head = _locked_head(tenant)
            _link(entry, head.seq, head.hash)
            head.seq, head.hash = entry.seq, entry.hash
            head.save(update_fields=["seq", "hash"])
        entry.save()
        AuditPersonal.objects.create(entry=entry, salt=salt, **personal)
    _heads[key] = (entry.seq, entry.hash)
    return entry


# The chain head each tenant had after this process's last entry. Appending first tries to move
# the head from that value in one statement (compare and set, which locks the row as reading it
# for update would): one query fewer per entry, and a stale value only falls back to the read.
_heads: dict[tuple[str, Any], tuple[int, str]] = {}


# Entries held back inside ``deferred()``: (tenant, entry, salt, personal), in order.
_deferred: contextvars.ContextVar[list | None] = contextvars.ContextVar("audit_deferred", default=None)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold the entries recorded inside back until ``write_deferred()``, which links them all under
    one lock of the chain head (a worker running many workflow runs in one transaction holds the
    head for the moment before it commits, not for the whole batch).

    The caller owns every savepoint inside: when it rolls one back it calls ``undo(mark())`` taken
    before, so an entry is written exactly when the change it records commits.
    """
    token = _deferred.set([])
    try:
        yield
    finally:
        _deferred.reset(token)


def mark() -> int:
    pending = _deferred.get()
    return 0 if pending is None else len(pending)


def undo(position: int) -> None:
    """Forget the entries held back since ``mark()`` returned ``position`` (their change was undone)."""
    pending = _deferred.get()
    if pending is not None:
        del pending[position:]


def write_deferred() -> int:
    """Write the held-back entries (inside the caller's transaction), one head lock per tenant."""
    pending = _deferred.get()
    if not pending:
        return 0
    items, pending[:] = list(pending), []
    by_tenant: dict[Any, list] = {}
    for item in items:
        by_tenant.setdefault(item[0].pk, []).append(item)
    connection = transaction.get_connection()
    with transaction.atomic(savepoint=False):
        for group in by_tenant.values():
            tenant = group[0][0]
            key = (connection.alias, tenant.pk)
            entries = [entry for _, entry, _, _ in group]
            known = _heads.get(key)
            if known is None or not _advance_many(tenant, known, entries):
                head = _locked_head(tenant)
                _chain(entries, head.seq, head.hash)
                head.seq, head.hash = entries[-1].seq, entries[-1].hash
                head.save(update_fields=["seq", "hash"])
            AuditEntry.objects.bulk_create(entries)
            AuditPersonal.objects.bulk_create(
                [AuditPersonal(entry=entry, salt=salt, **personal) for _, entry, salt, personal in group]
            )
            _heads[key] = (entries[-1].seq, entries[-1].hash)
    return len(items)


def _locked_head(tenant) -> AuditHead:
    """The tenant's chain head, read for update (made on the tenant's first entry)."""
    head = AuditHead.objects.select_for_update().filter(tenant=tenant).first()
    if head is None:
        AuditHead.objects.get_or_create(tenant=tenant)
        head = AuditHead.objects.select_for_update().get(tenant=tenant)
    return head


def _chain(entries: list[AuditEntry], seq: int, prev_hash: str) -> None:
    for entry in entries:
        _link(entry, seq, prev_hash)
        seq, prev_hash = entry.seq, entry.hash


def _advance_many(tenant, known: tuple[int, str], entries: list[AuditEntry]) -> bool:
    _chain(entries, *known)
    return _move_head(tenant, known, (entries[-1].seq, entries[-1].hash))


def _link(entry: AuditEntry, seq: int, prev_hash: str) -> None:
    entry.seq, entry.prev_hash = seq + 1, prev_hash
    entry.hash = _link_hash(entry)


def _advance(tenant, known: tuple[int, str], entry: AuditEntry) -> bool:
    _link(entry, *known)
    return _move_head(tenant, known, (entry.seq, entry.hash))


def _move_head(tenant, known: tuple[int, str], new: tuple[int, str]) -> bool:
    """Set the head to ``new`` if it still is ``known`` (compare and set; locks the row)."""
    connection = transaction.get_connection()
    tenant_id = AuditHead._meta.pk.target_field.get_db_prep_value(tenant.pk, connection)
    # One plain statement: this runs for every change the platform records.
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {AuditHead._meta.db_table} SET seq = %s, hash = %s "  # noqa: S608 - the model's table
            "WHERE tenant_id = %s AND seq = %s AND hash = %s",
            [new[0], new[1], tenant_id, known[0], known[1]],
        )
        return cursor.rowcount == 1


@dataclass
class VerifyResult:
    tenant_id: str
    checked: int
    ok: bool
    broken_seq: int | None = None
    reason: str = ""


def verify(tenant) -> VerifyResult:
    """Walk the tenant's chain up to its head; report the first broken link.

    The head is read first: on a live system entries keep being added, and one committed after
    the head was read is neither missing nor a sign of deletion (the next verify checks it).
    """
    expected_prev = GENESIS
    expected_seq = 1
    checked = 0
    head = AuditHead.objects.filter(tenant=tenant).first()
    entries = AuditEntry.objects.filter(tenant=tenant)
    if head is not None:
        entries = entries.filter(seq__lte=head.seq)
    entries = entries.select_related("personal").order_by("seq").iterator(chunk_size=2000)

    def broken(seq: int, reason: str) -> VerifyResult:
        return VerifyResult(str(tenant.pk), checked, False, seq, reason)

    for entry in entries:
        if entry.seq != expected_seq:
            return broken(expected_seq, f"entry {expected_seq} is missing (next found is {entry.seq})")
        if entry.prev_hash != expected_prev:
            return broken(entry.seq, "does not link to the previous entry")
        if _link_hash(entry) != entry.hash:
            return broken(entry.seq, "its fields were changed after it was written")
        personal = getattr(entry, "personal", None)
        if personal is None:
            return broken(entry.seq, "its personal part is missing")
        if personal.erased_at is None and _commit(personal.salt, _personal_dict(personal)) != entry.commitment:
            return broken(entry.seq, "its actor, IP or changed values were edited")
        expected_prev = entry.hash
        expected_seq += 1
        checked += 1
    if head is None:
        return VerifyResult(str(tenant.pk), checked, True)
    if head.seq != checked:
        return broken(checked + 1, f"entries {checked + 1}..{head.seq} were deleted")
    if head.hash != expected_prev:
        return broken(checked, "the last entry does not match the chain head")
    # Entries are read before the head here, so every one written since has moved the head past it.
    last = AuditEntry.objects.filter(tenant=tenant).aggregate(last=Max("seq"))["last"] or 0
    now = AuditHead.objects.filter(tenant=tenant).values_list("seq", flat=True).first() or 0
    if last > now:
        return broken(now + 1, f"entries {now + 1}..{last} are not linked into the chain head")
    return VerifyResult(str(tenant.pk), checked, True)


def erase_personal(entries, pseudonym: str) -> int:
    """Replace the personal part of the given entries with a pseudonym; the chain stays valid."""
    from django.utils import timezone

    count = 0
    for personal in AuditPersonal.objects.filter(entry__in=entries):
        personal.actor_label = pseudonym
        personal.ip = None
        personal.user_agent = ""
        personal.changes = {"erased": True}
        personal.erased_at = timezone.now()
        personal.save()
        count += 1
    return count
