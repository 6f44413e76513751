"""What the calls API answers: one schema per shape, so a client generated from
`/api/v1/openapi.json` gets typed calls, transcripts, insights and review state.

The builders in :mod:`octopushx.calls.api` (`call_summary`, `result_info`, `call_detail`)
still make the JSON; these schemas describe it key for key and in the same order, so the answers
are the ones clients had before the schemas existed. Three things keep them exact:

- instants are the strings the builders format (`isoformat()`, `+00:00`), documented as
  `date-time`: pydantic would rewrite them as `Z` with milliseconds;
- numbers stored in an analysis (`Number`) keep their JSON type: `3` stays `3`;
- routes that answer a stored analysis are declared with `exclude_unset=True`, so a key that
  an older result (or a corrected action item) does not have is left out rather than invented.

`tests/calls/test_response_schemas.py` compares every schema here with the analysis dataclasses
(`octopushx.intelligence.results`) and every answer with its builder's dict.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from ninja import Schema
from pydantic import Field, WithJsonSchema

from octopushx.calls.models import CallOutcome, CallStatus, Direction, Provider, ReviewState

# A JSON number as stored (an int stays an int); documented as `number`.
Number = Annotated[int | float, WithJsonSchema({"type": "number"})]
# An instant as the API has always written it: ISO 8601 with the offset (`+00:00`).
Instant = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]

CallStatusValue = Literal[tuple(CallStatus.values)]  # type: ignore[valid-type]
DirectionValue = Literal[tuple(Direction.values)]  # type: ignore[valid-type]
ProviderValue = Literal[tuple(Provider.values)]  # type: ignore[valid-type]
ReviewStateValue = Literal[tuple(ReviewState.values)]  # type: ignore[valid-type]
OutcomeValue = Literal[tuple(CallOutcome.values)]  # type: ignore[valid-type]

SPEAKER = "`agent` or `customer`; `speaker1`/`speaker2` when two voices were told apart but not their roles; `unknown` when not even that"  # noqa: E501


# --- people and links ------------------------------------------------------------------


class CallPersonOut(Schema):
    """A member of the organisation (the call's agent, a reviewer)."""

    id: UUID
    email: str
    name: str = Field(description="The display name, else the email")


class CallContactOut(Schema):
    """The CRM contact a call is linked to."""

    id: UUID
    name: str


# --- a call ----------------------------------------------------------------------------


class CallSummaryOut(Schema):
    """A call as lists show it: parties, status and the headline of its current analysis."""

    id: UUID
    status: CallStatusValue
    outcome: OutcomeValue | None = Field(
        None, description="How a cloud-telephony call ended (answered, missed, …); null for uploads and live calls"
    )
    failure_reason: str = Field(description="Why processing failed (status failed), else empty")
    skip_reason: str = Field(description="Why the call was not analysed (status skipped), else empty")
    direction: DirectionValue
    from_number: str
    to_number: str
    agent: CallPersonOut | None
    contact: CallContactOut | None
    company_id: UUID | None
    started_at: Instant | None
    duration: float = Field(description="Seconds")
    provider: ProviderValue
    external_id: str = Field(description="The provider's id of the call, if any")
    created_at: Instant
    summary: str = Field(description="The current analysis's summary (as corrected)")
    sentiment: float | None = Field(description="Overall sentiment, -1 (negative) .. 1 (positive)")
    review_state: ReviewStateValue | None = Field(description="Null until the call has an analysis")
    label: str | None = Field(description='"Unreviewed AI output" while no person approved or corrected it')


class CallPage(Schema):
    items: list[CallSummaryOut]
    next: str | None = Field(description="Cursor of the next page; null on the last")


# --- one analysis run ------------------------------------------------------------------


class LLMSettingsOut(Schema):
    """The summary model's endpoint (never its key)."""

    url: str
    model: str
    timeout: float
    retries: int | None = Field(None, description="Further tries after an answer that is not valid JSON")


class AnalysisSettingsOut(Schema):
    """The pipeline settings a run used (`AnalysisSettings.public()`). Runs stored by older
    pipeline versions may lack newer keys; a missing key is left out of the answer."""

    model: str = "tiny.en"
    device: str = "cpu"
    compute_type: str = "int8"
    beam_size: int = 5
    cpu_threads: int = 0
    num_workers: int = 1
    vad_filter: bool = True
    language: str | None = "en"
    word_timestamps: bool = True
    temperatures: list[Number] = Field(default_factory=lambda: [0.0])
    max_duration_seconds: Number = 14400.0
    asr_window_seconds: Number = 300.0
    redact: bool = True
    keep_original: bool = False
    summary_sentences: int = 3
    keyword_count: int = 10
    llm: LLMSettingsOut | None = None


class CorrectionOut(Schema):
    """One correction of a run: who, when, and each changed part as `[before, after]`."""

    by: str = Field(description="Who corrected it, as the audit log names them")
    by_id: UUID | None
    at: Instant
    changes: dict[str, tuple[Any, Any]] = Field(
        description=(
            "Keyed by `summary` (text), `action_items` (a list of {text, owner, due}) or "
            "`utterances.<index>` ({speaker, text}); each value is `[before, after]`"
        )
    )


class AnalysisRunOut(Schema):
    """One analysis run of a call: which pipeline and model made it, and its review."""

    id: UUID
    run: int = Field(description="1 for the first analysis, then one more per retry or reprocessing")
    created_at: Instant
    pipeline_version: str
    model: str = Field(description="The speech-to-text model")
    model_version: str
    settings: AnalysisSettingsOut
    diarisation: str | None = Field(description="How speakers were separated: channels, clustering or single-speaker")
    review_state: ReviewStateValue
    reviewed_by: CallPersonOut | None
    reviewed_at: Instant | None
    corrections: list[CorrectionOut]


class AnalysisRunListItemOut(AnalysisRunOut):
    current: bool = Field(description="Whether this run is the one the call shows")


class AnalysisRunList(Schema):
    items: list[AnalysisRunListItemOut]


# --- transcript ------------------------------------------------------------------------


class TranscriptLineOut(Schema):
    index: int = Field(description="The line's position; corrections and search refer to it")
    speaker: str = Field(description=SPEAKER)
    start: Number = Field(description="Seconds from the start of the recording")
    end: Number
    text: str
    sentiment: Number = Field(description="-1 (negative) .. 1 (positive)")


class TranscriptOut(Schema):
    redacted: bool = Field(description="False only for the original transcript (`original=true`)")
    utterances: list[TranscriptLineOut]


# --- insights --------------------------------------------------------------------------


class ActionItemOut(Schema):
    """Something a party committed to or was asked to do. `start` and `speaker` say where it
    was said; action items a person corrected have neither."""

    text: str
    owner: str = Field(description="agent, customer or unknown")
    due: str | None = Field(description="The due phrase as spoken, e.g. 'by Friday'")
    start: Number | None = None
    speaker: str | None = None
    verb_phrase: str | None = Field(None, description="What is to be done, in the third person")
    due_date: str | None = Field(None, description="The date the due phrase means from the call's time (YYYY-MM-DD)")
    kind: str | None = Field(None, description="commitment or request")


class SentimentPointOut(Schema):
    time: Number = Field(description="Seconds")
    speaker: str
    score: Number = Field(description="The speaker's rolling mean score, -1 .. 1")


class SentimentOut(Schema):
    """Overall and per-speaker sentiment (means weighted by words) and its timeline."""

    overall: Number
    by_speaker: dict[str, Number]
    timeline: list[SentimentPointOut]


class LongestMonologueOut(Schema):
    """The call's longest run of one speaker; empty when the metrics had no speech to measure."""

    speaker: str | None = None
    seconds: Number = 0.0
    start: Number = 0.0


class CallMetricsOut(Schema):
    """Conversation metrics: times in seconds, ratios as fractions (0..1), per-speaker values keyed
    by speaker label."""

    duration: Number
    talk_ratio: dict[str, Number]
    talk_time: dict[str, Number]
    longest_monologue: LongestMonologueOut
    longest_monologue_by_speaker: dict[str, Number]
    interruptions: dict[str, int] = Field(description="Times each speaker cut in")
    questions: dict[str, int]
    silence_ratio: Number
    words_per_minute: dict[str, Number]
    patience: Number | None = Field(description="The agent's mean pause before replying to the customer")
    turns: int


class TrackerHitOut(Schema):
    """Where a tracker's phrase was said in the call."""

    tracker: str = Field(description="The tracker's name")
    tracker_id: UUID
    phrase: str = Field(description="The tracker's phrase that matched")
    speaker: str
    start: float = Field(description="Seconds from the start of the recording")


class CallInsightsOut(Schema):
    """Everything derived from the (redacted) transcript."""

    summary: str
    summary_source: str = Field(description='"extractive" or "llm:<model>"')
    action_items: list[ActionItemOut]
    keywords: list[str]
    topics: list[str]
    sentiment: SentimentOut
    metrics: CallMetricsOut
    trackers: list[TrackerHitOut] = Field(default_factory=list, description="Tracker phrases said in the call")


class RedactionSpanOut(Schema):
    kind: str = Field(description="What was redacted: CARD, CVV, EMAIL, PHONE…")
    speaker: str
    start: Number
    end: Number


class RedactionOut(Schema):
    counts: dict[str, int] = Field(description="Redacted spans per kind")
    spans: list[RedactionSpanOut]


class SpeakersOut(Schema):
    """How the speakers were told apart and how far their agent/customer roles can be trusted."""

    method: str = Field(description="channels, clustering or single-speaker")
    roles_known: bool = Field(description="False when the labels are speaker1/speaker2 or unknown")
    role_source: str = Field(description="channels, greeting, phrases, order… or none")
    confidence: Number | None = Field(description="Of the roles, 0..1")
    silhouette: Number | None = Field(description="Separation of the two voices (clustering only)")


class CallDetailOut(CallSummaryOut):
    """A call with its current analysis: transcript, insights, redactions and review.
    `analysis`, `transcript`, `insights`, `redaction` and `speakers` are null until
    the call is analysed."""

    channel_roles: str = Field(description='The recording\'s channels, e.g. "agent,customer"; "mono"')
    has_original_audio: bool
    has_redacted_audio: bool
    peaks: list[Number] = Field(description="Loudest sample per 50 ms of the recording (0..1), for a waveform")
    analysis: AnalysisRunOut | None
    transcript: TranscriptOut | None
    insights: CallInsightsOut | None
    redaction: RedactionOut | None
    warnings: list[str]
    speakers: SpeakersOut | None


# --- search ----------------------------------------------------------------------------


class TranscriptHitOut(Schema):
    call_id: UUID
    call: str = Field(description="The call's title")
    index: int = Field(description="The line's position in the transcript")
    speaker: str
    start: float
    end: float
    text: str
    highlights: list[str] = Field(description="The pieces of the text that matched")


class TranscriptSearchOut(Schema):
    items: list[TranscriptHitOut]
    query: str


# --- settings --------------------------------------------------------------------------


class CallSettingsOut(Schema):
    """The organisation's call settings; secrets are write-only (`*_set` says whether one is stored)."""

    keep_original: bool
    max_upload_mb: int
    max_duration_minutes: int
    twilio_account_sid: str
    vonage_application_id: str
    twilio_api_key_sid: str = Field(description="Cloud telephony: the Twilio API key used for REST calls, if any")
    vonage_api_key: str = Field(description="Cloud telephony: the Vonage account's API key")
    twilio_auth_token_set: bool
    vonage_signature_secret_set: bool
    vonage_private_key_set: bool
    webhook_secret_set: bool
    twilio_api_key_secret_set: bool
    vonage_api_secret_set: bool


# --- actions ---------------------------------------------------------------------------


class CallUploadOut(Schema):
    id: UUID
    status: CallStatusValue
    duplicate: bool = Field(description="True when the provider's id was uploaded before (200, not 201)")


class CallStatusOut(Schema):
    id: UUID
    status: CallStatusValue


class CallTaskOut(Schema):
    """The CRM task made from an action item."""

    id: UUID
    title: str
    contact_id: UUID | None


class SummaryEmailOut(Schema):
    sent_to: str
    labelled: bool = Field(description="Whether the summary carried the unreviewed label")
    label: str | None
