"""Roles of mono calls: the greeting decides, with a confidence; unsure roles are not guessed."""

from __future__ import annotations

import pytest

from octopushx.intelligence import analyse, diarize, metrics
from octopushx.intelligence.results import Utterance

from .conftest import make_speech

GREETING = "good morning thank you for calling northwind this is daniel speaking how can i help"
REQUEST = "hi daniel i would like to pay my bill"


def test_the_greeting_names_the_agent_and_the_request_the_customer():
    decision = diarize.decide_roles({0: REQUEST, 1: GREETING}, {0: REQUEST, 1: GREETING}, first_speaker=0)
    assert decision.roles == {0: "customer", 1: "agent"}
    assert decision.source == "greeting"
    assert decision.evidence == 1.0


@pytest.mark.parametrize(
    "greeting",
    ["you're through to billing, sam speaking", "welcome to acme support, what can i do for you", "how may i assist"],
)
def test_other_greetings_count_too(greeting):
    decision = diarize.decide_roles({0: "yes i'm calling about my order", 1: greeting}, {}, first_speaker=0)
    assert decision.roles == {0: "customer", 1: "agent"}
    assert decision.source == "greeting"


def test_a_customer_who_was_speaking_to_someone_is_not_greeting():
    opening = {0: "hello i was speaking to someone yesterday", 1: "hello"}
    assert diarize.decide_roles(opening, opening, first_speaker=1).source == "order"


def test_a_greeting_split_between_both_voices_is_weak_evidence():
    opening = {0: "thank you for calling", 1: "my name is sarah how can i help"}
    decision = diarize.decide_roles(opening, opening, first_speaker=0)
    assert decision.evidence < 1.0
    assert diarize.role_confidence(decision.evidence, 0.4) < diarize.MIN_ROLE_CONFIDENCE


def test_who_spoke_first_is_never_enough_to_name_the_roles():
    opening = {0: "hello there", 1: "hi again"}
    decision = diarize.decide_roles(opening, opening, first_speaker=0)
    assert decision.source == "order"
    assert diarize.role_confidence(decision.evidence, 1.0) < diarize.MIN_ROLE_CONFIDENCE


def test_on_an_outbound_call_the_one_calling_about_something_is_the_agent():
    opening = {0: "hello", 1: "hi it's sam, i'm calling from acme about your renewal"}
    decision = diarize.decide_roles(opening, opening, first_speaker=0, direction="outbound")
    assert decision.roles == {0: "customer", 1: "agent"}
    assert decision.evidence >= 0.8


def test_confidence_needs_clear_voices_as_well_as_a_greeting():
    assert diarize.role_confidence(1.0, 0.40) == 1.0
    assert diarize.role_confidence(1.0, diarize.MIN_SILHOUETTE + 0.01) < diarize.MIN_ROLE_CONFIDENCE


def test_metrics_of_unnamed_speakers_are_per_speaker_not_agent_and_customer_zero():
    lines = [
        Utterance("speaker1", 0.0, 4.0, "good morning how can i help"),
        Utterance("speaker2", 4.5, 6.5, "i would like to pay"),
    ]
    result = metrics.compute(lines, 7.0)
    assert set(result.talk_ratio) == {"speaker1", "speaker2"}
    assert result.talk_ratio["speaker1"] == pytest.approx(4 / 6, abs=0.01)
    assert result.patience is None


def test_metrics_of_unseparated_speech_say_unknown_only():
    result = metrics.compute([Utterance("unknown", 0.0, 3.0, "hello")], 3.0)
    assert result.talk_ratio == {"unknown": 1.0}


def test_a_silent_customer_still_has_a_talk_ratio_of_zero():
    result = metrics.compute([Utterance("agent", 0.0, 3.0, "hello")], 3.0)
    assert result.talk_ratio == {"agent": 1.0, "customer": 0.0}


# Two renderings of one voice, a little apart in pitch: the voices barely separate, so the
# clusters mix the speakers and the roles came out swapped ("Thank you for calling" as customer).
SIMILAR_VOICES = {"agent": ("en-gb+m3", 45, 150), "customer": ("en-gb+m3", 55, 150)}


def test_similar_voices_get_no_guessed_roles(tmp_path):
    manifest = make_speech.synthesise(tmp_path, script="short", name="similar", voices=SIMILAR_VOICES)
    result = analyse(manifest["files"]["mono"]["wav"], channel_roles=None)
    assert result.speakers.roles_known is False
    assert {u.speaker for u in result.utterances} <= {"speaker1", "speaker2", "unknown"}
    assert set(result.insights.metrics.talk_ratio) <= {"speaker1", "speaker2", "unknown"}
    assert any("could not be told apart" in warning for warning in result.warnings)
    assert result.to_dict()["speakers"]["roles_known"] is False


def test_phrases_match_whole_words_only():
    opening = {0: "i needed nothing", 1: "hello"}
    assert diarize.decide_roles(opening, opening, first_speaker=1).source == "order"


def test_a_customer_giving_their_name_is_not_taken_for_the_agent():
    opening = {0: "hi my name is john i'm calling about my bill", 1: "thank you for calling how can i help"}
    decision = diarize.decide_roles(opening, opening, first_speaker=1)
    assert decision.roles == {0: "customer", 1: "agent"}
    assert decision.source == "greeting"
