"""Decode any call recording to 16 kHz float32 per channel, streaming; write silenced copies.

Decoding uses PyAV (FFmpeg, installed with faster-whisper): WAV, MP3, OGG/Vorbis/Opus, FLAC,
M4A/AAC and whatever else FFmpeg reads, mono or stereo, at any sample rate. Frames are resampled
one at a time straight into one preallocated array, so a recording is never held as float32
twice (a 60-minute stereo call is 16000 × 3600 × 2 × 4 bytes ≈ 460 MB).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import IO, Any

import av
import numpy as np

from octopushx.intelligence.errors import (
    AudioTooLongError,
    CorruptAudioError,
    EmptyAudioError,
    NotAudioError,
)
from octopushx.intelligence.results import AudioInfo

SAMPLE_RATE = 16000
Source = str | os.PathLike | IO[bytes]
ProgressCallback = Callable[[float], None]

# Below this, two "channels" are one signal copied twice (a mono call saved as stereo).
_SAME_CHANNEL_RESIDUAL = 0.02


@dataclass
class DecodedAudio:
    """``samples`` has shape (channels, n) at ``SAMPLE_RATE``; rows are C-contiguous."""

    samples: np.ndarray
    info: AudioInfo
    warnings: list[str] = field(default_factory=list)

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def duration(self) -> float:
        return self.samples.shape[1] / SAMPLE_RATE

    def channel(self, index: int) -> np.ndarray:
        return self.samples[index]


@contextmanager
def _open(source: Source, mode: str = "r", **kwargs: Any) -> Iterator[av.container.Container]:
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if mode == "r":
            if not path.is_file():
                raise NotAudioError(f"{path.name}: no such file")
            if path.stat().st_size == 0:
                raise EmptyAudioError("The file is empty")
        target: Any = str(path)
    else:
        target = source
        if mode == "r" and getattr(source, "seekable", lambda: False)():
            source.seek(0)  # read from the start even if the caller already looked at it
        if mode == "r" and _remaining_size(source) == 0:
            raise EmptyAudioError("The file is empty")
    try:
        container = av.open(target, mode=mode, metadata_errors="ignore", **kwargs)
    except av.FFmpegError as exc:
        raise NotAudioError(f"Not an audio file ({_reason(exc)})") from exc
    except (EOFError, OSError) as exc:
        if mode != "r":
            raise
        raise NotAudioError(f"Not an audio file ({exc})") from exc
    try:
        yield container
    finally:
        container.close()


def _remaining_size(fileobj: IO[bytes]) -> int | None:
    try:
        position = fileobj.tell()
        end = fileobj.seek(0, io.SEEK_END)
        fileobj.seek(position)
        return end - position
    except (AttributeError, OSError, ValueError):
        return None


def _reason(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or str(exc)


def _audio_stream(container: av.container.InputContainer) -> av.audio.stream.AudioStream:
    streams = container.streams.audio
    if not streams:
        raise NotAudioError("Not an audio file (it has no audio stream)")
    return streams[0]


def _estimated_duration(container, stream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _demuxed_duration(container, stream) -> float | None:
    """Sum packet durations without decoding (for containers that do not state a duration)."""
    total = 0
    try:
        for packet in container.demux(stream):
            if packet.duration:
                total += packet.duration
        container.seek(0)
    except av.FFmpegError:
        return None
    return float(total * stream.time_base) if total else None


def _info(container, stream, duration: float) -> AudioInfo:
    context = stream.codec_context
    return AudioInfo(
        duration=round(duration, 3),
        channels=int(getattr(context, "channels", 0) or stream.layout.nb_channels),
        sample_rate=int(context.sample_rate or stream.rate or 0),
        codec=context.name,
        container=container.format.name,
    )


def probe(source: Source) -> AudioInfo:
    """Format, channels and duration without decoding; raises an :class:`AudioError`."""
    with _open(source) as container:
        stream = _audio_stream(container)
        duration = _estimated_duration(container, stream) or _demuxed_duration(container, stream)
        return _info(container, stream, duration or 0.0)


def decode(
    source: Source,
    *,
    max_duration: float | None = None,
    mono: bool = False,
    progress: ProgressCallback | None = None,
) -> DecodedAudio:
    """Decode to float32 at 16 kHz: two rows for stereo (unless ``mono``), one otherwise.

    Raises :class:`NotAudioError`, :class:`EmptyAudioError`, :class:`CorruptAudioError` or
    :class:`AudioTooLongError` (checked from the header before decoding, and again while
    decoding for files whose header does not say).
    """
    with _open(source) as container:
        stream = _audio_stream(container)
        stream.thread_type = "AUTO"
        source_channels = stream.codec_context.channels or stream.layout.nb_channels
        channels = 2 if source_channels == 2 and not mono else 1
        estimate = _estimated_duration(container, stream)
        if estimate is None:
            estimate = _demuxed_duration(container, stream)
        if max_duration is not None and estimate is not None and estimate > max_duration + 1:
            raise AudioTooLongError(_too_long(estimate, max_duration))

        capacity = int(((estimate or 600.0) * 1.01 + 2.0) * SAMPLE_RATE)
        samples = np.zeros((channels, capacity), dtype=np.float32)
        filled = 0
        errors = 0
        warnings: list[str] = []
        # 16-bit planar scaled to float32, as faster-whisper's own decode_audio does, so the
        # model sees exactly the samples it would see without this pipeline.
        layout = "stereo" if channels == 2 else "mono"
        resampler = av.AudioResampler(format="s16p", layout=layout, rate=SAMPLE_RATE)
        limit = int(max_duration * SAMPLE_RATE) + SAMPLE_RATE if max_duration else None
        last_report = 0

        def take(frames: list[av.AudioFrame]) -> None:
            nonlocal samples, filled
            for frame in frames:
                block = frame.to_ndarray()
                count = block.shape[1]
                if filled + count > samples.shape[1]:
                    # The header under-stated the length: grow by half (rare; brief 1.5× peak).
                    grown = np.zeros((channels, int((filled + count) * 1.5)), dtype=np.float32)
                    grown[:, :filled] = samples[:, :filled]
                    samples = grown
                np.multiply(block, 1.0 / 32768.0, out=samples[:, filled : filled + count], casting="unsafe")
                filled += count
                if limit is not None and filled > limit:
                    raise AudioTooLongError(_too_long(filled / SAMPLE_RATE, max_duration or 0))

        try:
            for packet in container.demux(stream):
                try:
                    frames = packet.decode()
                except av.FFmpegError:
                    errors += 1
                    if errors > 50 and filled == 0:
                        break
                    continue
                for frame in frames:
                    take(resampler.resample(frame))
                if progress and estimate and filled - last_report > SAMPLE_RATE * 30:
                    last_report = filled
                    progress(min(1.0, filled / SAMPLE_RATE / estimate))
            take(resampler.resample(None))
        except av.FFmpegError as exc:
            if filled < SAMPLE_RATE // 10:
                raise CorruptAudioError(f"The audio could not be decoded ({_reason(exc)})") from exc
            warnings.append(f"Decoding stopped early at {filled / SAMPLE_RATE:.1f} s ({_reason(exc)})")
        if filled == 0:
            if errors:
                raise CorruptAudioError("The audio could not be decoded (every packet failed)")
            raise EmptyAudioError("The file holds no audio")
        if errors:
            warnings.append(f"{errors} damaged audio packet(s) were skipped")
        if estimate and filled / SAMPLE_RATE < estimate * 0.9 - 1:
            warnings.append(
                f"The recording ends at {filled / SAMPLE_RATE:.1f} s although its header says "
                f"{estimate:.1f} s (truncated file?)"
            )
        info = _info(container, stream, filled / SAMPLE_RATE)
    if progress:
        progress(1.0)
    return DecodedAudio(samples=samples[:, :filled], info=info, warnings=warnings)


def _too_long(duration: float, limit: float) -> str:
    return f"The recording is {duration / 60:.1f} minutes long; the limit is {limit / 60:.0f} minutes"


def channels_identical(samples: np.ndarray, block: int = SAMPLE_RATE * 60) -> bool:
    """True when a two-row signal is really one channel copied twice (checked blockwise)."""
    if samples.shape[0] != 2:
        return False
    difference = 0.0
    energy = 0.0
    for start in range(0, samples.shape[1], block):
        left = samples[0, start : start + block].astype(np.float64)
        right = samples[1, start : start + block].astype(np.float64)
        difference += float(np.sum((left - right) ** 2))
        energy += float(np.sum(left**2) + np.sum(right**2))
    if energy == 0.0:
        return True
    return difference / energy < _SAME_CHANNEL_RESIDUAL**2


def mixdown(samples: np.ndarray) -> np.ndarray:
    """One row: the mean of the channels (a new array only when there is more than one)."""
    if samples.shape[0] == 1:
        return samples[0]
    mixed = np.empty(samples.shape[1], dtype=np.float32)
    np.add(samples[0], samples[1], out=mixed)
    mixed *= 0.5
    return mixed


# What each output suffix is written as: (container format, codec, sample rate or None to keep).
OUTPUT_FORMATS: dict[str, tuple[str, str, int | None]] = {
    ".wav": ("wav", "pcm_s16le", None),
    ".flac": ("flac", "flac", None),
    ".mp3": ("mp3", "libmp3lame", None),
    ".ogg": ("ogg", "libopus", 48000),
    ".opus": ("ogg", "libopus", 48000),
    ".m4a": ("ipod", "aac", None),
}


def write_silenced(
    source: Source,
    destination: str | os.PathLike | IO[bytes],
    spans: Sequence[tuple[float, float]],
    *,
    output_format: str = ".wav",
) -> float:
    """Copy ``source`` to ``destination`` with every (start, end) span set to silence.

    Channels and sample rate are kept (Opus output is 48 kHz); the copy is written frame by frame.
    ``output_format`` is a suffix from :data:`OUTPUT_FORMATS` (taken from ``destination``'s name
    when it is a path). Returns the seconds silenced.
    """
    if isinstance(destination, (str, os.PathLike)) and Path(destination).suffix.lower() in OUTPUT_FORMATS:
        output_format = Path(destination).suffix.lower()
    if output_format not in OUTPUT_FORMATS:
        raise ValueError(f"Cannot write {output_format!r}; choose one of {', '.join(OUTPUT_FORMATS)}")
    container_format, codec, forced_rate = OUTPUT_FORMATS[output_format]
    silenced = 0.0
    with _open(source) as container:
        stream = _audio_stream(container)
        channels = stream.codec_context.channels or stream.layout.nb_channels
        layout = "stereo" if channels == 2 else "mono"
        rate = forced_rate or stream.codec_context.sample_rate or 16000
        ordered = sorted((max(0.0, a), b) for a, b in spans if b > a)
        with _open(destination, "w", format=container_format) as output:
            out_stream = output.add_stream(codec, rate=rate, layout=layout)
            out_format = out_stream.codec_context.format.name
            frame_size = out_stream.codec_context.frame_size or None  # AAC, MP3, Opus: fixed
            resampler = av.AudioResampler(format=out_format, layout=layout, rate=rate, frame_size=frame_size)
            position = 0  # samples written so far at the output rate

            def emit(frames: list[av.AudioFrame]) -> None:
                nonlocal position, silenced
                for frame in frames:
                    array = frame.to_ndarray()
                    count = frame.samples
                    planar = array.shape[0] == len(frame.layout.channels) and array.shape[1] == count
                    for start, end in ordered:
                        first = max(0, int(start * rate) - position)
                        last = min(count, int(end * rate) - position)
                        if last > first:
                            silenced += (last - first) / rate
                            if planar:
                                array[:, first:last] = 0
                            else:
                                width = array.shape[1] // count
                                array[:, first * width : last * width] = 0
                    fresh = av.AudioFrame.from_ndarray(array, format=out_format, layout=layout)
                    fresh.sample_rate = rate
                    fresh.pts = position
                    fresh.time_base = Fraction(1, rate)
                    position += count
                    for packet in out_stream.encode(fresh):
                        output.mux(packet)

            for packet in container.demux(stream):
                try:
                    frames = packet.decode()
                except av.FFmpegError:
                    continue
                for frame in frames:
                    frame.pts = None
                    emit(resampler.resample(frame))
            emit(resampler.resample(None))
            for packet in out_stream.encode(None):
                output.mux(packet)
    return silenced
