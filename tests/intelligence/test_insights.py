"""Insights on the synthesised call: talk ratio, questions, action items, sentiment, summary."""

from __future__ import annotations

import pytest

from octopushx.intelligence import actions, keywords, metrics, sentiment, summary
from octopushx.intelligence.results import Utterance, Word


def test_talk_ratio_matches_the_script(stereo_analysis, mono_analysis, speech):
    for analysis in (stereo_analysis, mono_analysis):
        ratio = analysis.insights.metrics.talk_ratio
        assert ratio["agent"] + ratio["customer"] == pytest.approx(1.0, abs=0.01)
        assert ratio["agent"] == pytest.approx(speech["talk_ratio"]["agent"], abs=0.06), analysis.audio.channels


def test_call_metrics_are_plausible(stereo_analysis, speech):
    m = stereo_analysis.insights.metrics
    assert m.duration == pytest.approx(speech["duration"], abs=0.3)
    assert m.questions["agent"] >= 2 and m.questions["customer"] == 0
    assert 0.05 < m.silence_ratio < 0.5
    assert m.turns >= 8
    assert m.interruptions == {"agent": 0, "customer": 0}
    assert 0 < m.patience < 2.0
    assert m.longest_monologue["speaker"] in ("agent", "customer") and m.longest_monologue["seconds"] > 3
    assert 60 < m.words_per_minute["agent"] < 300


def test_agent_promise_becomes_an_action_item(stereo_analysis, mono_analysis):
    for analysis in (stereo_analysis, mono_analysis):
        items = [i for i in analysis.insights.action_items if "invoice" in i.text.lower()]
        assert items and items[0].owner == "agent"
        assert "friday" in (items[0].due or "").lower()


def test_sentiment_is_scored_per_utterance_speaker_and_time(stereo_analysis):
    scores = [u.sentiment for u in stereo_analysis.utterances]
    assert all(-1 <= s <= 1 for s in scores) and any(s > 0.3 for s in scores)
    result = stereo_analysis.insights.sentiment
    assert set(result.by_speaker) == {"agent", "customer"}
    assert len(result.timeline) == len(stereo_analysis.utterances)


def test_summary_keywords_and_topics(stereo_analysis):
    insights = stereo_analysis.insights
    assert insights.summary_source == "structured"
    lines = insights.summary.splitlines()
    assert lines[0].startswith("The customer would like to pay their bill with a card")
    assert lines[-1].startswith("Next steps: Agent to send the customer")
    assert "Customer:" not in insights.summary and "Agent:" not in insights.summary
    assert "octopus energy" in insights.keywords
    assert "payment" in insights.topics and "billing" in insights.topics


def test_nothing_said_gives_empty_insights(tmp_path):
    import subprocess

    from octopushx.intelligence import analyse

    path = tmp_path / "silence.wav"
    subprocess.run(["sox", "-R", "-D", "-n", "-r", "8000", "-c", "2", str(path), "trim", "0", "4"], check=True)
    result = analyse(path)
    assert result.utterances == []
    assert result.insights.summary == "" and result.insights.action_items == []
    assert result.insights.metrics.silence_ratio == 1.0
    assert any("No speech" in w for w in result.warnings)


# --- the analysers on plain text ------------------------------------------------------------


def _u(speaker, start, end, text):
    return Utterance(speaker, start, end, text)


def test_commitments_and_requests_have_owner_and_due_phrase():
    items = actions.find(
        [
            _u("agent", 0, 2, "Great. I will send you the invoice by Friday."),
            _u("customer", 3, 5, "Could you email me the contract please? I need it within 3 days."),
            _u("agent", 6, 8, "Can you read me the card number?"),
            _u("agent", 9, 12, "An engineer will call you by the end of the week."),
            _u("customer", 13, 15, "I'll pay the balance next Monday."),
            _u("agent", 16, 18, "Let me have a look at your account."),
        ]
    )
    assert [(i.owner, i.due) for i in items] == [
        ("agent", "by Friday"),
        ("agent", None),
        ("agent", "by the end of the week"),
        ("customer", "next Monday"),
    ]
    assert items[0].text == "I will send you the invoice by Friday."


def test_due_phrases():
    assert actions.due_phrase("we'll sort it out tomorrow morning") == "tomorrow morning"
    assert actions.due_phrase("I will call you back within two working days") == "within two working days"
    assert actions.due_phrase("before 3rd of March") == "before 3rd of March"
    assert actions.due_phrase("I will send it") is None


def test_metrics_count_interruptions_patience_and_monologues():
    utterances = [
        _u("customer", 0.0, 10.0, "My router keeps dropping the connection every night"),
        _u("agent", 9.0, 12.0, "Sorry, can I just stop you there?"),  # cuts in by a second
        _u("customer", 12.5, 14.0, "Yes of course"),
        _u("agent", 16.0, 18.0, "Let me check the line"),  # replies after 2 s
    ]
    m = metrics.compute(utterances, duration=20.0)
    assert m.interruptions == {"agent": 1, "customer": 0}
    assert m.patience == pytest.approx((0.0 + 2.0) / 2)
    assert m.longest_monologue == {"speaker": "customer", "seconds": 10.0, "start": 0.0}
    assert m.questions == {"agent": 1, "customer": 0}
    assert m.talk_ratio["customer"] == pytest.approx(11.5 / 16.5, abs=0.01)
    assert m.silence_ratio == pytest.approx(1 - 15.5 / 20.0, abs=0.01)


def test_talk_time_uses_words_not_pauses_inside_an_utterance():
    words = [Word("hello", 0.0, 0.5), Word("there", 4.5, 5.0)]
    m = metrics.compute([Utterance("agent", 0.0, 5.0, "hello there", words=words)], duration=5.0)
    assert m.talk_time["agent"] == pytest.approx(1.0)


def test_vader_scores_are_signed():
    assert sentiment.score("This is terrible, I am really angry") < -0.5
    assert sentiment.score("Brilliant, thank you so much") > 0.5
    assert sentiment.score("") == 0.0


def test_extractive_summary_skips_greetings_and_keeps_order():
    text = summary.extractive(
        [
            _u("agent", 0, 2, "Thank you for calling Northwind, how can I help?"),
            _u("customer", 2, 6, "My internet connection has been dropping out every evening for a week."),
            _u("agent", 6, 9, "I can see a fault on the exchange and an engineer will fix it by Friday."),
            _u("customer", 9, 10, "Okay thanks, goodbye."),
        ],
        count=2,
    )
    assert text.startswith("Customer: My internet connection")
    assert "Agent: I can see a fault" in text
    assert "Thank you for calling" not in text


def test_keywords_leave_out_redaction_tags_and_numbers():
    found = keywords.keywords(
        "The broadband router keeps failing. My card is [CARD] and the broadband router is 12 years old. "
        "The broadband engineer visit is booked."
    )
    assert "broadband router" in found
    assert not any("card]" in k or k.isdigit() for k in found)
