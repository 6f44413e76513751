"""Decoding: every supported format, mono and stereo, any rate; bad files refused clearly."""

from __future__ import annotations

import io
import subprocess

import numpy as np
import pytest

from octopushx.intelligence import audio
from octopushx.intelligence.errors import (
    AudioTooLongError,
    CorruptAudioError,
    EmptyAudioError,
    NotAudioError,
)

FORMATS = ["wav", "flac", "ogg", "mp3", "m4a", "opus"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_stereo_formats_decode_to_two_channels_at_16k(speech, fmt):
    decoded = audio.decode(speech["files"]["stereo"][fmt])
    assert decoded.samples.dtype == np.float32
    assert decoded.channels == 2
    assert abs(decoded.duration - speech["duration"]) < 0.25
    # the agent speaks first, on the left channel only
    first = speech["turns"][0]
    span = slice(int(first["start"] * 16000) + 1600, int(first["end"] * 16000) - 1600)
    assert np.abs(decoded.samples[0, span]).mean() > 20 * np.abs(decoded.samples[1, span]).mean()


@pytest.mark.parametrize("fmt", FORMATS)
def test_mono_formats_decode_to_one_channel(speech, fmt):
    decoded = audio.decode(speech["files"]["mono"][fmt])
    assert decoded.channels == 1
    assert abs(decoded.duration - speech["duration"]) < 0.25


def test_decode_can_mix_stereo_down(speech):
    assert audio.decode(speech["files"]["stereo"]["wav"], mono=True).channels == 1


@pytest.mark.parametrize("rate", [8000, 44100, 48000])
def test_any_sample_rate_is_resampled_to_16k(speech, tmp_path, rate):
    target = tmp_path / f"call-{rate}.wav"
    subprocess.run(["sox", "-R", "-D", speech["files"]["stereo"]["wav"], "-r", str(rate), str(target)], check=True)
    decoded = audio.decode(target)
    assert decoded.info.sample_rate == rate
    assert abs(decoded.duration - speech["duration"]) < 0.25


def test_file_objects_are_decoded_too(speech):
    with open(speech["files"]["mono"]["mp3"], "rb") as handle:
        decoded = audio.decode(io.BytesIO(handle.read()))
    assert decoded.channels == 1 and decoded.duration > 10


def test_probe_reads_format_without_decoding(speech):
    info = audio.probe(speech["files"]["stereo"]["m4a"])
    assert info.codec == "aac" and info.channels == 2
    assert abs(info.duration - speech["duration"]) < 0.3


def test_text_file_is_not_audio(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("This is not a recording, just some text pretending to be one.\n" * 20)
    with pytest.raises(NotAudioError):
        audio.decode(path)


def test_image_is_not_audio(tmp_path):
    path = tmp_path / "picture.png"
    # a PNG signature and header with no audio stream
    path.write_bytes(bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489") + b"\0" * 64)
    with pytest.raises(NotAudioError):
        audio.decode(path)


def test_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.mp3"
    path.write_bytes(b"")
    with pytest.raises(EmptyAudioError):
        audio.decode(path)
    with pytest.raises(EmptyAudioError):
        audio.decode(io.BytesIO(b""))


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(NotAudioError):
        audio.decode(tmp_path / "nowhere.wav")


def test_header_without_samples_is_empty(speech, tmp_path):
    path = tmp_path / "header-only.wav"
    path.write_bytes(open(speech["files"]["mono"]["wav"], "rb").read()[:44])
    with pytest.raises((EmptyAudioError, CorruptAudioError)):
        audio.decode(path)


def test_garbage_after_a_valid_header_is_corrupt(speech, tmp_path):
    path = tmp_path / "corrupt.m4a"
    original = open(speech["files"]["mono"]["m4a"], "rb").read()
    path.write_bytes(original[:64] + bytes(range(256)) * 40)
    with pytest.raises((CorruptAudioError, NotAudioError)):
        audio.decode(path)


def test_truncated_file_keeps_what_was_recorded_and_warns(speech, tmp_path):
    path = tmp_path / "truncated.flac"
    original = open(speech["files"]["mono"]["flac"], "rb").read()
    path.write_bytes(original[: len(original) // 2])
    decoded = audio.decode(path)
    assert 5 < decoded.duration < speech["duration"] * 0.75
    assert any("truncated" in w for w in decoded.warnings)


def test_truncated_wav_keeps_the_first_half(speech, tmp_path):
    path = tmp_path / "truncated.wav"
    original = open(speech["files"]["mono"]["wav"], "rb").read()
    path.write_bytes(original[: len(original) // 2])
    assert abs(audio.decode(path).duration - speech["duration"] / 2) < 0.5


def test_too_long_is_refused_from_the_header(speech):
    with pytest.raises(AudioTooLongError, match="limit"):
        audio.decode(speech["files"]["stereo"]["flac"], max_duration=10)


def test_silence_decodes_to_zeros(tmp_path):
    path = tmp_path / "silence.wav"
    subprocess.run(["sox", "-R", "-D", "-n", "-r", "8000", "-c", "1", str(path), "trim", "0", "3"], check=True)
    decoded = audio.decode(path)
    assert decoded.duration == pytest.approx(3.0, abs=0.05)
    assert float(np.abs(decoded.samples).max()) == 0.0


def test_identical_channels_are_recognised(tmp_path, speech):
    path = tmp_path / "dual-mono.wav"
    subprocess.run(["sox", "-R", "-D", speech["files"]["mono"]["wav"], "-c", "2", str(path)], check=True)
    decoded = audio.decode(path)
    assert decoded.channels == 2
    assert audio.channels_identical(decoded.samples)
    assert not audio.channels_identical(audio.decode(speech["files"]["stereo"]["wav"]).samples)
