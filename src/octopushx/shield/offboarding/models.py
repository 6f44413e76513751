"""The platform-level record of an organisation's termination; it outlives the organisation.

It holds no foreign key to the organisation on purpose: the row, its counts and the
certificate of deletion must survive the deletion of everything the organisation owned.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class TerminationState(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled (notice period)"
    CANCELLED = "cancelled", "Cancelled"
    DELETING = "deleting", "Deleting"
    COMPLETED = "completed", "Completed"


class Termination(models.Model):
    """A request to terminate an organisation: notice period, then deletion with a certificate."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization_id = models.UUIDField(db_index=True)
    organization_name = models.CharField(max_length=200)
    organization_kind = models.CharField(max_length=16)
    parent_id = models.UUIDField(null=True, blank=True)
    state = models.CharField(max_length=12, choices=TerminationState.choices, default=TerminationState.SCHEDULED)
    notice_days = models.PositiveSmallIntegerField()
    reason = models.TextField(blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by_label = models.CharField(max_length=254)
    due_at = models.DateTimeField(db_index=True)
    # Whether the organisation was already suspended for another reason when notice was given:
    # then cancelling leaves that suspension in place.
    was_suspended = models.BooleanField(default=False)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by_label = models.CharField(max_length=254, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    executed_by_label = models.CharField(max_length=254, blank=True)
    key_id = models.CharField(max_length=16, blank=True, help_text="Fingerprint of the destroyed data key")
    master_key_id = models.CharField(max_length=16, blank=True, help_text="The master key that wrapped it")
    counts = models.JSONField(default=dict, blank=True, help_text="Rows deleted per table")
    files_deleted = models.PositiveIntegerField(default=0)
    bytes_deleted = models.PositiveBigIntegerField(default=0)
    users_deleted = models.PositiveIntegerField(default=0)
    tombstone = models.BooleanField(default=False, help_text="The organisation row was kept, scrubbed")
    notify = models.JSONField(default=list, blank=True, help_text="Who receives the certificate")
    certificate_pdf = models.BinaryField(blank=True, default=b"")
    certificate_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization_id"],
                condition=models.Q(state__in=["scheduled", "deleting"]),
                name="one_open_termination_per_organization",
            )
        ]

    def __str__(self) -> str:
        return f"termination of {self.organization_name} ({self.state})"

    @property
    def is_open(self) -> bool:
        return self.state in (TerminationState.SCHEDULED, TerminationState.DELETING)
