"""Retention policies, legal holds, the dry-run preview and the purge."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from octopushx.core import audit, events, jobs
from octopushx.core.context import Actor
from octopushx.shield.retention.models import HoldScope, LegalHold, RetentionPolicy, RetentionRun
from octopushx.shield.retention.registry import Holds, data_classes, hold_target_exists
from octopushx.tenancy.models import Organization, OrgKind
from octopushx.tenancy.roles import Perm, has_perm

MAX_DAYS = 36_500
REASON_MAX = 2000


@dataclass
class Effective:
    key: str
    label: str
    description: str
    days: int | None  # None: kept
    customised: bool


def effective_policies(tenant) -> list[Effective]:
    rows = {p.data_class: p for p in RetentionPolicy.objects.for_tenant(tenant)}
    result = []
    for key, data_class in data_classes().items():
        row = rows.get(key)
        days = (None if row.keep else row.days) if row else data_class.default_days
        result.append(Effective(key, data_class.label, data_class.description, days, row is not None))
    return result


def _require_admin(actor: Actor) -> None:
    if actor.user is not None and not has_perm(actor.role, Perm.ADMIN):
        raise PermissionDenied("Only admins change retention")


@transaction.atomic
def set_policy(tenant, actor: Actor, data_class: str, *, keep: bool, days: int | None = None) -> RetentionPolicy:
    """Keep a data class, or delete it ``days`` after it was created (at least one day)."""
    _require_admin(actor)
    if data_class not in data_classes():
        raise ValidationError({"data_class": [f"Unknown data class; choose one of: {', '.join(data_classes())}"]})
    if not keep:
        if days is None or isinstance(days, bool) or not isinstance(days, int):
            raise ValidationError({"days": ["Give a number of days, or choose keep"]})
        if days < 1:
            raise ValidationError({"days": ["A retention period must be at least one day"]})
        if days > MAX_DAYS:
            raise ValidationError({"days": [f"At most {MAX_DAYS} days"]})
    policy = RetentionPolicy.objects.for_tenant(tenant).filter(data_class=data_class).first()
    old = {"keep": policy.keep, "days": policy.days} if policy else {"keep": None, "days": None}
    policy = policy or RetentionPolicy(tenant=tenant, data_class=data_class)
    policy.keep, policy.days = keep, None if keep else days
    policy.save()
    audit.record(
        tenant, actor, "retention.policy_changed", obj=policy,
        changes={"data_class": [data_class, data_class], **audit.diff(old, {"keep": policy.keep, "days": policy.days})},
    )  # fmt: skip
    return policy


# --- legal holds ----------------------------------------------------------------------------


def _hold_target_exists(tenant, scope: str, object_id: str) -> None:
    """The contact or call a hold names must exist here (its product registers the check)."""
    exists = hold_target_exists(tenant, scope, object_id)
    if exists is None:
        raise ValidationError({"scope": [f"No installed product holds a {scope} yet"]})
    if not exists:
        raise Http404(f"No {scope} with that id")


def active_holds(tenant) -> Holds:
    rows = list(LegalHold.objects.for_tenant(tenant).filter(released_at__isnull=True))
    return Holds(
        tenant_wide=any(h.scope == HoldScope.TENANT for h in rows),
        contact_ids=frozenset(h.object_id for h in rows if h.scope == HoldScope.CONTACT),
        call_ids=frozenset(h.object_id for h in rows if h.scope == HoldScope.CALL),
    )


def hold_reason(tenant, scope: str, object_id: str = "") -> str | None:
    """Why this object (or the whole tenant) may not be deleted now, or None."""
    holds = LegalHold.objects.for_tenant(tenant).filter(released_at__isnull=True)
    hold = holds.filter(scope=HoldScope.TENANT).first()
    if hold is None and scope != HoldScope.TENANT:
        hold = holds.filter(scope=scope, object_id=str(object_id)).first()
    return hold.reason if hold else None


@transaction.atomic
def place_hold(tenant, actor: Actor, *, scope: str, object_id: str = "", reason: str) -> LegalHold:
    """Stop retention (and erasure) for a contact, a call or the whole tenant."""
    _require_admin(actor)
    reason = (reason or "").strip()
    object_id = (object_id or "").strip()
    errors: dict[str, list[str]] = {}
    if scope not in HoldScope.values:
        errors["scope"] = [f"Choose one of: {', '.join(HoldScope.values)}"]
    if not reason:
        errors["reason"] = ["Say why the data must be kept (for example the case reference)"]
    elif len(reason) > REASON_MAX:
        errors["reason"] = [f"At most {REASON_MAX} characters"]
    if scope in (HoldScope.CONTACT, HoldScope.CALL) and not object_id:
        errors["object_id"] = ["Give the id of the contact or call"]
    if errors:
        raise ValidationError(errors)
    if scope == HoldScope.TENANT:
        object_id = ""
    else:
        try:
            _hold_target_exists(tenant, scope, object_id)
        except Http404:
            raise ValidationError({"object_id": [f"No {scope} with that id in this organisation"]})
    hold = LegalHold.objects.create(
        tenant=tenant, scope=scope, object_id=object_id, reason=reason, placed_by=actor.user
    )
    audit.record(
        tenant, actor, "retention.hold_placed", obj=hold,
        changes={"scope": [None, scope], "object_id": [None, object_id], "reason": [None, reason]},
    )  # fmt: skip
    events.emit(tenant, "retention.hold_placed", {"hold_id": str(hold.pk), "scope": scope})
    return hold


@transaction.atomic
def release_hold(tenant, actor: Actor, hold: LegalHold) -> LegalHold:
    _require_admin(actor)
    hold = LegalHold.objects.select_for_update().get(pk=hold.pk)
    if hold.released_at is not None:
        raise ValidationError({"hold": ["This hold is already released"]})
    hold.released_at, hold.released_by = timezone.now(), actor.user
    hold.save(update_fields=["released_at", "released_by", "updated_at"])
    audit.record(tenant, actor, "retention.hold_released", obj=hold, changes={"released": [False, True]})
    return hold


# --- preview and purge ----------------------------------------------------------------------


@dataclass
class Due:
    key: str
    label: str
    days: int | None
    count: int


def _due(tenant, holds: Holds, now=None):
    now = now or timezone.now()
    registry = data_classes()
    for policy in effective_policies(tenant):
        if policy.days is None:
            yield policy, None
            continue
        items = registry[policy.key].finder(tenant, now - timedelta(days=policy.days), holds)
        yield policy, items


def _count(items) -> int:
    return items.count() if hasattr(items, "count") and not isinstance(items, list) else len(list(items))


def preview(tenant, now=None) -> tuple[list[Due], Holds]:
    """What a purge would delete today, per data class (deletes nothing)."""
    holds = active_holds(tenant)
    rows = []
    for policy, items in _due(tenant, holds, now):
        count = 0 if items is None or holds.tenant_wide else _count(items)
        rows.append(Due(policy.key, policy.label, policy.days, count))
    return rows, holds


def purge(tenant, actor: Actor, now=None) -> RetentionRun:
    """Delete what is past its retention period (unless held); record and audit the counts."""
    holds = active_holds(tenant)
    run = RetentionRun.objects.create(tenant=tenant, held=holds.tenant_wide)
    counts: dict[str, int] = {}
    if not holds.tenant_wide:
        registry = data_classes()
        for policy, items in _due(tenant, holds, now):
            if items is None:
                continue
            with transaction.atomic():
                counts[policy.key] = registry[policy.key].purger(tenant, items)
    with transaction.atomic():
        run.counts, run.finished_at = counts, timezone.now()
        run.save(update_fields=["counts", "finished_at", "updated_at"])
        audit.record(
            tenant, actor, "retention.purged", obj=run,
            changes={"counts": [None, counts], "held": [None, holds.tenant_wide]},
        )  # fmt: skip
        events.emit(tenant, "retention.purged", {"run_id": str(run.pk), "counts": counts})
    return run


@jobs.handler("shield.retention_purge")
def purge_job(job) -> dict:
    tenant = Organization.objects.get(pk=job.payload["tenant_id"])
    run = purge(tenant, Actor.system("retention"))
    return {"run_id": str(run.pk), "counts": run.counts, "held": run.held}


def schedule_daily(today=None) -> int:
    """Queue one purge job per live customer organisation (deduplicated per day)."""
    today = today or timezone.now().date()
    count = 0
    for tenant in Organization.objects.filter(kind=OrgKind.CUSTOMER, deleted_at__isnull=True):
        jobs.submit(
            "shield.retention_purge",
            tenant=tenant,
            payload={"tenant_id": str(tenant.pk)},
            dedupe_key=f"retention:{tenant.pk}:{today.isoformat()}",
        )
        count += 1
    return count
