"""Trackers: phrase matching with simple variants and sides, the API (CRUD, tenants, roles, bad
input), re-evaluation of past calls as a job, hits in the call answer, list and search filters,
the shipped trackers, and the Trackers pages."""

from __future__ import annotations

import importlib
import re

import pytest
from django.urls import reverse

from octopushx.calls import services
from octopushx.calls.models import Call, Tracker, TrackerHit
from octopushx.calls.services import trackers
from octopushx.calls.services.trackers import Line, Matcher
from octopushx.core import jobs
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry, Job, JobState
from tests.calls.factories import analysed_call, unsure_roles
from tests.conftest import make_member

LEAVING = [("agent", "Hello, how can I help?"), ("customer", "I want to cancel my contract, it is too expensive.")]


def found(phrases, text, speaker="customer", side="any"):
    return [m.phrase for m in Matcher(phrases, side).find([Line(0, speaker, 10.0, 14.0, text)])]


# --- matching ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "I want to CANCEL",
        "we cancelled it yesterday",
        "I am cancelling today",
        "she cancels every year",
        "it was canceled",
    ],
)
def test_phrase_matches_its_simple_variants(text):
    assert found(["cancel"], text) == ["cancel"]


@pytest.mark.parametrize("text", ["the cancellation fee", "pursue it", "a cancelable plan"])
def test_phrase_matches_whole_words_only(text):
    assert found(["cancel", "sue"], text) == []


def test_inflected_phrase_matches_from_its_stem():
    assert found(["prices"], "the price went up") == ["prices"]
    assert found(["price"], "your pricing is odd") == ["price"]
    assert found(["company"], "other companies do better") == ["company"]


def test_apostrophes_and_possessives_match_either_way():
    assert found(["don't want"], "I don’t want this") == ["don't want"]
    assert found(["competitor"], "the competitor’s offer") == ["competitor"]


def test_multi_word_phrase_allows_flexible_spacing_and_hyphens():
    assert found(["close my account"], "please close  my\naccount") == ["close my account"]
    assert found(["sign up"], "the sign-up was easy") == ["sign up"]
    assert found(["close my account"], "close the account") == []


def test_side_limits_hits_to_that_speaker():
    assert found(["cancel"], "cancel it", speaker="agent", side="customer") == []
    assert found(["cancel"], "cancel it", speaker="customer", side="customer") == ["cancel"]
    assert found(["cancel"], "cancel it", speaker="speaker1", side="agent") == []
    assert found(["cancel"], "cancel it", speaker="speaker1", side="any") == ["cancel"]


def test_overlapping_phrases_give_one_hit_for_the_longer():
    assert found(["cancel", "cancel my contract"], "I will cancel my contract") == ["cancel my contract"]


def test_hit_time_is_where_the_phrase_is_in_the_line():
    text = "a" * 50 + " cancel" + " b" * 25
    [match] = Matcher(["cancel"]).find([Line(3, "customer", 10.0, 20.0, text)])
    assert match.position == 3
    assert 12.0 < match.start < 15.0  # half-way into a 10 s line, a second early
    [early] = Matcher(["cancel"]).find([Line(0, "customer", 10.0, 20.0, "cancel now")])
    assert early.start == 10.0  # never before its line


# --- hits of analysed calls --------------------------------------------------------------------


def test_analysed_call_gets_hits_of_active_trackers(org):
    call = analysed_call(org, lines=LEAVING)
    hits = TrackerHit.objects.filter(call=call).select_related("tracker")
    assert {(h.tracker.name, h.phrase, h.speaker) for h in hits} >= {
        ("Cancellation intent", "cancel", "customer"),
        ("Pricing", "expensive", "customer"),
    }


def test_call_answer_lists_tracker_hits_by_start(org, api_as):
    client = api_as("agent")
    lines = [("customer", "The price is high."), ("customer", "I will cancel, it is too expensive.")]
    call = analysed_call(org, agent=client.membership.user, lines=lines)
    body = client.get(f"/api/v1/calls/{call.pk}").json()
    hits = body["insights"]["trackers"]
    assert [h["phrase"] for h in hits] == ["price", "cancel", "expensive"]
    assert hits[1] == {
        "tracker": "Cancellation intent",
        "tracker_id": str(Tracker.objects.get(tenant=org, name="Cancellation intent").pk),
        "phrase": "cancel",
        "speaker": "customer",
        "start": hits[1]["start"],
    }
    assert [h["start"] for h in hits] == sorted(h["start"] for h in hits)


def test_side_restricted_trackers_skip_calls_with_unknown_roles(org):
    call = analysed_call(org, result=unsure_roles([("customer", "I want to cancel and the price is wrong")]))
    names = set(TrackerHit.objects.filter(call=call).values_list("tracker__name", flat=True))
    assert names == {"Pricing"}  # "any" side; Cancellation intent is the customer's only


def test_corrected_line_is_evaluated_again(org):
    call = analysed_call(org, lines=[("agent", "Hello"), ("customer", "All good, thanks")])
    assert not TrackerHit.objects.filter(call=call).exists()
    services.correct(org, Actor.system("test"), call, {"utterances": [{"index": 1, "text": "I will sue you"}]})
    assert list(TrackerHit.objects.filter(call=call).values_list("tracker__name", flat=True)) == ["Legal threat"]


# --- the API -----------------------------------------------------------------------------------


def test_create_tracker_saves_audits_and_reevaluates_past_calls(org, api_as):
    client = api_as("manager")
    user = client.membership.user
    past = analysed_call(org, agent=user, lines=[("customer", "Your rivals at Globex offered me more")])
    response = client.post("/api/v1/trackers", {"name": "Globex", "phrases": ["globex"], "side": "customer"})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["phrases"] == ["globex"] and body["side"] == "customer" and body["is_active"] is True
    assert body["reevaluation"]["state"] == "queued"
    tracker = Tracker.objects.get(pk=body["id"])
    assert AuditEntry.objects.filter(tenant=org, action="tracker.created", object_id=str(tracker.pk)).exists()
    assert not TrackerHit.objects.filter(tracker=tracker).exists()  # not before the job ran
    jobs.drain()
    hit = TrackerHit.objects.get(tracker=tracker)
    assert (hit.call_id, hit.phrase, hit.speaker) == (past.pk, "globex", "customer")
    again = client.get(f"/api/v1/trackers/{tracker.pk}").json()
    assert again["reevaluation"]["state"] == "done" and again["reevaluation"]["progress"] == 1.0
    assert again["hits_30d"] == 1 and again["calls_30d"] == 1


def test_changing_phrases_replaces_hits_of_past_calls(org, api_as):
    client = api_as("admin")
    first = analysed_call(org, lines=[("customer", "Initech is cheaper")])
    second = analysed_call(org, lines=[("customer", "Globex called me")])
    created = client.post("/api/v1/trackers", {"name": "Rivals", "phrases": ["initech"]}).json()
    jobs.drain()
    assert set(TrackerHit.objects.filter(tracker_id=created["id"]).values_list("call_id", flat=True)) == {first.pk}
    changed = client.patch(f"/api/v1/trackers/{created['id']}", {"phrases": ["globex"]})
    assert changed.status_code == 200 and changed.json()["revision"] == 2
    jobs.drain()
    assert set(TrackerHit.objects.filter(tracker_id=created["id"]).values_list("call_id", flat=True)) == {second.pk}
    entry = AuditEntry.objects.get(tenant=org, action="tracker.updated", object_id=created["id"])
    assert entry.personal.changes["phrases"] == [["initech"], ["globex"]]


def test_rename_keeps_hits_and_starts_no_job(org, api_as):
    client = api_as("admin")
    analysed_call(org, lines=[("customer", "I will sue")])
    tracker = Tracker.objects.get(tenant=org, name="Legal threat")
    before = Job.objects.filter(kind=trackers.JOB_KIND).count()
    response = client.patch(f"/api/v1/trackers/{tracker.pk}", {"name": "Legal"})
    assert response.status_code == 200 and response.json()["revision"] == 1
    assert Job.objects.filter(kind=trackers.JOB_KIND).count() == before
    assert response.json()["hits_30d"] == 1


def test_deactivating_removes_hits_and_reactivating_finds_them_again(org, api_as):
    client = api_as("admin")
    call = analysed_call(org, lines=[("customer", "I will sue")])
    tracker = Tracker.objects.get(tenant=org, name="Legal threat")
    client.patch(f"/api/v1/trackers/{tracker.pk}", {"is_active": False})
    jobs.drain()
    assert not TrackerHit.objects.filter(tracker=tracker).exists()
    client.patch(f"/api/v1/trackers/{tracker.pk}", {"is_active": True})
    jobs.drain()
    assert TrackerHit.objects.filter(tracker=tracker, call=call).count() == 1


def test_delete_tracker_removes_its_hits(org, api_as):
    client = api_as("manager")
    analysed_call(org, lines=[("customer", "I will sue")])
    tracker = Tracker.objects.get(tenant=org, name="Legal threat")
    assert client.delete(f"/api/v1/trackers/{tracker.pk}").status_code == 204
    assert not Tracker.objects.filter(pk=tracker.pk).exists()
    assert not TrackerHit.objects.filter(tracker_id=tracker.pk).exists()
    assert AuditEntry.objects.filter(tenant=org, action="tracker.deleted", object_id=str(tracker.pk)).exists()


def test_list_trackers_by_name_for_any_reader(org, api_as):
    body = api_as("auditor").get("/api/v1/trackers").json()
    assert [t["name"] for t in body["items"]] == sorted(s["name"] for s in trackers.DEFAULT_TRACKERS)
    assert body["next"] is None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "Empty", "phrases": []}, "phrases"),
        ({"name": "Blank", "phrases": ["  ", ""]}, "phrases"),
        ({"name": "Missing"}, "phrases"),
        ({"name": "", "phrases": ["x"]}, "name"),
        ({"name": "Pricing", "phrases": ["x"]}, "name"),  # a shipped tracker's name, any case below
        ({"name": "pricing", "phrases": ["x"]}, "name"),
        ({"name": "Long", "phrases": ["word " * 30]}, "phrases"),
        ({"name": "Punctuation", "phrases": ["?!"]}, "phrases"),
        ({"name": "Side", "phrases": ["x"], "side": "both"}, "side"),
        ({"name": "Type", "phrases": "cancel"}, "phrases"),
    ],
)
def test_bad_input_is_422_naming_the_field_and_saves_nothing(org, api_as, payload, field):
    client = api_as("admin")
    before = (Tracker.objects.count(), AuditEntry.objects.filter(tenant=org).count(), Job.objects.count())
    response = client.post("/api/v1/trackers", payload)
    assert response.status_code == 422
    assert field in response.json()["errors"]
    assert (Tracker.objects.count(), AuditEntry.objects.filter(tenant=org).count(), Job.objects.count()) == before


def test_bad_change_is_422_and_changes_nothing(org, api_as):
    client = api_as("admin")
    tracker = Tracker.objects.get(tenant=org, name="Pricing")
    response = client.patch(f"/api/v1/trackers/{tracker.pk}", {"phrases": [], "name": "New name"})
    assert response.status_code == 422 and "phrases" in response.json()["errors"]
    tracker.refresh_from_db()
    assert tracker.name == "Pricing" and tracker.revision == 1
    assert not AuditEntry.objects.filter(tenant=org, action="tracker.updated").exists()


@pytest.mark.parametrize("role", ["agent", "auditor"])
def test_agents_and_auditors_cannot_change_trackers(org, api_as, role):
    client = api_as(role)
    tracker = Tracker.objects.get(tenant=org, name="Pricing")
    assert client.post("/api/v1/trackers", {"name": "Mine", "phrases": ["x"]}).status_code == 403
    assert client.patch(f"/api/v1/trackers/{tracker.pk}", {"name": "Mine"}).status_code == 403
    assert client.delete(f"/api/v1/trackers/{tracker.pk}").status_code == 403
    assert client.get(f"/api/v1/trackers/{tracker.pk}").status_code == 200
    assert not Tracker.objects.filter(name="Mine").exists()


def test_another_tenants_tracker_is_404(org, other_org, api_as):
    client = api_as("admin")
    theirs = Tracker.objects.get(tenant=other_org, name="Pricing")
    for method in ("get", "patch", "delete"):
        kwargs = {"data": {"name": "Taken"}} if method == "patch" else {}
        assert getattr(client, method)(f"/api/v1/trackers/{theirs.pk}", **kwargs).status_code == 404
    assert client.get("/api/v1/trackers/not-an-id").status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Pricing"


# --- filters -----------------------------------------------------------------------------------


def test_calls_list_and_search_filter_by_tracker(org, api_as):
    client = api_as("admin")
    leaving = analysed_call(org, lines=[("customer", "I want to cancel my card order")])
    staying = analysed_call(org, lines=[("customer", "Thanks for the card order")])
    tracker = Tracker.objects.get(tenant=org, name="Cancellation intent")
    listed = client.get(f"/api/v1/calls?tracker={tracker.pk}").json()
    assert [item["id"] for item in listed["items"]] == [str(leaving.pk)]
    searched = client.get(f"/api/v1/calls/search?q=card&tracker={tracker.pk}").json()
    assert {item["call_id"] for item in searched["items"]} == {str(leaving.pk)}
    unfiltered = client.get("/api/v1/calls/search?q=card").json()
    assert {item["call_id"] for item in unfiltered["items"]} == {str(leaving.pk), str(staying.pk)}
    bad = client.get("/api/v1/calls?tracker=nope")
    assert bad.status_code == 422 and "tracker" in bad.json()["errors"]


def test_tracker_filter_with_another_tenants_tracker_finds_nothing(org, other_org, api_as):
    analysed_call(org, lines=[("customer", "I want to cancel")])
    analysed_call(other_org, lines=[("customer", "I want to cancel")])
    theirs = Tracker.objects.get(tenant=other_org, name="Cancellation intent")
    assert api_as("admin").get(f"/api/v1/calls?tracker={theirs.pk}").json()["items"] == []


# --- the re-evaluation job ------------------------------------------------------------------------


def test_reevaluation_walks_every_call_in_batches_with_progress(org, monkeypatch):
    monkeypatch.setattr(trackers, "BATCH", 2)
    calls = [analysed_call(org, lines=[("customer", f"Initech offer number {i}")]) for i in range(5)]
    tracker = trackers.create_tracker(org, Actor.system("test"), {"name": "Initech", "phrases": ["initech"]})
    job = trackers.evaluation_job(tracker)
    progress: list[float] = []
    real = jobs.heartbeat
    monkeypatch.setattr(jobs, "heartbeat", lambda j, p=None: (progress.append(p), real(j, p)))
    jobs.drain()
    job.refresh_from_db()
    assert job.state == JobState.DONE and job.result["calls"] == 5 and job.result["hits"] == 5
    assert progress == [0.4, 0.8, 1.0]
    assert set(TrackerHit.objects.filter(tracker=tracker).values_list("call_id", flat=True)) == {c.pk for c in calls}


def test_reevaluation_is_idempotent_and_superseded_by_a_newer_revision(org):
    analysed_call(org, lines=[("customer", "Initech called")])
    actor = Actor.system("test")
    tracker = trackers.create_tracker(org, actor, {"name": "Initech", "phrases": ["initech"]})
    first = trackers.evaluation_job(tracker)
    jobs.drain()
    assert trackers.run_evaluation(first)["hits"] == 1  # a duplicated delivery: same hits
    assert TrackerHit.objects.filter(tracker=tracker).count() == 1
    trackers.update_tracker(org, actor, tracker, {"side": "agent"})
    assert trackers.run_evaluation(first) == {"skipped": "superseded by a newer change", "revision": 1}
    jobs.drain()
    assert not TrackerHit.objects.filter(tracker=tracker).exists()


def test_no_job_for_an_organisation_without_analysed_calls(org):
    tracker = trackers.create_tracker(org, Actor.system("test"), {"name": "Quiet", "phrases": ["quiet"]})
    assert trackers.evaluation_job(tracker) is None


# --- the shipped trackers ---------------------------------------------------------------------------


def test_new_organisations_get_the_shipped_trackers(org):
    names = set(Tracker.objects.filter(tenant=org).values_list("name", flat=True))
    assert names == {"Competitors", "Cancellation intent", "Pricing", "Complaint", "Legal threat"}
    assert AuditEntry.objects.filter(tenant=org, action="tracker.created").count() == 5
    assert trackers.ensure_default_trackers(org) == []  # idempotent


def test_migration_ships_the_same_trackers_as_new_organisations():
    migration = importlib.import_module("octopushx.calls.migrations.0006_trackers_defaults")
    shipped = [(s["name"], s["description"], s["side"], s["phrases"]) for s in trackers.DEFAULT_TRACKERS]
    assert [(n, d, str(s), p) for n, d, s, p in migration.DEFAULTS] == [(n, d, str(s), p) for n, d, s, p in shipped]


def test_migration_queues_the_evaluation_of_past_calls_of_an_existing_organisation(org):
    from django.apps import apps

    migration = importlib.import_module("octopushx.calls.migrations.0006_trackers_defaults")
    call = analysed_call(org, lines=[("customer", "I will sue you and call my solicitor")])
    Tracker.objects.filter(tenant=org).delete()  # as before trackers existed: no tracker, no hit
    assert not TrackerHit.objects.filter(call=call).exists()

    migration.add_defaults(apps, None)

    queued = Job.objects.filter(tenant=org, kind=trackers.JOB_KIND, state=JobState.QUEUED)
    assert queued.count() == 5
    legal = Tracker.objects.get(tenant=org, name="Legal threat")
    assert trackers.evaluation_job(legal) is not None  # the job the tracker's page shows
    jobs.drain()
    assert set(TrackerHit.objects.filter(call=call, tracker=legal).values_list("phrase", flat=True)) == {
        "sue",
        "solicitor",
    }
    migration.add_defaults(apps, None)  # again: nothing more
    assert Tracker.objects.filter(tenant=org).count() == 5
    assert Job.objects.filter(tenant=org, kind=trackers.JOB_KIND).count() == 5


def test_migration_queues_nothing_for_an_organisation_without_analysed_calls(org):
    from django.apps import apps

    migration = importlib.import_module("octopushx.calls.migrations.0006_trackers_defaults")
    Tracker.objects.filter(tenant=org).delete()
    migration.add_defaults(apps, None)
    assert Tracker.objects.filter(tenant=org).count() == 5
    assert not Job.objects.filter(tenant=org, kind=trackers.JOB_KIND).exists()


# --- pages ------------------------------------------------------------------------------------------


def test_trackers_page_lists_trackers_with_recent_hits(org, client):
    agent = make_member(org, "agent")
    client.force_login(agent.user)
    analysed_call(org, agent=agent.user, lines=[("customer", "I will sue")])
    html = client.get(reverse("calls:trackers")).content.decode()
    assert "Legal threat" in html
    assert re.search(r'data-testid="tracker-hits">\s*1\s*<', html)
    assert "New tracker" not in html  # agents read only


def test_manager_creates_a_tracker_from_the_page(org, web_as):
    client = web_as("manager")
    response = client.post(
        reverse("calls:tracker_new"),
        {"name": "Renewals", "phrases": "renew\nrenewal date\n", "side": "customer", "is_active": "on"},
    )
    tracker = Tracker.objects.get(tenant=org, name="Renewals")
    assert response.status_code == 302 and response["Location"] == reverse("calls:tracker", args=[tracker.pk])
    assert tracker.phrases == ["renew", "renewal date"] and tracker.side == "customer"


def test_tracker_form_shows_errors_and_saves_nothing(org, web_as):
    client = web_as("manager")
    response = client.post(reverse("calls:tracker_new"), {"name": "Empty", "phrases": " \n", "side": "any"})
    assert response.status_code == 422 and "Give at least one word or phrase" in response.content.decode()
    assert not Tracker.objects.filter(name="Empty").exists()


def test_agent_cannot_open_the_tracker_form(org, web_as):
    assert web_as("agent").get(reverse("calls:tracker_new")).status_code == 403


def test_call_page_has_a_trackers_panel_that_seeks(org, web_as):
    client = web_as("admin")
    call = analysed_call(org, lines=[("agent", "Hello"), ("customer", "I will sue you")])
    html = client.get(reverse("calls:detail", args=[call.pk])).content.decode()
    assert 'data-testid="tracker-hits"' in html and "Legal threat" in html and "data-seek=" in html


def test_calls_list_and_search_pages_filter_by_tracker(org, web_as):
    client = web_as("admin")
    leaving = analysed_call(org, lines=[("customer", "I want to cancel my card order")])
    staying = analysed_call(org, lines=[("customer", "Thanks for the card order")])
    tracker = Tracker.objects.get(tenant=org, name="Cancellation intent")
    listed = client.get(reverse("calls:list") + f"?tracker={tracker.pk}").content.decode()
    assert str(leaving.pk) in listed and str(staying.pk) not in listed
    assert "Tracker: Cancellation intent" in listed
    searched = client.get(reverse("calls:search") + f"?tracker={tracker.pk}").content.decode()
    assert str(leaving.pk) in searched and str(staying.pk) not in searched


def test_other_tenants_tracker_pages_are_404(org, other_org, web_as):
    theirs = Tracker.objects.get(tenant=other_org, name="Pricing")
    client = web_as("admin")
    assert client.get(reverse("calls:tracker", args=[theirs.pk])).status_code == 404


def test_hits_disappear_with_a_purged_transcript(org):
    from octopushx.calls import retention

    call = analysed_call(org, lines=[("customer", "I will sue")])
    retention.purge_transcripts(org, Call.objects.filter(pk=call.pk))
    assert not TrackerHit.objects.filter(call=call).exists()


def test_counts_are_of_the_calls_the_member_may_see(org, api_as):
    client = api_as("agent")
    other = make_member(org, "agent", email="x@acme.test")
    analysed_call(org, agent=other.user, lines=[("customer", "I will sue")])
    analysed_call(org, agent=client.membership.user, lines=[("customer", "I will sue, I will sue")])
    legal = next(t for t in client.get("/api/v1/trackers").json()["items"] if t["name"] == "Legal threat")
    assert (legal["hits_30d"], legal["calls_30d"]) == (2, 1)
    row = trackers.trackers_with_counts(org).get(name="Legal threat")
    assert (row.recent_hits, row.recent_calls) == (3, 2)


def test_tracker_page_polls_the_reevaluation_until_it_is_done(org, web_as):
    client = web_as("manager")
    analysed_call(org, lines=[("customer", "Initech called")])
    tracker = trackers.create_tracker(org, Actor.system("test"), {"name": "Initech", "phrases": ["initech"]})
    url = reverse("calls:tracker", args=[tracker.pk]) + "?part=progress"
    running = client.get(url).content.decode()
    assert "Checking past calls" in running and "hx-trigger" in running and "<html" not in running
    jobs.drain()
    done = client.get(url).content.decode()
    assert "Past calls checked" in done and "hx-trigger" not in done
