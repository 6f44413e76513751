"""Calls: a recording with its parties, its processing state and its versioned AI results."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from octopushx.core.models import TenantModel


class Direction(models.TextChoices):
    INBOUND = "inbound", "Inbound"
    OUTBOUND = "outbound", "Outbound"


class Provider(models.TextChoices):
    UPLOAD = "upload", "Upload"
    TWILIO = "twilio", "Twilio"
    VONAGE = "vonage", "Vonage"
    GENERIC = "generic", "Webhook"


class CallStatus(models.TextChoices):
    FETCHING = "fetching", "Fetching recording"
    QUEUED = "queued", "Queued"
    PROCESSING = "processing", "Processing"
    ANALYSED = "analysed", "Analysed"
    SKIPPED = "skipped", "Not analysed"
    FAILED = "failed", "Failed"
    OVER_QUOTA = "over_quota", "Over quota"  # waits for minutes (an upgrade, a pack, the next period)
    LIVE = "live", "On the line"  # a cloud-telephony call still ringing or talking; its recording comes later
    NO_RECORDING = "no_recording", "No recording"  # ended without a recording (missed, abandoned, not recorded)


class CallOutcome(models.TextChoices):
    """How a cloud-telephony call ended (blank for uploads, and while the call is live)."""

    ANSWERED = "answered", "Answered"
    MISSED = "missed", "Missed"
    ABANDONED = "abandoned", "Abandoned"  # the caller hung up unanswered within 15 s
    VOICEMAIL = "voicemail", "Voicemail"
    FAILED = "failed", "Failed"  # busy line, no such number, provider error
    REFUSED = "refused", "Refused"  # over the organisation's call limits


class ReviewState(models.TextChoices):
    UNREVIEWED = "unreviewed", "Unreviewed"
    APPROVED = "approved", "Approved"
    CORRECTED = "corrected", "Corrected"


class CallSettings(TenantModel):
    """A tenant's call settings: limits, whether originals are kept, provider credentials (sealed)."""

    keep_original = models.BooleanField(default=False, help_text="Keep the unredacted recording and transcript")
    max_upload_mb = models.PositiveIntegerField(default=512)
    max_duration_minutes = models.PositiveIntegerField(default=240)
    twilio_account_sid = models.CharField(max_length=64, blank=True)
    twilio_auth_token_sealed = models.BinaryField(null=True, blank=True)
    vonage_signature_secret_sealed = models.BinaryField(null=True, blank=True)
    vonage_application_id = models.CharField(max_length=64, blank=True)
    vonage_private_key_sealed = models.BinaryField(null=True, blank=True)
    webhook_secret_sealed = models.BinaryField(null=True, blank=True)
    # Cloud telephony's REST access: a Twilio API key (used instead of the auth token for REST calls;
    # webhooks stay signed with the auth token) and the Vonage account's API key (numbers, applications).
    twilio_api_key_sid = models.CharField(max_length=64, blank=True)
    twilio_api_key_secret_sealed = models.BinaryField(null=True, blank=True)
    vonage_api_key = models.CharField(max_length=64, blank=True)
    vonage_api_secret_sealed = models.BinaryField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="calls_settings_one_per_tenant")]

    def __str__(self) -> str:
        return f"call settings of {self.tenant_id}"


class Call(TenantModel):
    """One recorded call; the analysis lives in ``CallAnalysisResult`` rows (``current`` is the latest)."""

    direction = models.CharField(max_length=8, choices=Direction.choices, default=Direction.INBOUND)
    from_number = models.CharField(max_length=20, blank=True)
    to_number = models.CharField(max_length=20, blank=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    contact = models.ForeignKey("crm.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="calls")
    company = models.ForeignKey("crm.Company", null=True, blank=True, on_delete=models.SET_NULL, related_name="calls")
    started_at = models.DateTimeField(null=True, blank=True, db_index=True)
    duration = models.FloatField(default=0)
    provider = models.CharField(max_length=10, choices=Provider.choices, default=Provider.UPLOAD)
    external_id = models.CharField(max_length=120, blank=True)
    recording_url = models.URLField(max_length=1000, blank=True)
    status = models.CharField(max_length=12, choices=CallStatus.choices, default=CallStatus.QUEUED, db_index=True)
    outcome = models.CharField(max_length=10, choices=CallOutcome.choices, blank=True, default="")
    failure_reason = models.CharField(max_length=500, blank=True)
    skip_reason = models.CharField(max_length=300, blank=True)
    filename = models.CharField(max_length=255, blank=True)
    recording = models.ForeignKey("core.Blob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    redacted = models.ForeignKey("core.Blob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    channel_roles = models.CharField(max_length=40, blank=True, default="agent,customer")
    peaks = models.JSONField(default=list, blank=True)
    current = models.ForeignKey(
        "CallAnalysisResult", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Copies of the current result's headline values, for list filters and the contact timeline.
    summary = models.TextField(blank=True)
    sentiment = models.FloatField(null=True, blank=True)
    review_state = models.CharField(max_length=10, choices=ReviewState.choices, blank=True, default="")
    # The current result's per-call metrics and keywords (``headline_metrics``), read by reports
    # without loading the whole analysis (its transcript) of every call in a period.
    metrics = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "provider", "external_id"],
                condition=~Q(external_id=""),
                name="calls_one_call_per_provider_id",
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "-created_at"]),
            models.Index(fields=["tenant", "agent"]),
            models.Index(fields=["tenant", "contact"]),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def customer_number(self) -> str:
        return self.from_number if self.direction == Direction.INBOUND else self.to_number

    @property
    def title(self) -> str:
        """Direction, contact or number, and time; built by ``services.presentation.call_title``."""
        from octopushx.calls.services.presentation import call_title

        return call_title(self)

    @property
    def roles(self) -> tuple[str, ...] | None:
        """The channel roles for the analysis; ``None`` (empty) means treat the file as mono."""
        parts = tuple(p for p in self.channel_roles.split(",") if p)
        return parts or None


# headline key -> path under the analysis's insights.metrics; per-role ones are empty when the speaker
# roles are unknown (speakers.roles_known false), so team figures never mix "speaker1" with "agent"
HEADLINE_METRICS = {
    "agent_talk_ratio": ("talk_ratio.agent", True),
    "customer_talk_ratio": ("talk_ratio.customer", True),
    "agent_talk_time": ("talk_time.agent", True),
    "agent_longest_monologue": ("longest_monologue_by_speaker.agent", True),
    "customer_longest_story": ("longest_monologue_by_speaker.customer", True),
    "patience": ("patience", True),
    "agent_questions": ("questions.agent", True),
    "agent_interruptions": ("interruptions.agent", True),
    "customer_interruptions": ("interruptions.customer", True),
    "agent_words_per_minute": ("words_per_minute.agent", True),
    "turns": ("turns", False),
    "silence_ratio": ("silence_ratio", False),
    "duration": ("duration", False),
}


def headline_metrics(data: dict | None) -> dict:
    """``Call.metrics`` for an analysis result's ``data``: the numbers it has, ``roles_known`` and the keywords."""
    data = data or {}
    insights = data.get("insights") or {}
    found = insights.get("metrics") or {}
    roles_known = (data.get("speakers") or {}).get("roles_known", True) is not False
    out: dict = {"roles_known": roles_known, "analysed": bool(found)}
    for key, (path, per_role) in HEADLINE_METRICS.items():
        value = found
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, int | float) and not (per_role and not roles_known):
            out[key] = value  # absent, not null: SQLite reads a JSON null as the text 'null' (0 as a number)
    out["keywords"] = sorted({k.lower() for k in insights.get("keywords") or [] if isinstance(k, str)})
    return out


class CallAnalysisResult(TenantModel):
    """One analysis run of a call, kept forever: reprocessing adds a run, never overwrites."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="results")
    run = models.PositiveIntegerField()
    job_id = models.UUIDField(null=True, blank=True)
    pipeline_version = models.CharField(max_length=40)
    model = models.CharField(max_length=200)
    model_version = models.CharField(max_length=100, blank=True)
    analysis_settings = models.JSONField(default=dict)
    provenance = models.JSONField(default=dict)
    data = models.JSONField(default=dict, help_text="CallAnalysis.to_dict() without the unredacted transcript")
    original = models.JSONField(null=True, blank=True, help_text="Unredacted utterances, when the tenant keeps them")
    review_state = models.CharField(max_length=10, choices=ReviewState.choices, default=ReviewState.UNREVIEWED)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    corrections = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-run"]
        constraints = [models.UniqueConstraint(fields=["call", "run"], name="calls_one_result_per_run")]

    def __str__(self) -> str:
        return f"analysis #{self.run} of call {self.call_id}"


class Utterance(TenantModel):
    """One line of a call's current transcript: the row the full-text index points at."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="lines")
    result = models.ForeignKey(CallAnalysisResult, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    speaker = models.CharField(max_length=10)
    start = models.FloatField()
    end = models.FloatField()
    text = models.TextField()
    sentiment = models.FloatField(default=0)

    class Meta:
        ordering = ["call", "position"]
        indexes = [models.Index(fields=["tenant", "call"])]

    def __str__(self) -> str:
        return f"{self.speaker} {self.start:.1f}s"


class TrackerSide(models.TextChoices):
    ANY = "any", "Either side"
    AGENT = "agent", "Agent"
    CUSTOMER = "customer", "Customer"


class Tracker(TenantModel):
    """What managers listen for: a named set of words and phrases, optionally on one side of the call."""

    name = models.CharField(max_length=120)
    description = models.CharField(max_length=300, blank=True)
    phrases = models.JSONField(default=list, help_text="Words and phrases; simple variants are matched too")
    side = models.CharField(max_length=10, choices=TrackerSide.choices, default=TrackerSide.ANY)
    is_active = models.BooleanField(default=True)
    revision = models.PositiveIntegerField(default=1, help_text="Raised on every change; past calls are re-evaluated")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="calls_tracker_name_unique")]

    def __str__(self) -> str:
        return self.name


class TrackerHit(TenantModel):
    """One place in a call's current transcript where a tracker's phrase was said."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="tracker_hits")
    tracker = models.ForeignKey(Tracker, on_delete=models.CASCADE, related_name="hits")
    phrase = models.CharField(max_length=200, help_text="The tracker's phrase that matched")
    speaker = models.CharField(max_length=10)
    start = models.FloatField()
    position = models.PositiveIntegerField(help_text="The utterance's position in the transcript")

    class Meta:
        ordering = ["call", "start"]
        indexes = [models.Index(fields=["tenant", "tracker", "call"]), models.Index(fields=["tenant", "call"])]

    def __str__(self) -> str:
        return f"{self.tracker_id} at {self.start:.1f}s"


class Scorecard(TenantModel):
    """A QA scorecard: sections of questions with points per answer (``calls.scoring.Definition``)
    and which calls it applies to. ``revision`` rises on every change of the questions; each score
    keeps the definition it was filled against."""

    name = models.CharField(max_length=120)
    description = models.CharField(max_length=500, blank=True)
    is_active = models.BooleanField(default=True)
    definition = models.JSONField(default=dict)
    # {"team_ids": [...], "direction": "" | "inbound" | "outbound", "tracker_ids": [...]}; empty = every call
    applies_to = models.JSONField(default=dict, blank=True)
    revision = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # deleted scorecards are hidden but kept: their submitted scores stay in the reports
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "name"], condition=Q(deleted_at__isnull=True), name="calls_scorecard_name_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name


class ScoreState(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    DISPUTED = "disputed", "Disputed"
    FINAL = "final", "Final"


# the states that count in reports (a draft is a reviewer's work in progress)
COUNTED_STATES = (ScoreState.SUBMITTED, ScoreState.ACKNOWLEDGED, ScoreState.DISPUTED, ScoreState.FINAL)


class CallScore(TenantModel):
    """One call scored against one scorecard: the answers (each with its AI suggestion and evidence),
    the result, and where it is in review (draft → submitted → acknowledged | disputed → final)."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="scores")
    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="scores")
    scorecard_revision = models.PositiveIntegerField()
    definition = models.JSONField(help_text="The scorecard's definition when the call was scored")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(max_length=12, choices=ScoreState.choices, default=ScoreState.DRAFT)
    # {question id: {value, skipped, points, max, ai_suggested, suggestion: {value, source, reason, evidence}, comment}}
    answers = models.JSONField(default=dict)
    score = models.FloatField(default=0)
    max_score = models.FloatField(default=0)
    percent = models.FloatField(null=True, blank=True)
    failed = models.BooleanField(default=False)
    fail_reasons = models.JSONField(default=list, blank=True)
    comment = models.TextField(blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    finalised_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-updated_at"]
        constraints = [models.UniqueConstraint(fields=["call", "scorecard"], name="calls_one_score_per_scorecard")]
        indexes = [
            models.Index(fields=["tenant", "state", "submitted_at"]),
            models.Index(fields=["tenant", "agent", "submitted_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.scorecard_id} on {self.call_id}"


class ScoreDispute(TenantModel):
    """The agent's objection to one answer of a submitted score, and the reviewer's resolution."""

    call_score = models.ForeignKey(CallScore, on_delete=models.CASCADE, related_name="disputes")
    question_id = models.CharField(max_length=40)
    comment = models.TextField()
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    old_value = models.CharField(max_length=40, blank=True)
    new_value = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"dispute of {self.question_id} on {self.call_score_id}"


class ModelSuggestionState(models.TextChoices):
    QUEUED = "queued", "Asking the language model"
    DONE = "done", "Answered"
    FAILED = "failed", "Did not answer"


class ModelSuggestions(TenantModel):
    """The language model's suggested answers for one call on one scorecard (its questions whose
    suggestion source is ``llm``), computed in a background job and merged into the AI suggestions."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="model_suggestions")
    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="model_suggestions")
    scorecard_revision = models.PositiveIntegerField()
    result_id = models.UUIDField(null=True, blank=True, help_text="The analysis run the transcript came from")
    state = models.CharField(max_length=8, choices=ModelSuggestionState.choices, default=ModelSuggestionState.QUEUED)
    model = models.CharField(max_length=200, blank=True)
    # {question id: {value, source: "llm", reason, model, evidence: [line…]}}
    suggestions = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)
    job_id = models.UUIDField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["call", "scorecard"], name="calls_one_model_suggestion_per_scorecard")
        ]

    def __str__(self) -> str:
        return f"model suggestions of {self.scorecard_id} on {self.call_id}"
