"""Retention policies, legal holds and the record of each purge run."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from octopushx.core.models import TenantModel


class RetentionPolicy(TenantModel):
    """How long one data class is kept in this tenant: ``days``, or kept when ``keep``."""

    data_class = models.CharField(max_length=40)
    keep = models.BooleanField(default=False)
    days = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        app_label = "shield"
        constraints = [models.UniqueConstraint(fields=["tenant", "data_class"], name="shield_one_policy_per_class")]

    def __str__(self) -> str:
        return f"{self.data_class}: {'keep' if self.keep else f'{self.days} days'}"


class HoldScope(models.TextChoices):
    TENANT = "tenant", "Whole organisation"
    CONTACT = "contact", "Contact"
    CALL = "call", "Call"


class LegalHold(TenantModel):
    """Overrides every retention policy for its scope until released."""

    scope = models.CharField(max_length=8, choices=HoldScope.choices)
    object_id = models.CharField(max_length=64, blank=True)
    reason = models.TextField()
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        app_label = "shield"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"hold on {self.scope} {self.object_id}".strip()


class RetentionRun(TenantModel):
    """One purge (or dry run) and what it removed per data class."""

    dry_run = models.BooleanField(default=False)
    counts = models.JSONField(default=dict, blank=True)
    held = models.BooleanField(default=False, help_text="A tenant-wide hold stopped the purge")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "shield"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"retention run {self.created_at:%Y-%m-%d}"
