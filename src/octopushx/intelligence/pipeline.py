"""The whole analysis of one call: decode, transcribe, separate speakers, redact, derive insights."""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from time import perf_counter

from octopushx.intelligence import actions, asr, audio, diarize, facts, keywords, llm, metrics, redaction
from octopushx.intelligence import sentiment as sentiment_analysis
from octopushx.intelligence import summary as summary_analysis
from octopushx.intelligence.config import UNKNOWN, AnalysisSettings
from octopushx.intelligence.errors import LLMError
from octopushx.intelligence.results import (
    ActionItem,
    CallAnalysis,
    Insights,
    Provenance,
    Redaction,
    Speakers,
    Utterance,
    Word,
)

PIPELINE_VERSION = "1.0"
UTTERANCE_PAUSE = 1.0  # seconds of silence that end an utterance
NOT_SEPARATED = "The speakers could not be told apart; utterances are labelled unknown"
ROLES_UNCERTAIN = (
    "The speakers could not be told apart as agent and customer (role confidence {confidence:.2f}); "
    "they are labelled Speaker 1 and Speaker 2"
)
REDACTION_PADDING = 0.25  # seconds silenced either side of a redacted span

ProgressCallback = Callable[[str, float], None]

# Share of the total work each stage takes, for the progress callback.
_DECODE, _TRANSCRIBE = 0.05, 0.90


def _report(progress: ProgressCallback | None, stage: str, fraction: float) -> None:
    if progress is not None:
        progress(stage, round(min(1.0, max(0.0, fraction)), 4))


def _utterances_from_words(words: Sequence[Word], labels: Sequence[str]) -> list[Utterance]:
    """Consecutive words of one speaker, split where the pause is long."""
    result: list[Utterance] = []
    current: list[Word] = []
    speaker = None
    for word, label in zip(words, labels, strict=True):
        if current and (label != speaker or word.start - current[-1].end > UTTERANCE_PAUSE):
            result.append(_utterance(speaker, current))
            current = []
        speaker = label
        current.append(word)
    if current:
        result.append(_utterance(speaker, current))
    return result


def _utterance(speaker: str | None, words: list[Word]) -> Utterance:
    return Utterance(
        speaker=speaker or UNKNOWN,
        start=words[0].start,
        end=max(w.end for w in words),
        text=" ".join(w.text for w in words).strip(),
        words=list(words),
    )


def _channel_utterances(segments: Sequence[asr.Segment], speaker: str) -> list[Utterance]:
    result: list[Utterance] = []
    for segment in segments:
        if segment.words:
            result.extend(_utterances_from_words(segment.words, [speaker] * len(segment.words)))
        else:
            result.append(Utterance(speaker, segment.start, segment.end, segment.text))
    return result


def analyse(
    source: audio.Source,
    *,
    channel_roles: Sequence[str] | None = ("agent", "customer"),
    settings: AnalysisSettings | None = None,
    progress: ProgressCallback | None = None,
    direction: str | None = None,
    call_time: datetime | None = None,
) -> CallAnalysis:
    """Analyse one recording; see the package docstring for the contract. ``call_time`` (when the
    call took place, local time) turns action items' due phrases into dates."""
    settings = settings or AnalysisSettings()
    timings: dict[str, float] = {}
    warnings: list[str] = []
    started = perf_counter()

    _report(progress, "decode", 0.0)
    decoded = audio.decode(
        source,
        max_duration=settings.max_duration_seconds,
        mono=channel_roles is None,
        progress=lambda f: _report(progress, "decode", f * _DECODE),
    )
    warnings.extend(decoded.warnings)
    info = decoded.info
    duration = decoded.duration
    timings["decode"] = round(perf_counter() - started, 3)

    dual = decoded.channels == 2
    if dual and audio.channels_identical(decoded.samples):
        warnings.append("Both channels carry the same audio; speakers were separated by clustering")
        dual = False

    mark = perf_counter()
    source_model = asr.resolve_model(settings.model)
    utterances: list[Utterance] = []
    if dual:
        roles = diarize.channel_roles(2, channel_roles)
        for index, role in enumerate(roles):

            def channel_progress(f: float, index: int = index) -> None:
                _report(progress, "transcribe", _DECODE + _TRANSCRIBE * (index + f) / 2)

            segments = asr.transcribe(decoded.channel(index), settings, progress=channel_progress)
            utterances.extend(_channel_utterances(segments, role))
        method = "channels"
        known = sorted(roles) == ["agent", "customer"]
        speakers = Speakers(method, known, "channels", 1.0 if known else 0.0)
        del decoded
    else:
        samples = decoded.channel(0)
        del decoded
        segments = asr.transcribe(
            samples,
            settings,
            progress=lambda f: _report(progress, "transcribe", _DECODE + _TRANSCRIBE * f),
        )
        timings["transcribe"] = round(perf_counter() - mark, 3)
        words = [w for s in segments for w in s.words]
        if words:
            mark_diarise = perf_counter()
            result = diarize.diarise_mono(samples, words, direction=direction)
            timings["diarise"] = round(perf_counter() - mark_diarise, 3)
            utterances = _utterances_from_words(words, result.labels)
            method = "clustering" if result.separable else "single-speaker"
            speakers = Speakers(method, result.roles_known, result.role_source, result.confidence, result.silhouette)
            if not result.separable:
                warnings.append(NOT_SEPARATED)
            elif not result.roles_known:
                warnings.append(ROLES_UNCERTAIN.format(confidence=result.confidence))
        else:
            utterances = [Utterance(UNKNOWN, s.start, s.end, s.text) for s in segments]
            method = "single-speaker"
            speakers = Speakers(method, False, "none", 0.0)
        del samples
    timings.setdefault("transcribe", round(perf_counter() - mark, 3))
    gc.collect()

    mark = perf_counter()
    _report(progress, "analyse", _DECODE + _TRANSCRIBE)
    utterances.sort(key=lambda u: (u.start, u.end))
    if not utterances:
        warnings.append("No speech was found in the recording")
    original = utterances
    if settings.redact:
        utterances, found = redaction.redact(utterances)
    else:
        found = Redaction()
    for utterance in utterances:
        utterance.sentiment = sentiment_analysis.score(utterance.text)
    if settings.keep_original:
        original = [replace(u, sentiment=r.sentiment) for u, r in zip(original, utterances, strict=True)]
    insights = _insights(utterances, duration, settings, warnings, call_time)
    timings["analyse"] = round(perf_counter() - mark, 3)
    timings["total"] = round(perf_counter() - started, 3)
    _report(progress, "done", 1.0)
    return CallAnalysis(
        audio=info,
        utterances=utterances,
        insights=insights,
        redaction=found,
        provenance=Provenance(
            pipeline_version=PIPELINE_VERSION,
            asr_model=source_model.name,
            asr_model_version=source_model.version,
            engine=asr.engine_versions(),
            settings=settings.public(),
            diarisation=method,
        ),
        original_utterances=original if settings.keep_original else None,
        warnings=warnings,
        timings=timings,
        speakers=speakers,
    )


def _insights(
    utterances: list[Utterance],
    duration: float,
    settings: AnalysisSettings,
    warnings: list[str],
    call_time: datetime | None = None,
) -> Insights:
    text = " ".join(u.text for u in utterances)
    found_keywords = keywords.keywords(text, settings.keyword_count)
    items = actions.find(utterances, call_time)
    summary, source = summarise(utterances, items, settings, warnings, keywords=found_keywords)
    return Insights(
        summary=summary,
        summary_source=source,
        action_items=items,
        keywords=found_keywords,
        topics=keywords.topics(text),
        sentiment=sentiment_analysis.summarise(utterances),
        metrics=metrics.compute(utterances, duration),
    )


def summarise(
    utterances: Sequence[Utterance],
    items: Sequence[ActionItem],
    settings: AnalysisSettings,
    warnings: list[str],
    *,
    keywords: Sequence[str] = (),
) -> tuple[str, str]:
    """The call's summary and its source: ``llm:<model>`` when an LLM is configured and its answer
    passes, else ``structured`` (or ``extractive`` when the structured one finds nothing).

    Every summary passes the facts-only check against the transcript; a failing LLM adds a warning
    (shown on the call page) and never fails the analysis.
    """
    transcript = "\n".join(f"{u.speaker}: {u.text}" for u in utterances)
    allowed = summary_analysis.allowed_facts(items)
    checked = facts.check(summary_analysis.structured(utterances, items), transcript, allowed=allowed)
    summary, source = checked.text, "structured"
    if not summary:
        summary = summary_analysis.extractive(utterances, count=settings.summary_sentences, keywords=keywords)
        source = "extractive"
    if settings.llm is not None and utterances:
        try:
            answer = llm.summarise_structured(transcript, settings.llm, allowed=allowed)
        except LLMError as exc:
            warnings.append(f"LLM summary unavailable, used the offline summary: {exc}")
        else:
            summary, source = redaction.redact_text(answer.text), f"llm:{settings.llm.model}"
            warnings.extend(f"LLM summary: {note}" for note in answer.notes)
    return summary, source


def redact_audio(
    source: audio.Source,
    destination,
    redaction_or_spans: Redaction | Sequence[tuple[float, float]],
    *,
    padding: float = REDACTION_PADDING,
    output_format: str = ".wav",
) -> float:
    """Write a copy of ``source`` with every redacted span silenced (on all channels).

    ``redaction_or_spans`` is a :class:`Redaction` from :func:`analyse` or (start, end) pairs in
    seconds; each span is widened by ``padding`` either side because word timings are
    approximate. The copy keeps the channels and sample rate; its format follows
    ``destination``'s suffix (.wav, .flac, .mp3, .ogg, .opus, .m4a) or ``output_format``.
    Returns the seconds silenced.
    """
    if isinstance(redaction_or_spans, Redaction):
        pairs = [(s.start, s.end) for s in redaction_or_spans.spans]
    else:
        pairs = list(redaction_or_spans)
    widened = [(max(0.0, start - padding), end + padding) for start, end in pairs]
    return audio.write_silenced(source, destination, widened, output_format=output_format)
