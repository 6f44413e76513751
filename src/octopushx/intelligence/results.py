"""The dataclasses an analysis returns; ``to_dict()`` gives the JSON stored and served by the API."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Word:
    """One recognised word with its time span in seconds from the start of the recording."""

    text: str
    start: float
    end: float
    probability: float = 1.0


@dataclass
class Utterance:
    """A stretch of speech by one speaker: ``agent`` or ``customer``; ``speaker1``/``speaker2``
    when two voices were told apart but not their roles; ``unknown`` when not even that."""

    speaker: str
    start: float
    end: float
    text: str
    sentiment: float = 0.0  # VADER compound score, -1 (negative) .. 1 (positive)
    words: list[Word] = field(default_factory=list)


@dataclass
class ActionItem:
    """Something a party committed to or was asked to do.

    ``text`` is the clause as said, ``verb_phrase`` what is to be done in the third person ("send
    the customer a replacement router"), ``due`` the deadline as spoken ("by Wednesday") and
    ``due_date`` the ISO date it means counted from the call's time (None without one).
    """

    text: str
    owner: str  # agent | customer | unknown
    due: str | None = None
    start: float = 0.0
    speaker: str = ""  # who said it
    verb_phrase: str = ""
    due_date: str | None = None  # YYYY-MM-DD
    kind: str = "commitment"  # commitment | request


@dataclass
class SentimentPoint:
    """One point of the sentiment timeline: a speaker's rolling mean score at ``time``."""

    time: float
    speaker: str
    score: float


@dataclass
class Sentiment:
    """Overall and per-speaker sentiment (means weighted by words) and the timeline."""

    overall: float = 0.0
    by_speaker: dict[str, float] = field(default_factory=dict)
    timeline: list[SentimentPoint] = field(default_factory=list)


@dataclass
class Metrics:
    """Conversation metrics; times in seconds, ratios as fractions (0..1)."""

    duration: float = 0.0
    talk_ratio: dict[str, float] = field(default_factory=dict)
    talk_time: dict[str, float] = field(default_factory=dict)
    longest_monologue: dict[str, Any] = field(default_factory=dict)  # {speaker, seconds, start}
    longest_monologue_by_speaker: dict[str, float] = field(default_factory=dict)
    interruptions: dict[str, int] = field(default_factory=dict)  # times each speaker cut in
    questions: dict[str, int] = field(default_factory=dict)
    silence_ratio: float = 0.0
    words_per_minute: dict[str, float] = field(default_factory=dict)
    patience: float | None = None  # agent's mean pause before replying to the customer
    turns: int = 0


@dataclass
class Insights:
    """Everything derived from the (redacted) transcript."""

    summary: str = ""
    summary_source: str = "structured"  # "structured", "extractive" or "llm:<model>"
    action_items: list[ActionItem] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    sentiment: Sentiment = field(default_factory=Sentiment)
    metrics: Metrics = field(default_factory=Metrics)


@dataclass
class RedactionSpan:
    """A sensitive stretch: its tag (``CARD``, ``EMAIL``…), speaker and audio time span."""

    kind: str
    speaker: str
    start: float
    end: float

    @property
    def tag(self) -> str:
        return f"[{self.kind}]"


@dataclass
class Redaction:
    """What was redacted; ``spans`` drive :func:`octopushx.intelligence.redact_audio`."""

    spans: list[RedactionSpan] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        result: dict[str, int] = {}
        for span in self.spans:
            result[span.kind] = result.get(span.kind, 0) + 1
        return result


@dataclass
class AudioInfo:
    """What was decoded: the source's format and the analysed signal."""

    duration: float
    channels: int
    sample_rate: int  # of the source
    codec: str
    container: str


@dataclass
class Provenance:
    """Which models, versions and settings produced a result (stored with every AI output)."""

    pipeline_version: str
    asr_model: str
    asr_model_version: str
    engine: dict[str, str]
    settings: dict[str, Any]
    diarisation: str  # "channels" or "clustering" or "single-speaker"


@dataclass
class Speakers:
    """How the speakers were told apart and how far their agent/customer roles can be trusted.

    ``roles_known`` is False when the labels are ``speaker1``/``speaker2`` or ``unknown``: such a
    call's per-role figures must not be compared with other calls' (team averages, coaching).
    """

    method: str = "channels"  # "channels", "clustering" or "single-speaker"
    roles_known: bool = True
    role_source: str = "channels"  # channels | greeting | greeting-one-sided | greeting-mixed | phrases | order | none
    confidence: float = 1.0  # of the roles, 0..1
    silhouette: float | None = None  # separation of the two voices (clustering only)


@dataclass
class CallAnalysis:
    """The result of :func:`octopushx.intelligence.analyse`."""

    audio: AudioInfo
    utterances: list[Utterance]  # redacted when settings.redact
    insights: Insights
    redaction: Redaction
    provenance: Provenance
    original_utterances: list[Utterance] | None = None  # only when settings.keep_original
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    speakers: Speakers = field(default_factory=Speakers)

    @property
    def transcript(self) -> str:
        return "\n".join(f"{u.speaker}: {u.text}" for u in self.utterances)

    def to_dict(self, *, words: bool = True) -> dict[str, Any]:
        """JSON-safe dict; ``words=False`` leaves out per-word timings to keep it small."""
        data = asdict(self)
        if not words:
            for key in ("utterances", "original_utterances"):
                for utterance in data.get(key) or []:
                    utterance.pop("words", None)
        return data
