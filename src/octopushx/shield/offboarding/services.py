"""Offboarding operations: record an export, schedule, cancel and carry out a termination.

A termination gives notice (``NOTICE_MIN_DAYS``–``NOTICE_MAX_DAYS``, default 30): the organisation
is suspended (reason ``termination``) but its owners can still export and cancel. When notice
ends, a job destroys the data key first (crypto-shredding: whatever copy of a stored file is
left anywhere, a backup or an old S3 version, can no longer be decrypted), then deletes the
stored files and every row of the organisation, and writes a certificate of deletion into the
platform-level ``Termination`` row, which outlives the organisation. Each step is idempotent,
so a worker that dies half-way is simply re-run by the reaper.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone

from octopushx.core import audit, crypto, events, jobs, keys
from octopushx.core.context import Actor
from octopushx.core.models import Blob, TenantKey
from octopushx.shield.offboarding.models import Termination, TerminationState
from octopushx.shield.offboarding.tables import tenant_tables
from octopushx.shield.suspension.services import record_both  # its parent's trail outlives it
from octopushx.tenancy import suspension
from octopushx.tenancy.models import Membership, Organization, OrgKind
from octopushx.tenancy.roles import Role

log = logging.getLogger(__name__)

NOTICE_DEFAULT_DAYS = 30
NOTICE_MIN_DAYS = 7
NOTICE_MAX_DAYS = 90
REASON_MAX = 2000
SUSPENSION_REASON = "termination"
JOB_KIND = "shield.terminate_organization"


# --- who may --------------------------------------------------------------------------------


def is_platform_staff(user) -> bool:
    """An owner or admin of the platform organisation."""
    return (
        user is not None
        and Membership.objects.filter(
            user=user, role__in=[Role.OWNER, Role.ADMIN], tenant__kind=OrgKind.PLATFORM, tenant__deleted_at__isnull=True
        ).exists()
    )


def can_offboard(user, org: Organization) -> bool:
    """The organisation's own owners, and platform staff; never the platform organisation itself."""
    if org.kind == OrgKind.PLATFORM:
        return False
    if Membership.objects.filter(user=user, tenant=org, role=Role.OWNER).exists():
        return True
    return is_platform_staff(user)


def _check(actor: Actor, org: Organization) -> None:
    if actor.user is not None and not can_offboard(actor.user, org):
        raise PermissionDenied("Only an owner of the organisation or platform staff can do this")


# --- export ---------------------------------------------------------------------------------


def start_export(org: Organization, actor: Actor) -> None:
    """Check the actor and audit the export before its first byte is sent."""
    _check(actor, org)
    if org.deleted_at is not None:
        raise ValidationError({"organization": ["The organisation is deleted"]})
    with transaction.atomic():
        record_both(org, actor, "organization.exported", {"export": [None, "whole organisation (ZIP)"]})


# --- notice ---------------------------------------------------------------------------------


def open_termination(org: Organization) -> Termination | None:
    return Termination.objects.filter(
        organization_id=org.pk, state__in=[TerminationState.SCHEDULED, TerminationState.DELETING]
    ).first()


def _owner_emails(org: Organization) -> list[str]:
    return sorted(
        Membership.objects.filter(tenant=org, role=Role.OWNER, user__is_active=True).values_list(
            "user__email", flat=True
        )
    )


def _clean_notice(notice_days) -> int:
    try:
        days = int(notice_days)
    except (TypeError, ValueError):
        days = -1
    if isinstance(notice_days, bool) or not NOTICE_MIN_DAYS <= days <= NOTICE_MAX_DAYS:
        raise ValidationError(
            {"notice_days": [f"Give a notice period of {NOTICE_MIN_DAYS} to {NOTICE_MAX_DAYS} days (a whole number)"]}
        )
    return days


@transaction.atomic
def request_termination(
    org: Organization,
    actor: Actor,
    *,
    notice_days=NOTICE_DEFAULT_DAYS,
    reason: str = "",
    confirm: str | None = None,
    now: datetime | None = None,
) -> Termination:
    """Give notice: the organisation is suspended now and deleted when the notice period ends."""
    _check(actor, org)
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    reason = (reason or "").strip()
    try:
        days = _clean_notice(notice_days)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if len(reason) > REASON_MAX:
        errors["reason"] = [f"At most {REASON_MAX} characters"]
    if confirm is not None and confirm.strip() != org.name:
        errors["confirm"] = ["Type the organisation's name exactly to confirm"]
    if org.kind == OrgKind.PLATFORM:
        errors["organization"] = ["The platform organisation cannot be terminated"]
    elif org.deleted_at is not None:
        errors["organization"] = ["The organisation is already deleted"]
    elif org.children.filter(deleted_at__isnull=True).exists():
        errors["organization"] = ["Terminate or move its customer organisations first"]
    if errors:
        raise ValidationError(errors)
    org = Organization.objects.select_for_update(of=("self",)).select_related("parent").get(pk=org.pk)
    if open_termination(org) is not None:
        raise ValidationError({"organization": [f"{org.name} already has a termination under way"]})
    due = now + timedelta(days=days)
    termination = Termination.objects.create(
        organization_id=org.pk,
        organization_name=org.name,
        organization_kind=org.kind,
        parent_id=org.parent_id,
        notice_days=days,
        reason=reason,
        requested_at=now,
        requested_by=actor.user,
        requested_by_label=actor.label[:254],
        due_at=due,
        was_suspended=org.suspended_at is not None,
        notify=sorted({*_owner_emails(org), *([actor.user.email] if actor.user is not None else [])}),
    )
    if org.suspended_at is None:
        org.suspended_at = now
        org.suspension_reason = SUSPENSION_REASON
        org.suspension_note = f"Termination takes effect on {due:%d %b %Y}"
        org.save(update_fields=["suspended_at", "suspension_reason", "suspension_note"])
    record_both(
        org,
        actor,
        "organization.termination_scheduled",
        {"notice_days": [None, days], "due_at": [None, due.isoformat()], "reason": [None, reason]},
    )
    events.emit(org, "organization.termination_scheduled", {"organization_id": str(org.pk), "due_at": due.isoformat()})
    recipients = list(termination.notify)
    body = (
        f"{actor.label} gave notice to terminate {org.name} on {now:%d %b %Y}.\n\n"
        f"The organisation is suspended now. On {due:%d %b %Y %H:%M} UTC its encryption key is destroyed and "
        "every record, call, recording, transcript and audit entry is deleted for good.\n\n"
        "Until then an owner can download a complete export and cancel the termination under "
        "Settings → Offboarding.\n"
    )
    transaction.on_commit(lambda: _send(f"{org.name} will be terminated on {due:%d %b %Y}", body, recipients))
    return termination


@transaction.atomic
def cancel_termination(org: Organization, actor: Actor) -> Termination:
    """Withdraw the notice while it runs: the organisation works again (unless suspended for another reason)."""
    _check(actor, org)
    org = Organization.objects.select_for_update(of=("self",)).select_related("parent").get(pk=org.pk)
    termination = (
        Termination.objects.select_for_update().filter(organization_id=org.pk, state=TerminationState.SCHEDULED).first()
    )
    if termination is None:
        raise ValidationError({"organization": [f"{org.name} has no termination that can still be cancelled"]})
    termination.state = TerminationState.CANCELLED
    termination.cancelled_at = timezone.now()
    termination.cancelled_by_label = actor.label[:254]
    termination.save(update_fields=["state", "cancelled_at", "cancelled_by_label"])
    released = 0
    if org.suspension_reason == SUSPENSION_REASON and not termination.was_suspended:
        from octopushx.shield.suspension.services import release_paused_jobs

        org.suspended_at = None
        org.suspension_reason = ""
        org.suspension_note = ""
        org.save(update_fields=["suspended_at", "suspension_reason", "suspension_note"])
        released = release_paused_jobs(org)
    record_both(
        org,
        actor,
        "organization.termination_cancelled",
        {"due_at": [termination.due_at.isoformat(), None], "jobs_released": [0, released]},
    )
    events.emit(org, "organization.termination_cancelled", {"organization_id": str(org.pk)})
    return termination


def _explain(org: Organization) -> str | None:
    termination = open_termination(org)
    if termination is None:
        return None
    return (
        f"It will be deleted for good on {termination.due_at:%d %b %Y}. Until then an owner can export its data "
        "and cancel the termination under Settings → Offboarding."
    )


suspension.register_explainer(SUSPENSION_REASON, _explain)


# --- deletion -------------------------------------------------------------------------------


def due(now: datetime | None = None):
    now = now or timezone.now()
    return Termination.objects.filter(
        state__in=[TerminationState.SCHEDULED, TerminationState.DELETING], due_at__lte=now
    ).order_by("due_at")


def schedule_due(now: datetime | None = None) -> int:
    """One deletion job per termination whose notice has ended (the periodic task calls this)."""
    count = 0
    for termination in due(now):
        jobs.submit(
            JOB_KIND, payload={"termination_id": str(termination.pk)}, dedupe_key=f"termination:{termination.pk}"
        )
        count += 1
    return count


@jobs.handler(JOB_KIND)
def _terminate_job(job) -> dict:
    termination = Termination.objects.filter(pk=job.payload.get("termination_id")).first()
    if termination is None or termination.state in (TerminationState.CANCELLED, TerminationState.COMPLETED):
        return {"skipped": True}
    termination = execute(termination, Actor.system("offboarding job"))
    return {"state": termination.state}


def execute(termination: Termination, actor: Actor, *, now: datetime | None = None) -> Termination:
    """Carry out a termination whose notice has ended: shred the key, delete files and rows, certify."""
    now = now or timezone.now()
    if termination.state == TerminationState.COMPLETED:
        return termination
    if termination.state == TerminationState.CANCELLED:
        raise ValidationError({"termination": ["This termination was cancelled"]})
    if termination.state == TerminationState.SCHEDULED and termination.due_at > now:
        raise ValidationError(
            {"termination": [f"The notice period runs until {termination.due_at:%d %b %Y %H:%M} UTC"]}
        )
    org = Organization.objects.filter(pk=termination.organization_id).select_related("parent").first()
    if org is not None and org.children.filter(deleted_at__isnull=True).exists():
        raise ValidationError({"organization": ["Terminate or move its customer organisations first"]})

    # 1. Crypto-shredding first: from this commit on, no stored copy of its files can be read.
    with transaction.atomic():
        termination = Termination.objects.select_for_update().get(pk=termination.pk)
        if termination.state == TerminationState.SCHEDULED:
            termination.state = TerminationState.DELETING
            termination.started_at = now
            termination.executed_by_label = actor.label[:254]
            if org is not None:
                termination.notify = sorted({*termination.notify, *_owner_emails(org)})
        if org is not None:
            record = TenantKey.objects.filter(tenant_id=org.pk).first()
            if record is not None:
                termination.key_id, termination.master_key_id = _fingerprint(record), record.master_key_id
                keys.shred(org)
                if org.parent_id:
                    audit.record(
                        org.parent,
                        actor,
                        "organization.key_shredded",
                        obj=org,
                        changes={"key_id": [termination.key_id, None]},
                    )
        termination.save()

    if org is not None:
        # 2. The stored files: every row's, then whatever else lies under the organisation's folder.
        files, size = _delete_files(org)
        termination.files_deleted += files
        termination.bytes_deleted += size
        # 3. Every row, then the accounts that belonged to no one else, then the organisation.
        _secure_delete_on()
        with transaction.atomic():
            counts, users, tombstone = _delete_rows(org)
            for label, number in counts.items():
                termination.counts[label] = termination.counts.get(label, 0) + number
            termination.users_deleted += users
            if not get_user_model().objects.filter(pk=termination.requested_by_id).exists():
                termination.requested_by = None  # the requester's account went with the organisation
            termination.tombstone = tombstone
            termination.save()

    # 4. The certificate, kept on the platform-level row and sent to the owners.
    with transaction.atomic():
        termination.state = TerminationState.COMPLETED
        termination.completed_at = timezone.now()
        pdf_bytes = certificate_pdf(termination)
        termination.certificate_pdf = pdf_bytes
        termination.certificate_sha256 = hashlib.sha256(pdf_bytes).hexdigest()
        termination.save()
        summary = {
            "rows_deleted": [None, sum(termination.counts.values())],
            "files_deleted": [None, termination.files_deleted],
            "key_id": [termination.key_id or None, None],
            "certificate_sha256": [None, termination.certificate_sha256],
        }
        for trail in _surviving_trails(termination):
            audit.record(
                trail,
                actor,
                "organization.terminated",
                object_type="organization",
                object_id=str(termination.organization_id),
                changes=summary,
            )
        recipients = list(termination.notify)
        transaction.on_commit(lambda: _send_certificate(termination, recipients))
    _compact_sqlite()
    return termination


def run_due(actor: Actor, now: datetime | None = None) -> list[Termination]:
    """Carry out every termination whose notice has ended, in this process (the CLI)."""
    return [execute(termination, actor, now=now) for termination in list(due(now))]


def _fingerprint(record: TenantKey) -> str:
    try:
        plain = crypto.unwrap_with_any(
            bytes(record.wrapped), record.master_key_id, f"tenant:{record.tenant_id}".encode()
        )
        return crypto.key_id(plain)
    except Exception:  # a key that cannot be unwrapped is still identified by its wrapped form
        return hashlib.sha256(bytes(record.wrapped)).hexdigest()[:16]


def _delete_files(org: Organization) -> tuple[int, int]:
    files = size = 0
    for blob in Blob.objects.filter(tenant_id=org.pk).only("path", "size").iterator(chunk_size=500):
        if default_storage.exists(blob.path):
            default_storage.delete(blob.path)
            files += 1
            size += blob.size
    folder = str(org.pk)
    try:
        _, names = default_storage.listdir(folder)
    except (FileNotFoundError, NotImplementedError, OSError):
        names = []
    for name in names:  # files no row refers to (an upload cut off half-way)
        default_storage.delete(f"{folder}/{name}")
        files += 1
    if hasattr(default_storage, "path"):
        try:
            import os

            os.rmdir(default_storage.path(folder))
        except OSError:
            pass
    return files, size


def _delete_rows(org: Organization) -> tuple[dict[str, int], int, bool]:
    """Delete every row of the organisation; returns rows per table, accounts removed, tombstone kept."""
    User = get_user_model()
    solo_users = list(
        User.objects.filter(memberships__tenant_id=org.pk, is_staff=False, is_superuser=False)
        .exclude(memberships__tenant__in=Organization.objects.exclude(pk=org.pk))
        .values_list("pk", flat=True)
    )
    counts: dict[str, int] = {}

    def add(per_model: dict[str, int]) -> None:
        for label, number in per_model.items():
            if number:
                counts[label.lower()] = counts.get(label.lower(), 0) + number

    pending = [table for table in tenant_tables() if table.direct]
    for _attempt in range(len(pending) + 1):
        left = []
        for table in pending:
            try:
                with transaction.atomic():
                    _, per_model = table.rows(org).delete()
                add(per_model)
            except (ProtectedError, RestrictedError):
                left.append(table)
        if not left or len(left) == len(pending):
            pending = left
            break
        pending = left
    if pending:
        raise ValidationError(
            {"organization": [f"Rows that could not be deleted: {', '.join(t.label for t in pending)}"]}
        )
    _, per_model = User.objects.filter(pk__in=solo_users).delete()
    add(per_model)
    tombstone = False
    try:
        with transaction.atomic():
            _, per_model = Organization.objects.filter(pk=org.pk).delete()
        add(per_model)
    except (ProtectedError, RestrictedError):
        # Another organisation's records name it (a reseller's statement lines): keep the id, nothing else.
        Organization.objects.filter(pk=org.pk).update(
            name="Deleted organisation",
            brand_name="",
            brand_color="",
            suspension_note="",
            deleted_at=timezone.now(),
        )
        tombstone = True
    return counts, len(solo_users), tombstone


def _surviving_trails(termination: Termination) -> list[Organization]:
    trails = list(Organization.objects.filter(pk=termination.parent_id)) if termination.parent_id else []
    platform = Organization.objects.filter(kind=OrgKind.PLATFORM, deleted_at__isnull=True).first()
    if platform is not None and all(t.pk != platform.pk for t in trails):
        trails.append(platform)
    return trails


def _secure_delete_on() -> None:
    """On SQLite, freed pages are zeroed as rows go, so deleted text does not linger in the file."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA secure_delete = ON")


def _compact_sqlite() -> None:
    """Merge full-text indexes (dropping deleted terms) and fold the WAL back into the database."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%fts5%'")
        for (name,) in cursor.fetchall():
            cursor.execute(f'INSERT INTO "{name}"("{name}") VALUES (\'optimize\')')  # noqa: S608 (names from sqlite_master)
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


# --- certificate ----------------------------------------------------------------------------


def _when(value: datetime | None) -> str:
    return f"{value:%d %b %Y %H:%M:%S} UTC" if value else "—"


def certificate_pdf(termination: Termination) -> bytes:
    """The certificate of deletion, through the platform's one PDF renderer."""
    from octopushx.core import pdf

    header = pdf.Header(
        title="Certificate of deletion",
        organisation=termination.organization_name,
        subtitle=f"Certificate {termination.pk}",
        facts=[
            ("Organisation", f"{termination.organization_name} ({termination.organization_id})"),
            ("Notice given", f"{_when(termination.requested_at)} by {termination.requested_by_label}"),
            ("Notice period", f"{termination.notice_days} days, until {_when(termination.due_at)}"),
            ("Deleted", f"{_when(termination.started_at)} – {_when(termination.completed_at)}"),
            ("Carried out by", termination.executed_by_label or "—"),
            (
                "Data key destroyed",
                f"{termination.key_id or 'none held'} (wrapped by master key {termination.master_key_id or '—'})",
            ),
        ],
        footer=f"Issued {_when(termination.completed_at)}",
    )

    def build(styles):
        rows = sorted(termination.counts.items())
        story = [
            pdf.Paragraph(
                pdf.markup(
                    "The organisation's data key was destroyed first: every file encrypted under it, including any "
                    "copy left in a backup or an old storage version, can no longer be decrypted. Its stored files "
                    "and every database row it owned were then deleted, as listed below."
                ),
                styles.body,
            ),
            pdf.Spacer(1, 4),
            *pdf.data_table(
                styles,
                ["What", "Deleted"],
                [
                    (
                        "Stored files (recordings, imports, exports, logos)",
                        f"{termination.files_deleted} ({termination.bytes_deleted} bytes)",
                    ),
                    ("Member accounts that belonged to no other organisation", termination.users_deleted),
                    ("Database rows in all", sum(termination.counts.values())),
                ],
                numeric=[1],
            ),
            pdf.Spacer(1, 6),
            pdf.Paragraph(pdf.markup("Rows deleted by table"), styles.h2),
            *pdf.data_table(styles, ["Table", "Rows"], rows or [("(none)", 0)], numeric=[1]),
        ]
        if termination.tombstone:
            story.append(
                pdf.Paragraph(
                    pdf.markup(
                        "The organisation's id is kept, with no name or data, because its provider's billing "
                        "statements refer to it."
                    ),
                    styles.muted,
                )
            )
        story.append(
            pdf.Paragraph(
                pdf.markup(
                    "Database backups made before the deletion keep rows until they expire under the operator's "
                    "backup retention; their encrypted files cannot be read without the destroyed key."
                ),
                styles.muted,
            )
        )
        return story

    return pdf.render(header, build=build)


def _send(subject: str, body: str, recipients: list[str], attachment: tuple[str, bytes, str] | None = None) -> None:
    if not recipients:
        return
    try:
        message = EmailMessage(subject[:200], body, settings.DEFAULT_FROM_EMAIL, recipients)
        if attachment is not None:
            message.attach(*attachment)
        message.send()
    except Exception:  # the record and the audit trail are the truth; staff can download the certificate
        log.warning("could not email %s", subject, exc_info=True)


def _send_certificate(termination: Termination, recipients: list[str]) -> None:
    body = (
        f"{termination.organization_name} was deleted on {_when(termination.completed_at)}.\n\n"
        f"The certificate of deletion is attached (sha256 {termination.certificate_sha256}).\n"
    )
    _send(
        f"Certificate of deletion: {termination.organization_name}",
        body,
        recipients,
        (f"certificate-of-deletion-{termination.pk}.pdf", bytes(termination.certificate_pdf), "application/pdf"),
    )


# During notice an owner still reaches the offboarding page and these API routes.
suspension.register_open_paths(
    SUSPENSION_REASON,
    r"/settings/offboarding/.*",
    r"/api/v1/organizations/{org}/(export|termination|termination/cancel)",
)
