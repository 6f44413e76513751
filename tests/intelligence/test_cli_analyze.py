"""``octopushx analyze FILE``: the pipeline from the command line, with no database."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def _run(*args, tmp_path):
    env = {**os.environ, "OCTOPUSHX_DATA_DIR": str(tmp_path / "no-database-here")}
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "-m", "octopushx.cli", "analyze", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.fixture(scope="module")
def report(speech, tmp_path_factory):
    return _run(speech["files"]["stereo"]["mp3"], "--json", tmp_path=tmp_path_factory.mktemp("cli"))


def test_analyze_prints_json_without_a_database(report, tmp_path):
    assert report.returncode == 0, report.stderr
    data = json.loads(report.stdout)
    assert {u["speaker"] for u in data["utterances"]} == {"agent", "customer"}
    assert "words" not in data["utterances"][0]
    assert set(data["insights"]["metrics"]["talk_ratio"]) >= {"agent", "customer"}
    assert data["provenance"]["asr_model"] == "tiny.en"
    assert not (tmp_path / "no-database-here").exists()


def test_analyze_prints_a_readable_report(mono_analysis):
    import io

    from octopushx.intelligence.console import print_report

    out = io.StringIO()
    print_report(mono_analysis, out)
    text = out.getvalue()
    for heading in ("Transcript", "Summary (structured)", "Action items", "Metrics", "talk ratio", "Redacted: "):
        assert heading in text
    assert "[CARD]" in text and "speakers by clustering" in text


def test_analyze_refuses_a_file_that_is_not_audio(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("hello " * 100)
    done = _run(str(notes), tmp_path=tmp_path)
    assert done.returncode == 1
    assert "octopushx: error: Not an audio file" in done.stderr
    assert "Traceback" not in done.stderr


def test_analyze_refuses_unknown_channel_roles(speech, tmp_path):
    done = _run(speech["files"]["mono"]["wav"], "--channel-roles", "agent,boss", tmp_path=tmp_path)
    assert done.returncode == 1 and "--channel-roles" in done.stderr


def test_progress_bar_draws_stages():
    import io

    from octopushx.intelligence.console import ProgressBar

    out = io.StringIO()
    bar = ProgressBar(out, width=10)
    for stage, fraction in (("decode", 0.0), ("transcribe", 0.5), ("transcribe", 0.5), ("done", 1.0)):
        bar(stage, fraction)
    assert (
        out.getvalue() == "\r[..........]   0% decode    \r[#####.....]  50% transcribe\r[##########] 100% done      \n"
    )
