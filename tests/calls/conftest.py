"""Test recordings for the calls app: tiny tones made with numpy, and short two-voice calls
synthesised once per session with espeak-ng (tests that need real speech skip without it)."""

from __future__ import annotations

import io
import shutil
import subprocess
import threading
import time
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from octopushx.core import jobs
from tests.calls.factories import CALL_SCRIPT

RATE = 16000


def tone_wav(seconds: float = 1.0, channels: int = 2, rate: int = 8000, amplitude: float = 0.2) -> bytes:
    """A valid WAV file of a quiet tone (no speech): fast to probe and to store."""
    t = np.arange(int(seconds * rate)) / rate
    signal = (amplitude * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16)
    frames = np.repeat(signal[:, None], channels, axis=1)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames.tobytes())
    return buffer.getvalue()


RECORDING = tone_wav(seconds=1)


class RecordingStore(BaseHTTPRequestHandler):
    """A provider's recording store: every GET is kept in ``seen``; ``/hang…`` answers too late and
    ``/missing…`` is 404, anything else is ``RECORDING``."""

    seen: list[dict] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        RecordingStore.seen.append({"path": self.path, "auth": self.headers.get("Authorization", "")})
        if self.path.startswith("/hang"):
            time.sleep(3)
            return
        if self.path.startswith("/missing"):
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "audio/wav")
        self.send_header("Content-Length", str(len(RECORDING)))
        self.end_headers()
        self.wfile.write(RECORDING)

    def log_message(self, *args):
        pass


@contextmanager
def recording_store() -> Iterator[str]:
    """The store on a free port of 127.0.0.1 (its base URL) with nothing seen yet."""
    RecordingStore.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), RecordingStore)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _speak(text: str, voice: str, folder: Path, index: int) -> np.ndarray:
    target = folder / f"turn-{index}.wav"
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", "150", "-w", str(target), text], check=True, capture_output=True, timeout=60
    )
    with wave.open(str(target)) as clip:
        rate = clip.getframerate()
        samples = np.frombuffer(clip.readframes(clip.getnframes()), dtype=np.int16).astype(np.float32) / 32768
    if rate != RATE:
        positions = np.linspace(0, samples.size - 1, int(samples.size * RATE / rate))
        samples = np.interp(positions, np.arange(samples.size), samples).astype(np.float32)
    return samples


def _write(path: Path, channels: np.ndarray) -> None:
    data = (np.clip(channels.T, -1, 1) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels.shape[0])
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(data.tobytes())


@pytest.fixture(scope="session")
def speech(tmp_path_factory) -> dict[str, Path]:
    """A short call: agent on the left channel, customer on the right; and its mono mix."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    folder = tmp_path_factory.mktemp("call-speech")
    voices = {"agent": "en-gb+f2", "customer": "en-us"}
    turns = [(speaker, _speak(text, voices[speaker], folder, i)) for i, (speaker, text) in enumerate(CALL_SCRIPT)]
    gap = int(0.5 * RATE)
    total = gap + sum(len(samples) + gap for _speaker, samples in turns)
    stereo = np.zeros((2, total), dtype=np.float32)
    cursor = gap
    for speaker, samples in turns:
        stereo[0 if speaker == "agent" else 1, cursor : cursor + len(samples)] = samples
        cursor += len(samples) + gap
    _write(folder / "call-stereo.wav", stereo)
    _write(folder / "call-mono.wav", stereo.sum(axis=0, keepdims=True))
    return {"stereo": folder / "call-stereo.wav", "mono": folder / "call-mono.wav"}


@pytest.fixture
def run_jobs():
    """Run every queued job now (the jobs' own retries wait for their back-off)."""
    return jobs.drain
