"""The test-speech generator is repeatable: the same script gives the same audio bytes."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.intelligence.conftest import make_speech


def _digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_synthesising_twice_gives_identical_recordings(tmp_path):
    # sox dithers with fresh random noise unless told not to; that once made talk ratios flaky.
    first = make_speech.synthesise(tmp_path / "a", script="short", formats=("wav",))
    second = make_speech.synthesise(tmp_path / "b", script="short", formats=("wav",))
    for kind in ("stereo", "mono"):
        assert _digest(first["files"][kind]["wav"]) == _digest(second["files"][kind]["wav"]), kind
    assert first["turns"] == second["turns"]
