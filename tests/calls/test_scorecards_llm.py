"""QA scorecards' suggestions from the language model, against a real OpenAI-compatible HTTP server on
127.0.0.1: valid answers become suggestions with evidence, invented lines and wrong values are dropped,
invalid JSON is retried, a model that fails leaves a note; the job, the panel's button and the API."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from octopushx.calls import scoring, tasks
from octopushx.calls.models import Call, ModelSuggestions, ModelSuggestionState
from octopushx.calls.services import scorecards as services
from octopushx.core import jobs
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry, Job
from octopushx.intelligence import LLMSettings
from octopushx.tenancy.models import Team
from tests.calls.conftest import tone_wav
from tests.calls.factories import CALL_SCRIPT, analysed_call, analysis
from tests.conftest import ApiClient, make_member
from tests.intelligence.test_llm import _Endpoint

DEFINITION = {
    "sections": [
        {
            "id": "main",
            "title": "Main",
            "questions": [
                {
                    "id": "greeting",
                    "text": "Greeted the customer",
                    "kind": "yes_no",
                    "options": scoring.default_options("yes_no", 5),
                    "auto": {"source": "rule", "rule": "greeting"},
                },
                {
                    "id": "resolved",
                    "text": "Did the agent resolve the customer's issue?",
                    "kind": "yes_no",
                    "options": scoring.default_options("yes_no", 10),
                    "auto": {"source": "llm", "guidance": "Yes only if the customer's request was handled"},
                },
                {
                    "id": "tone",
                    "text": "Overall tone",
                    "kind": "select",
                    "options": [
                        {"value": "warm", "label": "Warm", "points": 10},
                        {"value": "curt", "label": "Curt", "points": 0},
                    ],
                    "auto": {"source": "llm"},
                },
            ],
        }
    ]
}
GOOD = {
    "answers": [
        {"question_id": "resolved", "value": "yes", "evidence": [5, 6], "reason": "The receipt is sent by Friday."},
        {"question_id": "tone", "value": "warm", "evidence": [1], "reason": "Polite throughout."},
    ]
}


@pytest.fixture
def endpoint():
    server = _Endpoint(answer=json.dumps(GOOD))
    yield server
    server.close()


@pytest.fixture
def model(settings, endpoint):
    settings.CALLS_ANALYSIS = replace(
        django_settings.CALLS_ANALYSIS, llm=LLMSettings(url=endpoint.url, model="qa-model-7", timeout=2, retries=1)
    )
    return endpoint


@pytest.fixture
def people(org):
    team = Team.objects.create(tenant=org, name="Support")
    agent = make_member(org, "agent")
    agent.team = team
    agent.save()
    manager = make_member(org, "manager")
    manager.team = team
    manager.save()
    return {"agent": agent, "manager": manager, "admin": make_member(org, "admin")}


@pytest.fixture
def card(org, people):
    return services.create_scorecard(
        org, Actor(user=people["admin"].user), {"name": "Resolution QA", "definition": DEFINITION}
    )


def _analysed(org, people):
    return analysed_call(org, agent=people["agent"].user)


def _run_model_jobs() -> list[Job]:
    done = []
    for job in Job.objects.filter(kind=services.MODEL_JOB, state="queued"):
        done.append(jobs.run(job.pk))
    return done


def test_llm_source_is_valid_for_every_kind_and_keeps_guidance():
    parsed = scoring.Definition.model_validate(DEFINITION)
    assert parsed.question("tone").auto.source == "llm"
    assert parsed.question("resolved").auto.guidance.startswith("Yes only")
    scale = {"id": "s", "text": "S", "kind": "scale", "options": scoring.default_options("scale")}
    scale["auto"] = {"source": "llm"}
    _, errors = scoring.parse_definition({"sections": [{"id": "a", "title": "A", "questions": [scale]}]})
    assert errors == {}
    scale["auto"] = {"source": "rule", "rule": "greeting"}
    _, errors = scoring.parse_definition({"sections": [{"id": "a", "title": "A", "questions": [scale]}]})
    assert "definition.sections.0.questions.0.auto" in errors


def test_valid_answers_become_suggestions_with_evidence(org, people, card, model):
    call = _analysed(org, people)
    services.queue_model_suggestions(call)
    [job] = _run_model_jobs()
    assert job.state == "done"
    request = model.requests[0]["body"]
    user = request["messages"][-1]["content"]
    assert request["response_format"] == {"type": "json_object"}
    assert '"resolved"' in user and "Did the agent resolve" in user and "Yes only if" in user
    assert "1. agent: Thank you for calling" in user
    assert "4916" not in user.replace(" ", "")  # the redacted transcript only
    found = services.suggest(call, card)
    assert found["greeting"]["source"] == "rule"
    resolved = found["resolved"]
    assert resolved["source"] == "llm" and resolved["value"] == "yes" and resolved["model"] == "qa-model-7"
    assert "qa-model-7" in resolved["reason"]
    assert [e["position"] for e in resolved["evidence"]] == [4, 5]  # lines 5 and 6
    assert found["tone"]["evidence"][0]["text"].startswith("Thank you for calling")


def test_invented_lines_and_wrong_values_are_dropped(org, people, card, model):
    model.answer = json.dumps(
        {
            "answers": [
                {"question_id": "resolved", "value": "yes", "evidence": [99, 0], "reason": "x"},
                {"question_id": "tone", "value": "rude", "evidence": [1], "reason": "x"},
                {"question_id": "greeting", "value": "yes", "evidence": [1], "reason": "not asked"},
            ]
        }
    )
    call = _analysed(org, people)
    services.queue_model_suggestions(call)
    _run_model_jobs()
    row = ModelSuggestions.objects.get(call=call)
    assert row.state == ModelSuggestionState.DONE and row.suggestions == {}
    assert "no line of the transcript" in row.note and "not one of its answers" in row.note
    found = services.suggest(call, card)
    assert "resolved" not in found and "tone" not in found
    assert found["greeting"]["source"] == "rule"


def test_invented_line_is_dropped_but_a_real_one_kept(org, people, card, model):
    model.answer = json.dumps(
        {
            "answers": [
                {
                    "question_id": "resolved",
                    "value": "no",
                    "evidence": [42, 3],
                    "reason": "The agent did not fix it. Daniel promised a refund of 50 pounds.",
                }
            ]
        }
    )
    call = _analysed(org, people)
    services.queue_model_suggestions(call)
    _run_model_jobs()
    resolved = services.suggest(call, card)["resolved"]
    assert resolved["value"] == "no" and [e["position"] for e in resolved["evidence"]] == [2]
    assert "did not fix it" in resolved["reason"] and "Daniel" not in resolved["reason"]  # facts-only check


def test_invalid_json_is_retried_then_accepted(org, people, card, model):
    model.answers = ["Sure, the agent resolved it.", json.dumps(GOOD)]
    call = _analysed(org, people)
    services.queue_model_suggestions(call)
    _run_model_jobs()
    assert len(model.requests) == 2
    assert "previous answer was not valid" in model.requests[1]["body"]["messages"][-1]["content"]
    assert services.suggest(call, card)["resolved"]["source"] == "llm"


def test_invalid_json_every_time_leaves_a_note(org, people, card, model, client):
    model.answer = '{"answers": "no"}'
    call = _analysed(org, people)
    services.queue_model_suggestions(call)
    _run_model_jobs()
    assert len(model.requests) == 2  # retries=1: bounded
    row = ModelSuggestions.objects.get(call=call)
    assert row.state == ModelSuggestionState.FAILED and "valid JSON after 2 tries" in row.note
    assert "resolved" not in services.suggest(call, card)
    client.force_login(people["manager"].user)
    page = client.get(f"/calls/{call.pk}/qa/", HTTP_HX_REQUEST="true").content.decode()
    assert "The language model did not answer: no valid JSON" in page
    assert 'data-testid="qa-ask-model"' in page  # it may be asked again


def test_slow_model_times_out_with_a_note(org, people, card, model):
    model.delay = 3  # the timeout is 2 s
    call = _analysed(org, people)
    services.queue_model_suggestions(call)
    [job] = _run_model_jobs()
    assert job.state == "done"  # the job itself does not fail
    row = ModelSuggestions.objects.get(call=call)
    assert row.state == ModelSuggestionState.FAILED and "could not be reached" in row.note
    assert "resolved" not in services.suggest(call, card)


def test_unreachable_model_leaves_a_note(org, people, card, settings):
    settings.CALLS_ANALYSIS = replace(
        django_settings.CALLS_ANALYSIS, llm=LLMSettings(url="http://127.0.0.1:9/v1", model="m", timeout=1)
    )
    call = _analysed(org, people)
    services.queue_model_suggestions(call)
    _run_model_jobs()
    row = ModelSuggestions.objects.get(call=call)
    assert row.state == ModelSuggestionState.FAILED and row.suggestions == {}
    assert services.suggest(call, card)["greeting"]["source"] == "rule"


def test_a_job_that_fails_for_good_stops_the_wait(org, people, card, model):
    call = _analysed(org, people)
    [row] = services.queue_model_suggestions(call)
    services.model_job_failed(Job.objects.get(pk=row.job_id))
    row.refresh_from_db()
    assert row.state == ModelSuggestionState.FAILED and "stopped" in row.note


def test_no_model_configured_queues_nothing_and_shows_no_button(org, people, card, client, settings):
    settings.CALLS_ANALYSIS = replace(django_settings.CALLS_ANALYSIS, llm=None)
    call = _analysed(org, people)
    assert services.queue_model_suggestions(call) == []
    assert not Job.objects.filter(kind=services.MODEL_JOB).exists()
    client.force_login(people["manager"].user)
    page = client.get(f"/calls/{call.pk}/qa/", HTTP_HX_REQUEST="true").content.decode()
    assert "AI suggestion" in page  # the panel is there, with the rules' suggestions
    assert "Ask the language model" not in page and 'data-testid="qa-model"' not in page
    with pytest.raises(ValidationError) as caught:
        services.request_model_suggestions(org, Actor(user=people["manager"].user), call, card)
    assert "language_model" in caught.value.message_dict


def test_scorecard_without_llm_questions_is_not_asked(org, people, model):
    call = _analysed(org, people)
    services.ensure_example(org)  # rules, metrics and a select question without a source
    assert services.queue_model_suggestions(call) == []
    assert not model.requests


def test_panel_button_asks_and_polls_until_the_answers_show(org, people, card, model, client):
    call = _analysed(org, people)
    client.force_login(people["manager"].user)
    page = client.get(f"/calls/{call.pk}/qa/", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="qa-ask-model"' in page
    asked = client.post(f"/calls/{call.pk}/qa/{card.pk}/model/", HTTP_HX_REQUEST="true").content.decode()
    assert "Asking the language model (qa-model-7)" in asked and 'data-testid="qa-model-poll"' in asked
    entry = AuditEntry.objects.get(tenant=org, action="call_score.model_requested")
    assert entry.object_id == str(call.pk) and entry.actor_user_id == people["manager"].user.pk
    _run_model_jobs()
    page = client.get(f"/calls/{call.pk}/qa/", HTTP_HX_REQUEST="true").content.decode()
    assert "suggested 2 answers" in page and "language model" in page
    assert 'data-testid="qa-ask-model"' not in page and "qa-model-poll" not in page
    # the reviewer saves: the model's suggestion is kept with the answer
    saved = services.save_answers(
        org, Actor(user=people["manager"].user), call, card, {"answers": {"resolved": {"value": "yes"}}}
    )
    assert saved.answers["resolved"]["ai_suggested"] and saved.answers["resolved"]["suggestion"]["source"] == "llm"


def test_analysis_queues_the_model_job(org, people, card, model, monkeypatch, run_jobs):
    """The calls.process job asks the model once the call is analysed (the speech pipeline replaced by
    the factory's transcript: only the hook is under test), and the answers are there after the jobs."""
    monkeypatch.setattr(tasks.intelligence, "analyse", lambda *args, **kwargs: analysis(CALL_SCRIPT))
    response = ApiClient(people["agent"]).post(
        "/api/v1/calls",
        {"file": SimpleUploadedFile("call.wav", tone_wav(seconds=1), content_type="audio/wav")},
        multipart=True,
    )
    assert response.status_code == 201, response.content
    run_jobs()
    call = Call.objects.get(pk=response.json()["id"])
    row = ModelSuggestions.objects.get(call=call, scorecard=card)
    assert row.state == ModelSuggestionState.DONE and set(row.suggestions) == {"resolved", "tone"}
    assert Job.objects.filter(kind=services.MODEL_JOB, state="done").count() == 1
    assert services.queue_model_suggestions(call) == []  # already answered for this run and revision


# --- API ------------------------------------------------------------------------------------


def test_api_lists_the_model_suggestions(org, people, card, model):
    call = _analysed(org, people)
    services.queue_model_suggestions(call)
    _run_model_jobs()
    body = ApiClient(people["manager"]).get(f"/api/v1/calls/{call.pk}/scorecards").json()
    assert body["language_model"] is True
    [item] = [i for i in body["items"] if i["scorecard"]["id"] == str(card.pk)]
    assert item["model_questions"] == 2
    assert item["model_suggestions"]["state"] == "done" and item["model_suggestions"]["answers"] == 2
    resolved = item["suggestions"]["resolved"]
    assert resolved["source"] == "llm" and resolved["label"] == "AI suggestion" and resolved["model"] == "qa-model-7"
    assert resolved["evidence"][0]["kind"] == "line" and resolved["evidence"][0]["position"] == 4
    question = item["scorecard"]["sections"][0]["questions"][1]
    assert question["auto"]["source"] == "llm" and question["auto"]["guidance"].startswith("Yes only")


def test_api_ask_the_model(org, people, card, model):
    call = _analysed(org, people)
    client = ApiClient(people["manager"])
    url = f"/api/v1/calls/{call.pk}/scorecards/{card.pk}/model-suggestions"
    asked = client.post(url, {})
    assert asked.status_code == 202, asked.json()
    assert asked.json()["state"] == "queued" and asked.json()["model"] == "qa-model-7"
    assert client.post(url, {}).status_code == 202  # while it works: the same request
    assert Job.objects.filter(kind=services.MODEL_JOB).count() == 1
    _run_model_jobs()
    again = client.post(url, {})
    assert again.status_code == 422 and "state" in json.dumps(again.json())


def test_api_ask_the_model_wrong_role_and_tenant(org, other_org, people, card, model):
    call = _analysed(org, people)
    url = f"/api/v1/calls/{call.pk}/scorecards/{card.pk}/model-suggestions"
    assert ApiClient(make_member(org, "auditor")).post(url, {}).status_code == 403
    assert ApiClient(people["agent"]).post(url, {}).status_code == 403
    assert ApiClient(make_member(other_org, "admin")).post(url, {}).status_code == 404
    theirs = analysed_call(other_org)
    assert (
        ApiClient(people["manager"])
        .post(f"/api/v1/calls/{theirs.pk}/scorecards/{card.pk}/model-suggestions", {})
        .status_code
        == 404
    )
    assert not ModelSuggestions.objects.exists() and not model.requests


def test_api_ask_the_model_bad_input_is_422(org, people, model):
    call = _analysed(org, people)
    example = services.ensure_example(org)
    response = ApiClient(people["manager"]).post(
        f"/api/v1/calls/{call.pk}/scorecards/{example.pk}/model-suggestions", {}
    )
    assert response.status_code == 422 and "scorecard_id" in json.dumps(response.json())
    assert not ModelSuggestions.objects.exists()
