"""Test speech made at test time with espeak-ng and sox (bench/make_speech.py), analysed once."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_generator():
    spec = importlib.util.spec_from_file_location("make_speech", ROOT / "bench" / "make_speech.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_speech = _load_generator()
PROGRESS: list[tuple[str, float]] = []  # what the stereo analysis reported


@pytest.fixture(scope="session")
def speech(tmp_path_factory):
    """The short two-speaker call in every format, with its ground truth (manifest)."""
    folder = tmp_path_factory.mktemp("speech")
    return make_speech.synthesise(folder, script="short", name="call", formats=make_speech.FORMATS)


@pytest.fixture(scope="session")
def stereo_analysis(speech):
    from octopushx.intelligence import AnalysisSettings, analyse

    return analyse(
        speech["files"]["stereo"]["wav"],
        settings=AnalysisSettings(keep_original=True),
        progress=lambda stage, fraction: PROGRESS.append((stage, fraction)),
    )


@pytest.fixture(scope="session")
def mono_analysis(speech):
    from octopushx.intelligence import analyse

    return analyse(speech["files"]["mono"]["wav"], channel_roles=None)


def truth_speaker(manifest: dict, time: float, slack: float = 0.25) -> str | None:
    """Who the script says was speaking at ``time`` (None in a gap)."""
    for turn in manifest["turns"]:
        if turn["start"] - slack <= time <= turn["end"] + slack:
            return turn["speaker"]
    return None


def turn_with(manifest: dict, kind: str) -> dict:
    return next(t for t in manifest["turns"] if any(s["kind"] == kind for s in t.get("sensitive", [])))


def dump(manifest: dict) -> str:
    return json.dumps(manifest, indent=1)
