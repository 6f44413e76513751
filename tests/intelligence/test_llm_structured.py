"""The LLM summary's JSON schema, facts-only check, bounded retries and fallbacks, against a real
OpenAI-compatible HTTP server on 127.0.0.1 (tests/intelligence/test_llm.py's endpoint)."""

from __future__ import annotations

import json
import time
from datetime import datetime

import pytest

from octopushx.intelligence import AnalysisSettings, LLMError, LLMSettings, actions, llm, pipeline
from octopushx.intelligence.results import Utterance
from tests.intelligence.test_llm import _Endpoint

TRANSCRIPT = [
    ("agent", "Thank you for calling Northwind Broadband, this is Daniel."),
    ("customer", "My internet has been dropping out every evening for three weeks."),
    ("agent", "I will send you a replacement router by Wednesday."),
    ("agent", "I have added a credit of fifteen pounds to your account."),
]
UTTERANCES = [Utterance(s, i * 4.0, i * 4.0 + 3, t) for i, (s, t) in enumerate(TRANSCRIPT)]
TEXT = "\n".join(f"{s}: {t}" for s, t in TRANSCRIPT)
GOOD = {
    "reason": "The customer's internet has been dropping out every evening for three weeks.",
    "key_facts": ["Daniel added a credit of £15 to the customer's account."],
    "agreed": [],
    "next_steps": [{"owner": "agent", "action": "send a replacement router", "due": "by Wednesday"}],
}


@pytest.fixture
def endpoint():
    server = _Endpoint(answer=json.dumps(GOOD))
    yield server
    server.close()


def _settings(endpoint, **extra) -> LLMSettings:
    return LLMSettings(url=endpoint.url, model="m", **extra)


def test_valid_json_is_rendered_and_kept(endpoint):
    result = llm.summarise_structured(TEXT, _settings(endpoint))
    assert result.attempts == 1 and result.notes == []
    assert result.text.splitlines() == [
        "The customer's internet has been dropping out every evening for three weeks.",
        "Daniel added a credit of £15 to the customer's account.",
        "Next steps: Agent to send a replacement router (by Wednesday).",
    ]


def test_invented_facts_are_dropped_with_a_note(endpoint):
    endpoint.answer = json.dumps(
        {
            **GOOD,
            "key_facts": ["Sarah promised a credit of £50.", "The credit of £15 was added."],
            "agreed": ["An engineer visits on Thursday."],
        }
    )
    result = llm.summarise_structured(TEXT, _settings(endpoint))
    assert "Sarah" not in result.text and "£50" not in result.text and "Thursday" not in result.text
    assert "The credit of £15 was added." in result.text
    assert len(result.notes) == 1 and "2 sentence(s)" in result.notes[0]
    assert "Sarah" in result.notes[0] and "Thursday" in result.notes[0]


def test_invalid_json_is_retried_with_the_error_then_accepted(endpoint):
    endpoint.answers = ["Sure! Here is the summary: the customer called.", '{"reason": 5}', json.dumps(GOOD)]
    result = llm.summarise_structured(TEXT, _settings(endpoint, retries=2))
    assert result.attempts == 3 and len(endpoint.requests) == 3
    retry = endpoint.requests[1]["body"]["messages"][-1]["content"]
    assert "previous answer was not valid" in retry


def test_retries_are_bounded(endpoint):
    endpoint.answer = "not json at all"
    with pytest.raises(LLMError, match="valid JSON after 2 tries"):
        llm.summarise_structured(TEXT, _settings(endpoint, retries=1))
    assert len(endpoint.requests) == 2


def test_schema_violations_are_invalid(endpoint):
    endpoint.answer = json.dumps({**GOOD, "next_steps": [{"owner": "the manager", "action": "call"}]})
    with pytest.raises(LLMError, match="valid JSON"):
        llm.summarise_structured(TEXT, _settings(endpoint, retries=0))


def test_fenced_json_is_accepted(endpoint):
    endpoint.answer = "```json\n" + json.dumps(GOOD) + "\n```"
    assert llm.summarise_structured(TEXT, _settings(endpoint)).text.startswith("The customer's internet")


def test_answer_with_nothing_true_is_refused(endpoint):
    endpoint.answer = json.dumps(
        {"reason": "Sarah called on Monday about £99.", "key_facts": [], "agreed": [], "next_steps": []}
    )
    with pytest.raises(LLMError, match="not in the transcript"):
        llm.summarise_structured(TEXT, _settings(endpoint))


@pytest.mark.parametrize("problem", ["timeout", "invalid", "down"])
def test_pipeline_degrades_to_the_offline_summary_with_a_visible_note(endpoint, problem):
    if problem == "timeout":
        endpoint.delay = 1.5
        settings = _settings(endpoint, timeout=0.5)
    elif problem == "invalid":
        endpoint.answer = "I cannot help with that."
        settings = _settings(endpoint, retries=1)
    else:
        settings = LLMSettings(url="http://127.0.0.1:9/v1", model="m", timeout=1)
    items = actions.find(UTTERANCES, datetime(2026, 12, 7, 10, 0))
    warnings: list[str] = []
    started = time.monotonic()
    text, source = pipeline.summarise(UTTERANCES, items, AnalysisSettings(llm=settings), warnings)
    assert time.monotonic() - started < 6
    assert source == "structured"
    assert "Next steps: Agent to send the customer a replacement router by Wed 9 Dec." in text
    assert len(warnings) == 1 and warnings[0].startswith("LLM summary unavailable, used the offline summary")


def test_pipeline_uses_the_checked_llm_summary_and_notes_what_was_dropped(endpoint):
    endpoint.answer = json.dumps({**GOOD, "agreed": ["The agent promised a £40 voucher."]})
    warnings: list[str] = []
    items = actions.find(UTTERANCES, datetime(2026, 12, 7, 10, 0))
    text, source = pipeline.summarise(UTTERANCES, items, AnalysisSettings(llm=_settings(endpoint)), warnings)
    assert source == "llm:m" and "voucher" not in text and "£15" in text
    assert warnings and warnings[0].startswith("LLM summary: 1 sentence(s) of the LLM summary were left out")


def test_llm_may_state_the_due_dates_the_analysis_worked_out(endpoint):
    endpoint.answer = json.dumps(
        {**GOOD, "next_steps": [{"owner": "agent", "action": "send a replacement router", "due": "Wed 9 Dec"}]}
    )
    items = actions.find(UTTERANCES, datetime(2026, 12, 7, 10, 0))
    text, _ = pipeline.summarise(UTTERANCES, items, AnalysisSettings(llm=_settings(endpoint)), [])
    assert "(Wed 9 Dec)" in text
