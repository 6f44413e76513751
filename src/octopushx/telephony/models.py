"""Call flows (the provider-neutral definition, revised on every change) and agents' presence."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from octopushx.core.models import TenantModel

# "Busy because on a call" with no hang-up event for this long is taken as a lost event.
CALL_PRESENCE_TIMEOUT = timedelta(hours=2)


class CallFlow(TenantModel):
    """What happens to an incoming call: a short list of blocks (``telephony.flows.Flow`` as JSON)."""

    name = models.CharField(max_length=120)
    definition = models.JSONField(default=dict)
    is_active = models.BooleanField(default=True)
    revision = models.PositiveIntegerField(default=1, help_text="Raised on every change of the definition")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="telephony_callflow_name_unique")]

    def __str__(self) -> str:
        return self.name


class PresenceStatus(models.TextChoices):
    AVAILABLE = "available", "Available"
    BUSY = "busy", "Busy"
    AWAY = "away", "Away"
    OFFLINE = "offline", "Offline"


class PresenceSource(models.TextChoices):
    MANUAL = "manual", "Set by the agent"
    CALL = "call", "On a call"
    TIMEOUT = "timeout", "Reconciled after a time-out"


class Presence(TenantModel):
    """One member's presence in one organisation.

    ``status`` is what the agent chose, except while a call is live: then it reads ``busy`` with
    ``set_by=call``, and ``manual_status`` keeps the choice to return to at hang-up.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=PresenceStatus.choices, default=PresenceStatus.OFFLINE)
    manual_status = models.CharField(max_length=10, choices=PresenceStatus.choices, default=PresenceStatus.OFFLINE)
    set_by = models.CharField(max_length=10, choices=PresenceSource.choices, default=PresenceSource.MANUAL)
    call_ref = models.CharField(max_length=120, blank=True, help_text="The provider's id of the live call")
    in_call_since = models.DateTimeField(null=True, blank=True)
    last_call_ended_at = models.DateTimeField(null=True, blank=True, help_text="Longest-idle routing reads it")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "user"], name="telephony_presence_unique")]
        indexes = [models.Index(fields=["tenant", "status"])]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.status}"

    def call_expired(self, now=None) -> bool:
        """Busy from a call whose hang-up never arrived within ``CALL_PRESENCE_TIMEOUT``."""
        if self.set_by != PresenceSource.CALL or self.in_call_since is None:
            return False
        return (now or timezone.now()) - self.in_call_since >= CALL_PRESENCE_TIMEOUT

    def effective_status(self, now=None) -> str:
        """What routing sees: a stale call no longer holds the agent busy."""
        return self.manual_status if self.call_expired(now) else self.status
