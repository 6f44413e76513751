"""Cloud telephony's rows.

- ``CallFlow``: the provider-neutral definition of what happens to an incoming call (revised on every change).
- ``Presence``: a member's availability, and the line (phone number or SIP URI) their calls ring.
- ``ProviderAccount``: the organisation's connected Twilio account or Vonage application. The secrets
  live sealed in the call settings (``calls.services.credential``), the one credential store that the
  recording intake and its fetch job already read; this row holds the connection's state.
- ``PhoneNumber``: a number of the connected account, assigned to a flow.
- ``PhoneCall``: one call as the provider reported it (state, route, agent, contact), linked to the
  ``calls.Call`` record that the call log, the contact timeline and the analysis show.
- ``CallEvent``: every provider status callback, stored append-only; ``PhoneCall.state`` is derived from them.
- ``LineLimits``: the organisation's (or reseller's) own concurrent-call and monthly-minute caps.
- ``AudioPrompt``: an uploaded recording a greeting or a voicemail block plays (sealed like every file).
"""

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
    # Round robin's persisted pointer: ring-group block id → calls it has taken (advanced once per call).
    rotation = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="telephony_callflow_name_unique")]

    def __str__(self) -> str:
        return self.name


class AudioPrompt(TenantModel):
    """A recorded greeting the organisation uploaded, kept as a sealed 16-bit mono WAV a provider can play."""

    name = models.CharField(max_length=120)
    blob = models.ForeignKey("core.Blob", on_delete=models.CASCADE, related_name="+")
    duration_s = models.FloatField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="telephony_audioprompt_name_unique")]

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
    # The member's line: ring groups and click-to-call ring it (a SIP URI wins over a number).
    phone_number = models.CharField(max_length=20, blank=True, help_text="E.164, e.g. +447700900123")
    sip_uri = models.CharField(max_length=200, blank=True, help_text="sip:alice@example.sip.twilio.com")

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


class TelephonyProvider(models.TextChoices):
    TWILIO = "twilio", "Twilio"
    VONAGE = "vonage", "Vonage"


class AccountStatus(models.TextChoices):
    CONNECTED = "connected", "Connected"
    ERROR = "error", "Needs attention"  # the provider refused the credentials at the last check


class ProviderAccount(TenantModel):
    """A connected provider account (secrets sealed in the call settings, never here or in logs)."""

    provider = models.CharField(max_length=10, choices=TelephonyProvider.choices)
    account_id = models.CharField(max_length=64, help_text="Twilio Account SID or Vonage application id")
    status = models.CharField(max_length=10, choices=AccountStatus.choices, default=AccountStatus.CONNECTED)
    last_error = models.CharField(max_length=300, blank=True)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "provider"], name="telephony_account_one_per_provider")
        ]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} {self.account_id}"


class PhoneNumber(TenantModel):
    """A number of a connected account; calls to it run its flow (none: the caller hears it is not in use)."""

    account = models.ForeignKey(ProviderAccount, on_delete=models.CASCADE, related_name="numbers")
    provider = models.CharField(max_length=10, choices=TelephonyProvider.choices)
    number = models.CharField(max_length=20, help_text="E.164")
    provider_ref = models.CharField(max_length=64, blank=True, help_text="Twilio's PN… sid; Vonage: the number")
    friendly_name = models.CharField(max_length=120, blank=True)
    flow = models.ForeignKey(CallFlow, null=True, blank=True, on_delete=models.SET_NULL, related_name="numbers")
    webhooks_set_at = models.DateTimeField(null=True, blank=True, help_text="When the provider took our URLs")
    webhook_error = models.CharField(max_length=300, blank=True, help_text="Why the provider refused our URLs")

    class Meta:
        ordering = ["number"]
        constraints = [
            # A provider's number reaches one organisation: the voice webhook finds the tenant by it.
            models.UniqueConstraint(fields=["provider", "number"], name="telephony_number_unique"),
        ]

    def __str__(self) -> str:
        return self.number


class CallState(models.TextChoices):
    """Provider-neutral call states; the last four are terminal and win over any late live state."""

    QUEUED = "queued", "Queued"
    RINGING = "ringing", "Ringing"
    IN_PROGRESS = "in-progress", "In progress"
    COMPLETED = "completed", "Completed"
    BUSY = "busy", "Busy"
    NO_ANSWER = "no-answer", "No answer"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"


TERMINAL_STATES = frozenset(
    {CallState.COMPLETED, CallState.BUSY, CallState.NO_ANSWER, CallState.FAILED, CallState.CANCELED}
)


class PhoneCall(TenantModel):
    """One call through a provider: what the provider reported, and which blocks of which flow it passed."""

    provider = models.CharField(max_length=10, choices=TelephonyProvider.choices)
    provider_call_id = models.CharField(max_length=120, help_text="Twilio CallSid or Vonage call uuid")
    # Vonage's conversation uuid: recordings and the legs a connect action adds report it, not the call uuid.
    conversation_id = models.CharField(max_length=120, blank=True, default="")
    direction = models.CharField(max_length=8, default="inbound")  # calls.models.Direction values
    from_number = models.CharField(max_length=20, blank=True)
    to_number = models.CharField(max_length=20, blank=True)
    number = models.ForeignKey(PhoneNumber, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    flow = models.ForeignKey(CallFlow, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    flow_revision = models.PositiveIntegerField(null=True, blank=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    contact = models.ForeignKey("crm.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    call = models.OneToOneField(
        "calls.Call", null=True, blank=True, on_delete=models.SET_NULL, related_name="phone_call"
    )
    state = models.CharField(max_length=12, choices=CallState.choices, default=CallState.QUEUED)
    state_at = models.DateTimeField(null=True, blank=True, help_text="The provider's time of the state's event")
    # [{"block": "menu", "at": iso, "what": "pressed 1"}, ...] in the order the call passed them
    route = models.JSONField(default=list, blank=True)
    ringing_users = models.JSONField(default=list, blank=True, help_text="Ids of the members ringing now")
    started_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    duration = models.PositiveIntegerField(default=0, help_text="Seconds, as the provider billed them")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "provider", "provider_call_id"], name="telephony_phonecall_unique"
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "state"]),
            models.Index(fields=["tenant", "agent", "state"]),
            models.Index(fields=["tenant", "provider", "conversation_id"], name="telephony_phonecall_conv"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.provider_call_id}"

    @property
    def is_live(self) -> bool:
        return self.state not in TERMINAL_STATES


class CallEvent(TenantModel):
    """One status callback as received (append-only). ``phone_call`` is empty for an unknown call id."""

    phone_call = models.ForeignKey(PhoneCall, null=True, blank=True, on_delete=models.CASCADE, related_name="events")
    provider = models.CharField(max_length=10, choices=TelephonyProvider.choices)
    provider_call_id = models.CharField(max_length=120)
    status = models.CharField(max_length=20, help_text="Provider-neutral (CallState) or the raw status")
    raw_status = models.CharField(max_length=40, blank=True)
    occurred_at = models.DateTimeField(null=True, blank=True, help_text="The provider's timestamp")
    sequence = models.IntegerField(null=True, blank=True, help_text="Twilio's SequenceNumber")
    dedupe_key = models.CharField(max_length=300, help_text="provider|call id|status|timestamp")
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [models.UniqueConstraint(fields=["tenant", "dedupe_key"], name="telephony_callevent_dedupe")]
        indexes = [models.Index(fields=["tenant", "provider", "provider_call_id"])]

    def __str__(self) -> str:
        return f"{self.provider_call_id} {self.status}"


class LineLimits(TenantModel):
    """An organisation's own caps on its phone line (a reseller's: on all its customers together).

    Used where the plan sets none (``telephony.limits``). 0 means unlimited.
    """

    max_concurrent_calls = models.PositiveIntegerField(default=0, help_text="Calls at once; 0: unlimited")
    monthly_minutes = models.PositiveIntegerField(default=0, help_text="Minutes a month; 0: unlimited")
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="telephony_linelimits_one_per_tenant")]

    def __str__(self) -> str:
        return f"{self.max_concurrent_calls} calls, {self.monthly_minutes} min"
