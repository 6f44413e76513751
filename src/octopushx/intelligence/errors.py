"""Exceptions raised by the analysis pipeline; callers map them to user-facing messages."""

from __future__ import annotations


class IntelligenceError(Exception):
    """Base class of every error this package raises on purpose."""


class AudioError(IntelligenceError, ValueError):
    """The input cannot be analysed as a call recording (a 4xx for the uploader)."""

    code = "invalid_audio"


class NotAudioError(AudioError):
    """The file is not an audio file at all (no decodable audio stream)."""

    code = "not_audio"


class EmptyAudioError(AudioError):
    """The file is empty or holds no audio samples."""

    code = "empty_audio"


class CorruptAudioError(AudioError):
    """The container was recognised but its audio could not be decoded."""

    code = "corrupt_audio"


class AudioTooLongError(AudioError):
    """The recording is longer than the configured limit."""

    code = "too_long"


class ModelError(IntelligenceError):
    """The speech model could not be found or loaded."""


class LLMError(IntelligenceError):
    """The optional LLM endpoint failed; the pipeline falls back to the offline summary."""
