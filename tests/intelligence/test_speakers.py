"""Speaker separation of mono recordings by clustering, and the role heuristic."""

from __future__ import annotations

import subprocess

from octopushx.intelligence import analyse, diarize

from .conftest import truth_speaker


def test_mono_mix_is_split_into_agent_and_customer(mono_analysis, speech):
    assert mono_analysis.provenance.diarisation == "clustering"
    right = total = 0
    for utterance in mono_analysis.utterances:
        for word in utterance.words:
            expected = truth_speaker(speech, (word.start + word.end) / 2)
            if expected is None:
                continue
            total += 1
            right += expected == utterance.speaker
    assert total > 50
    assert right / total >= 0.9
    assert mono_analysis.speakers.roles_known
    assert mono_analysis.speakers.role_source == "greeting"
    assert mono_analysis.speakers.confidence >= diarize.MIN_ROLE_CONFIDENCE


def test_one_voice_alone_is_labelled_unknown(speech, tmp_path):
    agent_only = tmp_path / "agent.wav"
    subprocess.run(["sox", "-R", "-D", speech["files"]["stereo"]["wav"], str(agent_only), "remix", "1"], check=True)
    result = analyse(agent_only, channel_roles=None)
    assert result.utterances
    assert {u.speaker for u in result.utterances} == {"unknown"}
    assert any("could not be told apart" in w for w in result.warnings)
    assert result.insights.metrics.talk_ratio == {"unknown": 1.0}
    assert result.speakers.roles_known is False


def test_agent_phrases_decide_the_roles():
    roles = diarize.assign_roles({0: "hello I want to cancel my account", 1: "thank you for calling how can I help"}, 0)
    assert roles == {0: "customer", 1: "agent"}


def test_first_speaker_is_the_agent_unless_the_call_was_outbound():
    texts = {0: "hello there", 1: "hi again"}
    assert diarize.assign_roles(texts, 1) == {0: "customer", 1: "agent"}
    assert diarize.assign_roles(texts, 1, direction="outbound") == {0: "agent", 1: "customer"}


def test_channel_roles_fill_missing_roles_with_unknown():
    assert diarize.channel_roles(2, ["customer"]) == ["customer", "unknown"]
    assert diarize.channel_roles(2, None) == ["agent", "customer"]
