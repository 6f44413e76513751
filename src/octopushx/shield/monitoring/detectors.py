"""Detectors that turn audit entries into security alerts.

Each runs right after an audit entry of interest is written (``AuditPersonal`` saved, so
the IP and changed values are known), inside a savepoint: a detector failing never
breaks the operation being audited.
"""

from __future__ import annotations

import ipaddress
import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from octopushx.accounts.models import UserSession
from octopushx.core.models import AuditEntry, AuditPersonal
from octopushx.tenancy.roles import RANK, Role

log = logging.getLogger(__name__)

FAILED_WINDOW = timedelta(minutes=15)
FAILED_THRESHOLD = 10  # failed sign-ins for one account across any addresses
ACTIVE_WINDOW = timedelta(minutes=15)  # a session seen this recently is "active"
EXPORT_HISTORY = timedelta(days=90)
EXPORT_FACTOR = 5  # this many times the user's usual rows per export
EXPORT_MIN_ROWS = 100  # never alert below this
EXPORT_FIRST_TIME_ROWS = 10_000  # with no history, alert at this size


def network(ip: str | None) -> str | None:
    """The /16 (IPv4) or /48 (IPv6) network of an address: different networks are "distant"."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    prefix = 16 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def _raise(entry: AuditEntry, kind: str, dedupe_key: str, summary: str, details: dict, user=None):
    from octopushx.shield.monitoring import services

    return services.raise_alert(
        entry.tenant, kind=kind, dedupe_key=dedupe_key, summary=summary, details=details,
        subject_user=user, audit_seq=entry.seq,
    )  # fmt: skip


def concurrent_ips(entry: AuditEntry, personal: AuditPersonal) -> None:
    user = entry.actor_user
    here = network(personal.ip)
    if user is None or here is None:
        return
    recent = timezone.now() - ACTIVE_WINDOW
    others = {
        s.ip
        for s in UserSession.objects.filter(user=user, last_seen_at__gte=recent).exclude(ip=None)
        if network(s.ip) not in (None, here)
    }
    if others:
        hour = timezone.now().strftime("%Y%m%d%H")
        _raise(
            entry,
            "concurrent_ips",
            f"concurrent_ips:{user.pk}:{hour}",
            f"{user.email} signed in from {personal.ip} while active from {', '.join(sorted(others))}",
            {"ip": personal.ip, "other_ips": sorted(others)},
            user,
        )


def failed_burst(entry: AuditEntry, personal: AuditPersonal) -> None:
    since = timezone.now() - FAILED_WINDOW
    failures = AuditEntry.objects.filter(
        tenant=entry.tenant, action="auth.sign_in_failed", object_id=entry.object_id, at__gte=since
    )
    count = failures.count()
    if count < FAILED_THRESHOLD:
        return
    ips = sorted({ip for ip in AuditPersonal.objects.filter(entry__in=failures).values_list("ip", flat=True) if ip})
    window = int(timezone.now().timestamp() // FAILED_WINDOW.total_seconds())
    from octopushx.accounts.models import User

    user = User.objects.filter(pk=entry.object_id).first()
    who = user.email if user else entry.object_id
    _raise(
        entry,
        "failed_burst",
        f"failed_burst:{entry.object_id}:{window}",
        f"{count} failed sign-ins for {who} in {int(FAILED_WINDOW.total_seconds() // 60)} minutes",
        {"count": count, "ips": ips[:20]},
        user,
    )


def account_locked(entry: AuditEntry, personal: AuditPersonal) -> None:
    """The per-account sign-in lock engaged (accounts.lockout): someone is guessing this password."""
    changes = personal.changes or {}
    failures = (changes.get("failures") or [None, 0])[-1]
    addresses = (changes.get("addresses") or [None, []])[-1] or []
    from octopushx.accounts.models import User

    user = User.objects.filter(pk=entry.object_id).first()
    who = user.email if user else entry.object_id
    _raise(
        entry,
        "account_locked",
        f"account_locked:{entry.object_id}:{entry.seq}",
        f"Sign-ins to {who} paused after {failures} failed attempts from {len(addresses)} address(es)",
        {"failures": failures, "ips": list(addresses)[:20]},
        user,
    )


def _rows(personal: AuditPersonal) -> int:
    value = (personal.changes or {}).get("rows")
    if isinstance(value, list) and value:
        value = value[-1]
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def large_export(entry: AuditEntry, personal: AuditPersonal) -> None:
    user = entry.actor_user
    rows = _rows(personal)
    if user is None or rows < EXPORT_MIN_ROWS:
        return
    earlier = AuditPersonal.objects.filter(
        entry__tenant=entry.tenant,
        entry__actor_user=user,
        entry__action__endswith=".exported",
        entry__at__gte=timezone.now() - EXPORT_HISTORY,
        entry__seq__lt=entry.seq,
    )
    sizes = [_rows(p) for p in earlier[:500]]
    sizes = [s for s in sizes if s > 0]
    usual = sum(sizes) / len(sizes) if sizes else None
    if usual is None and rows < EXPORT_FIRST_TIME_ROWS:
        return
    if usual is not None and rows < EXPORT_FACTOR * usual:
        return
    usual_text = f"usually {round(usual)}" if usual is not None else "no earlier exports"
    _raise(
        entry,
        "large_export",
        f"large_export:{entry.seq}",
        f"{user.email} exported {rows} rows ({usual_text})",
        {"rows": rows, "usual_rows": round(usual) if usual is not None else None, "action": entry.action},
        user,
    )


def role_escalation(entry: AuditEntry, personal: AuditPersonal) -> None:
    change = (personal.changes or {}).get("role")
    if not isinstance(change, list) or len(change) != 2:
        return
    old, new = change
    try:
        old_rank, new_rank = RANK[Role(old)], RANK[Role(new)]
    except (ValueError, KeyError):
        return
    if new_rank <= old_rank or Role(new) not in (Role.ADMIN, Role.OWNER):
        return
    from octopushx.tenancy.models import Membership

    membership = Membership.objects.filter(pk=entry.object_id).select_related("user").first()
    who = membership.user.email if membership else entry.object_id
    _raise(
        entry,
        "role_escalation",
        f"role_escalation:{entry.seq}",
        f"{who} was raised from {old} to {new} by {personal.actor_label}",
        {"old": old, "new": new, "by": personal.actor_label},
        membership.user if membership else None,
    )


def detectors_for(action: str):
    if action == "auth.sign_in":
        return [concurrent_ips]
    if action == "auth.sign_in_failed":
        return [failed_burst]
    if action == "auth.account_locked":
        return [account_locked]
    if action.endswith(".exported"):
        return [large_export]
    if action == "member.role_changed":
        return [role_escalation]
    return []


def run(personal: AuditPersonal) -> None:
    entry = personal.entry
    for detector in detectors_for(entry.action):
        try:
            with transaction.atomic():
                detector(entry, personal)
        except IntegrityError:
            pass  # the same alert was raised concurrently
        except Exception:
            log.exception("security detector %s failed on audit entry %s", detector.__name__, entry.pk)
