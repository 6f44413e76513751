"""The typed answers of the calls API (octopushx.calls.schemas) are exactly what the builders make.

Two kinds of drift are caught here: a field the analysis pipeline gains (or loses) that the schema
does not name, which pydantic would silently drop from the answer; and an answer that differs from
what ``call_detail``/``result_info``/``call_summary`` build (a key added or left out, an instant
reformatted, an integer turned into a float).
"""

from __future__ import annotations

import json
from dataclasses import fields

from django.core.serializers.json import DjangoJSONEncoder

import octopushx.api  # noqa: F401 (mounts every router before calls.api is imported)
from octopushx import intelligence
from octopushx.calls import schemas, services
from octopushx.calls.api import call_detail, call_summary, result_info
from octopushx.calls.models import Call, CallAnalysisResult
from octopushx.intelligence import metrics, results
from octopushx.intelligence.config import AnalysisSettings, LLMSettings
from tests.calls.factories import CALL_SCRIPT, analysed_call, analysis


def canonical(value) -> str:
    """JSON text with sorted keys: equal only when keys, values and number types (1 vs 1.0) match."""
    return json.dumps(json.loads(json.dumps(value, cls=DjangoJSONEncoder)), sort_keys=True)


def assert_answers(response, built: dict) -> None:
    assert response.status_code == 200, response.content
    assert canonical(response.json()) == canonical(built)
    assert list(response.json()) == list(built), "top-level keys in the builder's order"


def names(dataclass) -> list[str]:
    return [f.name for f in fields(dataclass)]


def test_the_schemas_name_every_field_of_the_analysis():
    pairs = [
        (results.Insights, schemas.CallInsightsOut, {"trackers"}),
        (results.Metrics, schemas.CallMetricsOut, set()),
        (results.Sentiment, schemas.SentimentOut, set()),
        (results.SentimentPoint, schemas.SentimentPointOut, set()),
        (results.ActionItem, schemas.ActionItemOut, set()),
        (results.RedactionSpan, schemas.RedactionSpanOut, set()),
        (results.Speakers, schemas.SpeakersOut, set()),
        (AnalysisSettings, schemas.AnalysisSettingsOut, set()),
    ]
    for dataclass, schema, added in pairs:
        assert names(dataclass) == [n for n in schema.model_fields if n not in added], schema.__name__
    llm = LLMSettings(url="http://127.0.0.1:8080/v1", model="m", api_key="secret")
    assert list(llm.public()) == list(schemas.LLMSettingsOut.model_fields)
    longest = metrics.compute([intelligence.Utterance("agent", 0.0, 2.0, "Hello there")], 2.0)
    assert list(longest.longest_monologue) == list(schemas.LongestMonologueOut.model_fields)


def test_the_settings_schema_defaults_are_the_pipelines():
    """A key an old run lacks is left out of the answer, but a client that fills it from the
    schema's default gets what the pipeline would have used."""
    assert canonical(schemas.AnalysisSettingsOut().model_dump()) == canonical(AnalysisSettings().public())


def test_call_settings_schema_names_the_snapshot(org):
    snapshot = services.settings_snapshot(services.call_settings(org))
    assert list(snapshot) == list(schemas.CallSettingsOut.model_fields)


def _rich_analysis() -> intelligence.CallAnalysis:
    """Integers where the pipeline may store them, a redaction, an original transcript."""
    result = analysis(CALL_SCRIPT)
    result.insights.metrics.talk_time = {"agent": 3, "customer": 2.5}
    result.insights.metrics.interruptions = {"agent": 1, "customer": 0}
    result.insights.metrics.turns = 5
    result.insights.topics = ["billing"]
    result.redaction = intelligence.Redaction([intelligence.RedactionSpan("CARD", "customer", 10.0, 14.5)])
    result.original_utterances = [intelligence.Utterance("customer", 10.0, 14.5, "four nine one six")]
    result.warnings = ["One warning"]
    return result


def test_call_detail_answers_what_call_detail_builds(org, api_as):
    client = api_as("admin")
    call = analysed_call(org, result=_rich_analysis())
    response = client.get(f"/api/v1/calls/{call.pk}")
    assert_answers(response, call_detail(Call.objects.get(pk=call.pk)))
    body = response.json()
    assert body["insights"]["metrics"]["talk_time"]["agent"] == 3
    assert '"agent": 3,' in response.content.decode(), "an integer stays an integer"
    assert body["redaction"] == {
        "counts": {"CARD": 1},
        "spans": [{"kind": "CARD", "speaker": "customer", "start": 10.0, "end": 14.5}],
    }
    assert body["created_at"].endswith("+00:00"), "instants keep the format clients parse"

    original = client.get(f"/api/v1/calls/{call.pk}?original=true")
    assert_answers(original, call_detail(Call.objects.get(pk=call.pk), original=True))
    assert original.json()["transcript"]["redacted"] is False


def test_corrected_action_items_answer_without_invented_keys(org, api_as):
    client = api_as("admin")
    call = analysed_call(org)
    response = client.post(
        f"/api/v1/calls/{call.pk}/corrections",
        {"summary": "Paid by card.", "action_items": [{"text": "Send the receipt", "owner": "agent"}]},
    )
    assert_answers(response, call_detail(Call.objects.get(pk=call.pk)))
    [item] = response.json()["insights"]["action_items"]
    assert item == {"text": "Send the receipt", "owner": "agent", "due": None}
    [correction] = response.json()["analysis"]["corrections"]
    assert correction["changes"]["summary"] == ["The customer paid a bill.", "Paid by card."]

    approved = client.post(f"/api/v1/calls/{call.pk}/approve")
    assert_answers(approved, call_detail(Call.objects.get(pk=call.pk)))
    assert approved.json()["analysis"]["reviewed_by"]["email"] == client.membership.user.email


def test_a_result_stored_before_newer_keys_answers_as_stored(org, api_as):
    """Runs from before ``speakers`` existed, with a partial settings snapshot and no monologue."""
    call = analysed_call(org)
    result = CallAnalysisResult.objects.get(pk=call.current_id)
    result.data.pop("speakers")
    result.data["insights"]["metrics"]["longest_monologue"] = {}
    result.analysis_settings = {"model": "tiny.en", "beam_size": 5}
    result.save()
    client = api_as("admin")
    response = client.get(f"/api/v1/calls/{call.pk}")
    assert_answers(response, call_detail(Call.objects.get(pk=call.pk)))
    body = response.json()
    assert body["analysis"]["settings"] == {"model": "tiny.en", "beam_size": 5}
    assert body["insights"]["metrics"]["longest_monologue"] == {}
    assert body["speakers"]["confidence"] == 1.0 and body["speakers"]["method"] == "channels"

    runs = client.get(f"/api/v1/calls/{call.pk}/results")
    assert runs.status_code == 200
    [run] = runs.json()["items"]
    assert canonical(run) == canonical({**result_info(result), "current": True})


def test_a_call_not_analysed_yet_answers_nulls(org, api_as):
    call = Call.objects.create(tenant=org, filename="x.wav")
    response = api_as("admin").get(f"/api/v1/calls/{call.pk}")
    assert_answers(response, call_detail(Call.objects.get(pk=call.pk)))
    body = response.json()
    assert [body[k] for k in ("analysis", "transcript", "insights", "redaction", "speakers")] == [None] * 5
    assert body["warnings"] == [] and body["review_state"] is None and body["label"] is None


def test_list_items_answer_what_call_summary_builds(org, api_as):
    call = analysed_call(org)
    response = api_as("admin").get("/api/v1/calls")
    assert response.status_code == 200
    assert canonical(response.json()) == canonical(
        {"items": [call_summary(Call.objects.select_related("agent", "contact").get(pk=call.pk))], "next": None}
    )
