"""Suspending a tenant for misuse, and reinstating it: nothing is deleted, work only pauses.

The state, its reason codes and the checks that read it (sign-in notice, webhook refusal)
live in ``tenancy.suspension`` so lower packages can use them; these are the operations.
While ``Organization.suspended_at`` is set, members see a suspension page instead of the
tenant, the API answers 403 with the reason code, webhooks are refused and the tenant's
jobs wait in the queue. Reinstatement clears the fields and releases the waiting jobs.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from octopushx.core import audit, events, jobs
from octopushx.core.context import Actor
from octopushx.core.models import Job, JobState
from octopushx.tenancy.models import Membership, Organization, OrgKind
from octopushx.tenancy.roles import Role
from octopushx.tenancy.services import can_manage_org
from octopushx.tenancy.suspension import (  # noqa: F401 (the state and its labels live in tenancy)
    REASONS,
    is_suspended,
    reason_label,
    sign_in_notice,
    webhook_refusal,
)

NOTE_MAX = 2000


def can_suspend(user, org: Organization) -> bool:
    """Platform admins suspend any reseller or customer; reseller admins only their customers."""
    if org.kind == OrgKind.PLATFORM or not can_manage_org(user, org):
        return False
    own_admin_orgs = Membership.objects.filter(user=user, role__in=[Role.OWNER, Role.ADMIN])
    if own_admin_orgs.filter(tenant__kind=OrgKind.PLATFORM).exists():
        return True
    # A reseller may not suspend itself (that would lock its own staff out).
    return not own_admin_orgs.filter(tenant=org).exists()


def _check_actor(actor: Actor, org: Organization) -> None:
    if actor.user is not None and not can_suspend(actor.user, org):
        raise PermissionDenied("You cannot suspend or reinstate this organisation")


def record_both(org: Organization, actor: Actor, action: str, changes: dict) -> None:
    """The tenant's own trail and its parent's both show the decision."""
    audit.record(org, actor, action, obj=org, changes=changes)
    if org.parent_id:
        audit.record(org.parent, actor, action, obj=org, changes=changes)


@transaction.atomic
def suspend_tenant(org: Organization, actor: Actor, *, reason: str, note: str = "") -> Organization:
    """Suspend ``org`` with a reason code and a note; its data and settings are untouched."""
    _check_actor(actor, org)
    reason = (reason or "").strip()
    note = (note or "").strip()
    errors: dict[str, list[str]] = {}
    if reason not in REASONS:
        errors["reason"] = [f"Choose one of: {', '.join(REASONS)}"]
    if len(note) > NOTE_MAX:
        errors["note"] = [f"At most {NOTE_MAX} characters"]
    if reason == "other" and not note:
        errors["note"] = ["Explain the reason in the note when choosing “other”"]
    if errors:
        raise ValidationError(errors)
    org = Organization.objects.select_for_update().get(pk=org.pk)
    if org.suspended_at is not None:
        raise ValidationError({"reason": [f"{org.name} is already suspended"]})
    org.suspended_at = timezone.now()
    org.suspension_reason = reason
    org.suspension_note = note
    org.save(update_fields=["suspended_at", "suspension_reason", "suspension_note"])
    record_both(
        org,
        actor,
        "organization.suspended",
        {"suspension_reason": [None, reason], "suspension_note": [None, note]},
    )
    events.emit(org, "organization.suspended", {"organization_id": str(org.pk), "reason": reason})
    return org


@transaction.atomic
def reinstate_tenant(org: Organization, actor: Actor, *, note: str = "") -> Organization:
    """Lift a suspension: members, API tokens, webhooks and waiting jobs work again."""
    _check_actor(actor, org)
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": [f"At most {NOTE_MAX} characters"]})
    org = Organization.objects.select_for_update().get(pk=org.pk)
    if org.suspended_at is None:
        raise ValidationError({"organization": [f"{org.name} is not suspended"]})
    old_reason = org.suspension_reason
    org.suspended_at = None
    org.suspension_reason = ""
    org.suspension_note = ""
    org.save(update_fields=["suspended_at", "suspension_reason", "suspension_note"])
    released = release_paused_jobs(org)
    record_both(
        org,
        actor,
        "organization.reinstated",
        {
            "suspension_reason": [old_reason, None],
            "reinstatement_note": [None, note],
            "jobs_released": [0, released],
        },
    )
    events.emit(org, "organization.reinstated", {"organization_id": str(org.pk)})
    return org


def release_paused_jobs(org: Organization) -> int:
    """Queued jobs that were pushed back while suspended run again now."""
    now = timezone.now()
    waiting = Job.objects.filter(tenant=org, state=JobState.QUEUED, run_after__gt=now)
    ids = list(waiting.values_list("pk", flat=True))
    Job.objects.filter(pk__in=ids).update(run_after=now)
    for job_id in ids:
        transaction.on_commit(lambda job_id=job_id: jobs.enqueue(job_id))
    return len(ids)
