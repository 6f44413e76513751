"""QA scorecards: the pure scoring, the AI suggestions with evidence, the review states, the API
(happy path, another tenant, the wrong role, bad input) and the figures reports read."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from octopushx.calls import qa_evidence, scoring
from octopushx.calls.models import CallScore, Scorecard, ScoreDispute, ScoreState, Tracker, TrackerHit
from octopushx.calls.services import scorecards as services
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry
from octopushx.tenancy.models import Team
from tests.calls.factories import analysed_call
from tests.conftest import ApiClient, make_member

# --- a small definition for the scoring tests ------------------------------------------------


def yes_no(qid, points=10, **extra):
    return {
        "id": qid,
        "text": qid.title(),
        "kind": "yes_no",
        "options": scoring.default_options("yes_no", points),
        **extra,
    }


def definition(*questions) -> scoring.Definition:
    return scoring.Definition.model_validate(
        {"sections": [{"id": "main", "title": "Main", "questions": list(questions)}]}
    )


def answers(**values) -> dict[str, scoring.Answer]:
    return {
        qid: scoring.Answer(None, True) if value == "skip" else scoring.Answer(value) for qid, value in values.items()
    }


def test_score_adds_points_and_percent():
    card = definition(yes_no("a", 10), yes_no("b", 5), yes_no("c", 5, weight=2))
    result = scoring.compute(card, answers(a="yes", b="no", c="yes"))
    assert (result.score, result.max, result.percent, result.failed) == (20, 25, 80.0, False)


def test_skipped_question_is_left_out_of_the_maximum():
    card = definition(yes_no("a", 10), yes_no("b", 10, skippable=True))
    result = scoring.compute(card, answers(a="yes", b="skip"))
    assert (result.score, result.max, result.percent) == (10, 10, 100.0)
    assert result.questions["b"].skipped


def test_auto_fail_answer_makes_the_score_zero_with_the_reason():
    card = definition(yes_no("a", 10), yes_no("verify", 10, auto_fail="no"))
    result = scoring.compute(card, answers(a="yes", verify="no"))
    assert (result.score, result.percent, result.failed) == (0, 0.0, True)
    assert result.fail_reasons == [{"question_id": "verify", "question": "Verify", "answer": "No"}]


def test_scale_and_select_points():
    scale = {"id": "s", "text": "S", "kind": "scale", "options": scoring.default_options("scale")}
    select = {
        "id": "t",
        "text": "T",
        "kind": "select",
        "options": [{"value": "warm", "label": "Warm", "points": 6}, {"value": "cold", "label": "Cold", "points": 0}],
    }
    result = scoring.compute(definition(scale, select), answers(s="4", t="warm"))
    assert (result.score, result.max) == (9, 10)


def test_unanswered_question_is_left_out_of_a_draft_and_needed_to_submit():
    card = definition(yes_no("a"), yes_no("b"))
    assert scoring.compute(card, answers(a="yes")).unanswered == ["b"]
    assert scoring.answer_errors(card, answers(a="yes"), complete=True) == {"answers.b": ["Answer this question"]}
    assert scoring.answer_errors(card, answers(a="yes"), complete=False) == {}


def test_answer_errors_name_the_question():
    card = definition(yes_no("a"), yes_no("b"))
    errors = scoring.answer_errors(card, answers(a="maybe", b="skip", z="yes"), complete=False)
    assert set(errors) == {"answers.a", "answers.b", "answers.z"}


@pytest.mark.parametrize(
    ("sections", "field"),
    [
        ([], "definition.sections"),
        ([{"id": "s", "title": "S", "questions": []}], "definition.sections.0.questions"),
        (
            [
                {
                    "id": "s",
                    "title": "S",
                    "questions": [{**yes_no("a"), "options": scoring.default_options("yes_no", 0)}],
                }
            ],
            "definition.sections.0.questions.0.options",
        ),
        (
            [{"id": "s", "title": "S", "questions": [{**yes_no("a"), "auto_fail": "maybe"}]}],
            "definition.sections.0.questions.0.auto_fail",
        ),
        (
            [
                {
                    "id": "s",
                    "title": "S",
                    "questions": [
                        {
                            **yes_no("a"),
                            "options": [
                                {"value": "yes", "label": "Yes", "points": -5},
                                *scoring.default_options("yes_no")[1:],
                            ],
                        }
                    ],
                }
            ],
            "definition.sections.0.questions.0.options.0.points",
        ),
    ],
)
def test_definition_that_cannot_add_up_names_the_field(sections, field):
    parsed, errors = scoring.parse_definition({"sections": sections})
    assert parsed is None
    assert field in errors, errors


def test_example_definition_is_valid():
    parsed, errors = scoring.parse_definition(scoring.example_definition())
    assert errors == {}
    assert len(parsed.questions()) == 11


# --- suggestions ----------------------------------------------------------------------------


def facts(lines, *, metrics=None, sentiment=None, hits=None, roles_known=True):
    utterances, start = [], 0.0
    for i, (speaker, text) in enumerate(lines):
        utterances.append(
            {"position": i, "speaker": speaker, "start": start, "end": start + 3, "text": text, "sentiment": 0.0}
        )
        start += 3.5
    return qa_evidence.CallFacts(utterances, metrics or {}, sentiment or {}, roles_known, hits or [])


def question(qid="q", **auto):
    return scoring.Question.model_validate({**yes_no(qid), "auto": auto})


def test_rule_suggestion_names_its_evidence_line():
    call = facts([("agent", "Good morning, this is Alex."), ("customer", "Hi.")])
    found = qa_evidence.suggest(question(source="rule", rule="greeting"), call)
    assert found.value == "yes"
    assert found.evidence == [
        {"kind": "line", "position": 0, "start": 0.0, "speaker": "agent", "text": "Good morning, this is Alex."}
    ]


def test_no_evidence_leaves_the_answer_unsuggested():
    call = facts([("agent", "What is the problem?"), ("customer", "My bill.")])
    assert qa_evidence.suggest(question(source="rule", rule="greeting"), call) is None
    assert qa_evidence.suggest(question(source="tracker", tracker_id="t1"), call) is None


def test_customer_lines_are_not_evidence_for_the_agent():
    call = facts([("customer", "Hello, good morning"), ("agent", "Yes?")])
    assert qa_evidence.suggest(question(source="rule", rule="greeting"), call) is None


def test_unknown_roles_give_no_suggestion():
    call = facts([("agent", "Good morning")], roles_known=False)
    assert qa_evidence.suggest(question(source="rule", rule="greeting"), call) is None


def test_metric_suggestion_both_ways_with_the_value():
    call = facts([("agent", "a"), ("customer", "b")], metrics={"talk_ratio": {"agent": 0.8}})
    found = qa_evidence.suggest(question(source="metric", metric="talk_ratio", limit=0.65), call)
    assert found.value == "no"
    assert found.evidence[0] == {"kind": "metric", "name": "talk_ratio", "value": 0.8, "label": "Agent talk ratio"}
    call.metrics = {"talk_ratio": {"agent": 0.4}}
    assert qa_evidence.suggest(question(source="metric", metric="talk_ratio", limit=0.65), call).value == "yes"


def test_tracker_suggestion_from_hits():
    call = facts([("agent", "Let me check"), ("customer", "I want to cancel")])
    call.hits = [
        {"tracker_id": "t1", "tracker": "Churn", "phrase": "cancel", "position": 1, "start": 3.5, "speaker": "customer"}
    ]
    assert qa_evidence.suggest(question(source="tracker", tracker_id="t1"), call).value == "yes"
    absent = question(source="tracker", tracker_id="t1", expect="absent")
    found = qa_evidence.suggest(absent, call)
    assert found.value == "no" and found.evidence[0]["position"] == 1


# --- services ---------------------------------------------------------------------------------


@pytest.fixture
def people(org):
    team = Team.objects.create(tenant=org, name="Support")
    agent = make_member(org, "agent")
    agent.team = team
    agent.save()
    manager = make_member(org, "manager")
    manager.team = team
    manager.save()
    return {"agent": agent, "manager": manager, "admin": make_member(org, "admin"), "team": team}


def actor(membership) -> Actor:
    return Actor(user=membership.user)


@pytest.fixture
def card(org, people):
    return services.create_scorecard(
        org,
        actor(people["admin"]),
        {"name": "Quality", "definition": scoring.example_definition(), "applies_to": {}},
    )


@pytest.fixture
def call(org, people):
    return analysed_call(org, agent=people["agent"].user)


def complete(**changes):
    given = {
        q.id: {"value": q.options[0].value}
        for q in scoring.Definition.model_validate(scoring.example_definition()).questions()
    }
    for qid, value in changes.items():
        given[qid] = {"value": None, "skipped": True} if value == "skip" else {"value": value}
    return given


def test_create_scorecard_is_audited(org, card):
    entry = AuditEntry.objects.get(tenant=org, action="scorecard.created")
    assert entry.object_id == str(card.pk)


def test_agent_cannot_build_scorecards(org, people):
    with pytest.raises(PermissionDenied):
        services.create_scorecard(
            org, actor(people["agent"]), {"name": "x", "definition": scoring.example_definition()}
        )


def test_changing_questions_raises_the_revision(org, people, card):
    changed = copy.deepcopy(card.definition)
    changed["sections"][0]["title"] = "Start"
    services.update_scorecard(org, actor(people["admin"]), card, {"definition": changed})
    assert card.revision == 2
    services.update_scorecard(org, actor(people["admin"]), card, {"description": "Hello"})
    assert card.revision == 2


def test_applicable_by_team_direction_and_tracker(org, people, call):
    make = services.create_scorecard
    admin = actor(people["admin"])
    other_team = Team.objects.create(tenant=org, name="Sales")
    tracker = Tracker.objects.create(tenant=org, name="Churn", phrases=["cancel"])
    definition_data = scoring.example_definition()
    every = make(org, admin, {"name": "Every", "definition": definition_data})
    team = make(
        org,
        admin,
        {"name": "Team", "definition": definition_data, "applies_to": {"team_ids": [str(people["team"].pk)]}},
    )
    make(org, admin, {"name": "Sales", "definition": definition_data, "applies_to": {"team_ids": [str(other_team.pk)]}})
    make(org, admin, {"name": "Outbound", "definition": definition_data, "applies_to": {"direction": "outbound"}})
    heard = make(
        org, admin, {"name": "Heard", "definition": definition_data, "applies_to": {"tracker_ids": [str(tracker.pk)]}}
    )
    assert {s.name for s in services.applicable(call)} == {"Every", "Team"}
    TrackerHit.objects.create(
        tenant=org, call=call, tracker=tracker, phrase="cancel", speaker="customer", start=1, position=1
    )
    assert {s.pk for s in services.applicable(call)} == {every.pk, team.pk, heard.pk}


def test_suggestions_on_a_real_analysis(call, card):
    found = services.suggest(call, card)
    assert found["greeting"]["value"] == "yes"
    assert found["greeting"]["evidence"][0]["position"] == 0
    assert found["introduction"]["value"] == "yes"
    assert found["listening"]["value"] == "yes"  # agent talk ratio 0.5
    assert "asked_name" not in found  # no evidence: left unsuggested


def test_draft_then_submit_keeps_suggestions_and_counts(org, people, call, card):
    reviewer = actor(people["manager"])
    draft = services.save_answers(org, reviewer, call, card, {"answers": {"greeting": {"value": "yes"}}})
    assert draft.state == ScoreState.DRAFT
    assert draft.answers["greeting"]["ai_suggested"] is True
    assert draft.answers["greeting"]["suggestion"]["evidence"]
    score = services.save_answers(org, reviewer, call, card, {"answers": complete(greeting="no"), "submit": True})
    assert score.state == ScoreState.SUBMITTED and score.submitted_at
    assert score.answers["greeting"]["ai_suggested"] is False  # changed by the reviewer
    assert score.agent_id == people["agent"].user_id
    assert AuditEntry.objects.filter(tenant=org, action="call_score.submitted", object_id=str(score.pk)).exists()


def test_submit_needs_every_question(org, people, call, card):
    with pytest.raises(ValidationError) as caught:
        services.save_answers(
            org, actor(people["admin"]), call, card, {"answers": {"greeting": {"value": "yes"}}, "submit": True}
        )
    assert "answers.introduction" in caught.value.message_dict
    assert not CallScore.objects.exists()


def test_reviewer_cannot_score_their_own_call(org, people, card):
    own = analysed_call(org, agent=people["manager"].user)
    with pytest.raises(PermissionDenied):
        services.save_answers(org, actor(people["manager"]), own, card, {"answers": complete()})


def test_answers_to_a_scorecard_that_does_not_apply_are_refused(org, people, call):
    outbound = services.create_scorecard(
        org,
        actor(people["admin"]),
        {"name": "Out", "definition": scoring.example_definition(), "applies_to": {"direction": "outbound"}},
    )
    with pytest.raises(ValidationError) as caught:
        services.save_answers(org, actor(people["admin"]), call, outbound, {"answers": complete()})
    assert "scorecard_id" in caught.value.message_dict
    assert not CallScore.objects.exists()


@pytest.fixture
def submitted(org, people, call, card):
    return services.save_answers(
        org, actor(people["admin"]), call, card, {"answers": complete(greeting="no"), "submit": True}
    )


def test_agent_acknowledges(org, people, call, card, submitted):
    score = services.acknowledge(org, actor(people["agent"]), call, card)
    assert score.state == ScoreState.ACKNOWLEDGED and score.acknowledged_at
    with pytest.raises(ValidationError) as caught:
        services.acknowledge(org, actor(people["agent"]), call, card)
    assert "state" in caught.value.message_dict


def test_only_the_agent_acknowledges_or_disputes(org, people, call, card, submitted):
    with pytest.raises(PermissionDenied):
        services.acknowledge(org, actor(people["manager"]), call, card)
    with pytest.raises(PermissionDenied):
        services.dispute(org, actor(people["admin"]), call, card, "greeting", "No")


def test_dispute_and_resolve_changing_the_answer(org, people, call, card, submitted):
    before = submitted.score
    services.dispute(org, actor(people["agent"]), call, card, "greeting", "I said good morning at 0:01")
    services.dispute(org, actor(people["agent"]), call, card, "closing", "I did")
    score = CallScore.objects.get(pk=submitted.pk)
    assert score.state == ScoreState.DISPUTED
    score = services.resolve(org, actor(people["manager"]), call, card, "greeting", "Right, you did", "yes")
    assert score.state == ScoreState.DISPUTED  # one dispute still open
    assert score.score == before + 5
    score = services.resolve(org, actor(people["manager"]), call, card, "closing", "The answer stands")
    assert score.state == ScoreState.FINAL and score.finalised_at
    resolved = ScoreDispute.objects.get(question_id="greeting")
    assert (resolved.old_value, resolved.new_value, resolved.resolution) == ("no", "yes", "Right, you did")
    assert AuditEntry.objects.filter(tenant=org, action="call_score.resolved").count() == 2


def test_dispute_needs_a_comment_and_a_question(org, people, call, card, submitted):
    with pytest.raises(ValidationError) as caught:
        services.dispute(org, actor(people["agent"]), call, card, "nope", " ")
    assert set(caught.value.message_dict) == {"question_id", "comment"}
    assert not ScoreDispute.objects.exists()


def test_dispute_on_a_draft_is_refused(org, people, call, card):
    services.save_answers(org, actor(people["admin"]), call, card, {"answers": complete()})
    with pytest.raises(ValidationError) as caught:
        services.dispute(org, actor(people["agent"]), call, card, "greeting", "Unfair")
    assert "state" in caught.value.message_dict
    assert CallScore.objects.get().state == ScoreState.DRAFT


def test_acknowledged_score_cannot_be_changed_by_answers(org, people, call, card, submitted):
    services.acknowledge(org, actor(people["agent"]), call, card)
    with pytest.raises(ValidationError) as caught:
        services.save_answers(org, actor(people["admin"]), call, card, {"answers": complete()})
    assert "state" in caught.value.message_dict


def test_deleted_scorecard_keeps_its_scores(org, people, call, card, submitted):
    services.delete_scorecard(org, actor(people["admin"]), card)
    assert not services.scorecards(org).filter(pk=card.pk).exists()
    assert card.pk in {s.pk for s in services.applicable(call)}  # the agent can still answer it
    assert CallScore.objects.filter(pk=submitted.pk).exists()


def test_example_scorecard_once_per_organisation(org):
    assert services.ensure_example(org).name == services.EXAMPLE_NAME
    Scorecard.objects.for_tenant(org).update(deleted_at=timezone.now())
    assert services.ensure_example(org) is None  # deleted on purpose: not brought back


# --- reports ------------------------------------------------------------------------------


def test_scores_by_agent_count_only_submitted(org, people, card, submitted):
    other = analysed_call(org, agent=people["agent"].user)
    services.save_answers(org, actor(people["admin"]), other, card, {"answers": complete()})  # a draft
    start, end = timezone.now() - timedelta(days=1), timezone.now() + timedelta(days=1)
    rows = services.scores_by_agent(org, start, end)
    assert len(rows) == 1
    assert rows[0]["agent_id"] == str(people["agent"].user_id)
    assert rows[0]["scores"] == 1
    assert rows[0]["average"] == submitted.percent
    assert services.scores_by_agent(org, start, end, team=Team.objects.create(tenant=org, name="Empty")) == []
    assert services.scores_by_agent(org, start, end, team=people["team"])[0]["scores"] == 1
    weekly = services.scores_over_time(org, start, end)
    assert weekly[0]["scores"] == 1 and weekly[0]["period"]
    assert services.scores_by_team(org, start, end)[0]["team"] == "Support"


def test_scores_of_another_tenant_are_not_counted(org, other_org, people, submitted):
    start, end = timezone.now() - timedelta(days=1), timezone.now() + timedelta(days=1)
    assert services.scores_by_agent(other_org, start, end) == []


def test_coaching_dashboard_shows_qa_score_per_agent(org, people, submitted):
    from octopushx.reports import dashboards

    widget = next(w for w in dashboards.DASHBOARDS["coaching"].widgets if w.key == "qa_scores")
    period = dashboards.resolve_period(org, "this_month")
    answer = dashboards.run_widget(org, people["admin"], widget, period)
    assert answer["rows"], answer
    assert round(answer["rows"][0][next(k for k in answer["rows"][0] if k.startswith("avg"))], 1) == submitted.percent


# --- API ----------------------------------------------------------------------------------


def url(call, card=None, action=""):
    base = f"/api/v1/calls/{call.pk}/scorecards"
    if card is not None:
        base += f"/{card.pk}"
    return base + (f"/{action}" if action else "")


def test_api_scorecard_crud(org, api_as):
    client = api_as("manager")
    created = client.post("/api/v1/scorecards", {"name": "Sales QA", "definition": scoring.example_definition()})
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["question_count"] == 11 and body["max_points"] == 100
    changed = client.patch(f"/api/v1/scorecards/{body['id']}", {"is_active": False})
    assert changed.json()["is_active"] is False
    names = {s["name"] for s in client.get("/api/v1/scorecards").json()["items"]}
    assert "Sales QA" in names
    assert client.delete(f"/api/v1/scorecards/{body['id']}").status_code == 204
    assert client.get(f"/api/v1/scorecards/{body['id']}").status_code == 404


def test_api_bad_scorecard_is_422_naming_the_field(org, api_as):
    client = api_as("admin")
    response = client.post("/api/v1/scorecards", {"name": "Empty", "definition": {"sections": []}})
    assert response.status_code == 422
    assert "definition.sections" in response.json()["errors"]
    bad = scoring.example_definition()
    bad["sections"][0]["questions"][0]["options"] = scoring.default_options("yes_no", 0)
    response = client.post("/api/v1/scorecards", {"name": "Zero", "definition": bad, "applies_to": {"direction": "up"}})
    assert response.status_code == 422
    assert set(response.json()["errors"]) >= {"definition.sections.0.questions.0.options", "applies_to.direction"}
    assert not Scorecard.objects.filter(name__in=["Empty", "Zero"]).exists()


def test_api_agent_cannot_build(api_as):
    response = api_as("agent").post("/api/v1/scorecards", {"name": "Mine", "definition": scoring.example_definition()})
    assert response.status_code == 403
    assert not Scorecard.objects.filter(name="Mine").exists()


def test_api_other_tenant_scorecard_is_404(org, other_org, people):
    theirs = services.create_scorecard(
        other_org, Actor.system("test"), {"name": "Theirs", "definition": scoring.example_definition()}
    )
    client = ApiClient(people["admin"])
    assert client.get(f"/api/v1/scorecards/{theirs.pk}").status_code == 404
    assert client.patch(f"/api/v1/scorecards/{theirs.pk}", {"name": "Mine"}).status_code == 404
    call = analysed_call(org, agent=people["agent"].user)
    assert client.post(url(call, theirs), {"answers": {}}).status_code == 404


def test_api_review_flow(org, people, call, card):
    reviewer, agent = ApiClient(people["manager"]), ApiClient(people["agent"])
    listing = reviewer.get(url(call)).json()
    assert listing["can_review"] is True
    item = next(i for i in listing["items"] if i["scorecard"]["id"] == str(card.pk))
    assert item["score"] is None
    assert item["suggestions"]["greeting"]["label"] == "AI suggestion"
    assert item["suggestions"]["greeting"]["evidence"][0]["kind"] == "line"

    response = reviewer.post(url(call, card), {"answers": complete(), "submit": True})
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "submitted"

    seen = agent.get(url(call)).json()
    assert seen["is_agent"] is True and seen["can_review"] is False
    mine = next(i for i in seen["items"] if i["scorecard"]["id"] == str(card.pk))
    assert mine["score"]["state"] == "submitted" and mine["suggestions"] == {}

    bad = agent.post(url(call, card, "dispute"), {"question_id": "greeting", "comment": ""})
    assert bad.status_code == 422 and "comment" in bad.json()["errors"]
    disputed = agent.post(url(call, card, "dispute"), {"question_id": "greeting", "comment": "Not fair"})
    assert disputed.status_code == 201
    assert agent.post(url(call, card, "resolve"), {"question_id": "greeting", "resolution": "x"}).status_code == 403
    resolved = reviewer.post(
        url(call, card, "resolve"), {"question_id": "greeting", "resolution": "Kept", "value": "maybe"}
    )
    assert resolved.status_code == 422 and "value" in resolved.json()["errors"]
    resolved = reviewer.post(url(call, card, "resolve"), {"question_id": "greeting", "resolution": "Kept"})
    assert resolved.json()["state"] == "final"
    assert resolved.json()["disputes"][0]["resolution"] == "Kept"


def test_api_agent_sees_no_draft_and_cannot_dispute_it(org, people, call, card):
    ApiClient(people["admin"]).post(url(call, card), {"answers": complete()})
    agent = ApiClient(people["agent"])
    item = next(i for i in agent.get(url(call)).json()["items"] if i["scorecard"]["id"] == str(card.pk))
    assert item["score"] is None
    response = agent.post(url(call, card, "dispute"), {"question_id": "greeting", "comment": "Unfair"})
    assert response.status_code == 422 and "state" in response.json()["errors"]
    acknowledged = agent.post(url(call, card, "acknowledge"), {})
    assert acknowledged.status_code == 422


def test_api_agent_and_auditor_cannot_score(org, people, call, card, api_as):
    assert api_as("auditor").post(url(call, card), {"answers": complete()}).status_code == 403
    other_agent = ApiClient(make_member(org, "agent", email="someone-else@example.test"))
    assert other_agent.post(url(call, card), {"answers": complete()}).status_code == 404  # not their call
    assert not CallScore.objects.exists()


def test_api_bad_answers_are_422_and_nothing_is_saved(org, people, call, card):
    client = ApiClient(people["admin"])
    response = client.post(url(call, card), {"answers": {"greeting": {"value": "perhaps"}, "nope": {"value": "yes"}}})
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"answers.greeting", "answers.nope"}
    outbound = services.create_scorecard(
        org,
        actor(people["admin"]),
        {"name": "Out", "definition": scoring.example_definition(), "applies_to": {"direction": "outbound"}},
    )
    response = client.post(url(call, outbound), {"answers": complete()})
    assert response.status_code == 422 and "scorecard_id" in response.json()["errors"]
    assert not CallScore.objects.exists()


def test_api_other_tenants_call_is_404(org, other_org, people, card):
    theirs = analysed_call(other_org)
    client = ApiClient(people["admin"])
    assert client.get(url(theirs)).status_code == 404
    assert client.post(url(theirs, card), {"answers": complete()}).status_code == 404


# --- pages --------------------------------------------------------------------------------


def test_scorecards_page_lists_the_example(org, web_as):
    page = web_as("manager").get("/calls/scorecards/")
    assert page.status_code == 200
    assert services.EXAMPLE_NAME in page.content.decode()


def test_builder_creates_a_scorecard(org, web_as):
    import json

    client = web_as("admin")
    response = client.post(
        "/calls/scorecards/new/",
        {
            "name": "Built",
            "definition": json.dumps(scoring.example_definition()),
            "is_active": "on",
            "direction": "inbound",
        },
    )
    assert response.status_code == 302
    card = Scorecard.objects.get(name="Built")
    assert card.applies_to["direction"] == "inbound" and card.is_active


def test_builder_bad_definition_is_422_and_saves_nothing(org, web_as):
    client = web_as("admin")
    response = client.post("/calls/scorecards/new/", {"name": "Broken", "definition": '{"sections": []}'})
    assert response.status_code == 422
    assert "Add at least one section" in response.content.decode()
    assert not Scorecard.objects.filter(name="Broken").exists()


def test_agent_cannot_use_the_builder(org, web_as):
    client = web_as("agent")
    assert client.get("/calls/scorecards/new/").status_code == 403
    card = services.ensure_example(org)
    assert client.post(f"/calls/scorecards/{card.pk}/", {"name": "Mine", "definition": "{}"}).status_code == 403
    assert client.post(f"/calls/scorecards/{card.pk}/delete/").status_code == 403
    assert client.get(f"/calls/scorecards/{card.pk}/").status_code == 200  # agents may read it


def test_qa_panel_shows_suggestions_and_submits(org, people, call, card, client):
    client.force_login(people["manager"].user)
    panel = client.get(f"/calls/{call.pk}/qa/", HTTP_HX_REQUEST="true").content.decode()
    assert "AI suggestion" in panel and "data-qa-seek" in panel
    form = {f"q-{q}": a["value"] for q, a in complete().items()}
    response = client.post(f"/calls/{call.pk}/qa/{card.pk}/", {**form, "action": "submit"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Submitted" in response.content.decode()
    assert CallScore.objects.get(call=call, scorecard=card).state == ScoreState.SUBMITTED


def test_qa_panel_submit_with_a_missing_answer_is_422(org, people, call, card, client):
    client.force_login(people["manager"].user)
    response = client.post(
        f"/calls/{call.pk}/qa/{card.pk}/", {"q-greeting": "yes", "action": "submit"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert "Answer this question" in response.content.decode()
    assert not CallScore.objects.exists()


def test_agent_acknowledges_and_disputes_on_the_page(org, people, call, card, submitted, client):
    client.force_login(people["agent"].user)
    panel = client.get(f"/calls/{call.pk}/qa/", HTTP_HX_REQUEST="true").content.decode()
    assert "Acknowledge" in panel and "Dispute an answer" in panel
    response = client.post(f"/calls/{call.pk}/qa/{card.pk}/dispute/", {"question_id": "greeting", "comment": "I did"})
    assert response.status_code == 302
    assert CallScore.objects.get(pk=submitted.pk).state == ScoreState.DISPUTED
    reviews = client.get("/calls/reviews/").content.decode()
    assert "Disputed" in reviews


def test_reviews_page_for_reviewers_lists_disputes(org, people, call, card, submitted, client):
    services.dispute(org, actor(people["agent"]), call, card, "greeting", "I did")
    client.force_login(people["manager"].user)
    page = client.get("/calls/reviews/?view=disputes").content.decode()
    assert card.name in page and "Disputed" in page


def test_pages_of_another_tenant_are_404(org, other_org, people, client):
    theirs = services.create_scorecard(
        other_org, Actor.system("test"), {"name": "Theirs", "definition": scoring.example_definition()}
    )
    their_call = analysed_call(other_org)
    client.force_login(people["admin"].user)
    assert client.get(f"/calls/scorecards/{theirs.pk}/").status_code == 404
    assert client.get(f"/calls/{their_call.pk}/qa/").status_code == 404
