"""Security alerts raised from the audit trail, acknowledged by an admin or auditor."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from octopushx.core.models import TenantModel


class AlertKind(models.TextChoices):
    CONCURRENT_IPS = "concurrent_ips", "Account active from two distant networks at once"
    FAILED_BURST = "failed_burst", "Burst of failed sign-ins"
    LARGE_EXPORT = "large_export", "Export far above the user's usual volume"
    ROLE_ESCALATION = "role_escalation", "Role escalation"
    ACCOUNT_LOCKED = "account_locked", "Sign-ins to an account paused after failures from several addresses"


class SecurityAlert(TenantModel):
    kind = models.CharField(max_length=24, choices=AlertKind.choices)
    subject_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    summary = models.CharField(max_length=300)
    details = models.JSONField(default=dict, blank=True)
    audit_seq = models.PositiveBigIntegerField(null=True, blank=True)
    dedupe_key = models.CharField(max_length=200)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledgement_note = models.TextField(blank=True)

    class Meta:
        app_label = "shield"
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["tenant", "dedupe_key"], name="shield_alert_dedupe")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.summary}"

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None
