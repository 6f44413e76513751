"""Call coaching and compliance widgets against hand-computed answers, per role."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from octopushx.calls.models import Call, CallAnalysisResult, CallStatus, headline_metrics
from octopushx.reports import dashboards
from octopushx.shield.privacy.models import PrivacyRequest
from octopushx.tenancy.models import Team
from tests.conftest import make_member

pytestmark = pytest.mark.django_db


def _call(
    org, agent, *, duration, talk, questions, turns, monologue, story, sentiment, review="unreviewed", known=True
):
    call = Call.objects.create(
        tenant=org,
        agent=agent.user,
        started_at=timezone.now(),
        duration=duration,
        status=CallStatus.ANALYSED,
        sentiment=sentiment,
        review_state=review,
    )
    metrics = {
        "duration": duration,
        "talk_ratio": {"agent": talk, "customer": round(1 - talk, 4)},
        "talk_time": {"agent": duration * talk, "customer": duration * (1 - talk)},
        "longest_monologue_by_speaker": {"agent": monologue, "customer": story},
        "questions": {"agent": questions},
        "interruptions": {"agent": 1},
        "patience": 1.0,
        "turns": turns,
    }
    result = CallAnalysisResult.objects.create(
        tenant=org,
        call=call,
        run=1,
        pipeline_version="test",
        model="test",
        data={"insights": {"metrics": metrics, "keywords": ["pricing"]}, "speakers": {"roles_known": known}},
    )
    call.current, call.metrics = result, headline_metrics(result.data)  # as processing stores a result
    call.save(update_fields=["current", "metrics"])
    return call


@pytest.fixture
def calls(org):
    north = Team.objects.create(tenant=org, name="North")
    ann = make_member(org, "agent", email="ann@example.test")
    bob = make_member(org, "agent", email="bob@example.test")
    manager = make_member(org, "manager", email="mia@example.test")
    for member in (ann, bob, manager):
        member.team = north
        member.save(update_fields=["team"])
    # Ann: two calls of 600 s, talking 40 % and 50 %: 540 s of talk, 12 questions → 80 an hour of talk.
    _call(org, ann, duration=600, talk=0.4, questions=6, turns=20, monologue=30, story=40, sentiment=0.2)
    _call(
        org,
        ann,
        duration=600,
        talk=0.5,
        questions=6,
        turns=40,
        monologue=50,
        story=20,
        sentiment=0.4,
        review="reviewed",
    )
    # Bob: one call of 1200 s at 60 %; roles known.
    _call(org, bob, duration=1200, talk=0.6, questions=0, turns=10, monologue=100, story=10, sentiment=-0.2)
    return {"ann": ann, "bob": bob, "manager": manager, "admin": make_member(org, "admin", email="root@example.test")}


def _coaching(org, membership) -> dict:
    board = dashboards.build(org, membership, "coaching", "this_month")
    return next(w for w in board["widgets"] if w["key"] == "agents")["data"]


def test_agent_sees_only_their_own_row(org, calls):
    data = _coaching(org, calls["ann"])
    assert [r["agent_id"] for r in data["rows"]] == [str(calls["ann"].user.pk)]
    ann = data["rows"][0]
    assert ann["calls"] == 2
    assert ann["talk_ratio"] == 0.45
    assert ann["question_rate"] == 80.0  # 12 questions in 240 + 300 = 540 s of talk
    assert ann["interactivity"] == 180.0  # 60 turns in 1200 s of calls
    assert ann["longest_monologue"] == 40 and ann["longest_story"] == 30
    assert ann["awaiting_review"] == 1
    assert f"agent_id={calls['ann'].user.pk}" in ann["drilldown"]


def test_manager_sees_the_team_against_its_average(org, calls):
    data = _coaching(org, calls["manager"])
    assert {r["calls"] for r in data["rows"]} == {1, 2}
    team = data["totals"]["team_average"]
    assert team["calls"] == 1.5
    assert team["talk_ratio"] == pytest.approx((0.4 + 0.5 + 0.6) / 3, abs=0.001)
    assert team["avg_duration"] == 800
    assert data["marker"] == {"talk_ratio": 0.43}


def test_calls_with_unknown_roles_leave_per_role_figures_out(org, calls):
    _call(
        org, calls["bob"], duration=60, talk=0.9, questions=0, turns=2, monologue=5, story=5, sentiment=0, known=False
    )
    bob = next(r for r in _coaching(org, calls["admin"])["rows"] if r["agent_id"] == str(calls["bob"].user.pk))
    assert bob["calls"] == 2 and bob["talk_ratio"] == 0.6


def _privacy(org, *, due_in_days, state="received", created_days_ago=0, completed_days_ago=None):
    now = timezone.now()
    request = PrivacyRequest.objects.create(
        tenant=org, kind="access", source="staff", state=state, due_at=now + timedelta(days=due_in_days)
    )
    completed = now - timedelta(days=completed_days_ago) if completed_days_ago is not None else None
    PrivacyRequest.objects.filter(pk=request.pk).update(
        created_at=now - timedelta(days=created_days_ago), completed_at=completed
    )


def test_compliance_counts_open_due_soon_and_overdue(org):
    auditor = make_member(org, "auditor")
    _privacy(org, due_in_days=3)  # due within 7 days
    _privacy(org, due_in_days=20)  # open, not due soon
    _privacy(org, due_in_days=-2, state="in_progress")  # overdue
    _privacy(org, due_in_days=10, state="completed", created_days_ago=4, completed_days_ago=0)
    board = dashboards.build(org, auditor, "compliance", "this_month")
    totals = {w["key"]: w["data"]["totals"] for w in board["widgets"]}
    assert totals["privacy_open"]["count"] == 3
    assert totals["privacy_due_soon"]["count"] == 1
    assert totals["privacy_overdue"]["count"] == 1
    assert totals["privacy_fulfil"]["days"] == 4.0


# --- retention purges and security alerts ------------------------------------------------------


def _run(org, counts, *, days_ago=0, dry_run=False, held=False):
    from octopushx.shield.retention.models import RetentionRun

    finished = timezone.now() - timedelta(days=days_ago)
    run = RetentionRun.objects.create(tenant=org, counts=counts, dry_run=dry_run, held=held, finished_at=finished)
    RetentionRun.objects.filter(pk=run.pk).update(created_at=finished)
    return run


def _alert(org, kind, n, *, days_ago=0, acknowledged=False):
    from octopushx.shield.monitoring.models import SecurityAlert

    raised = timezone.now() - timedelta(days=days_ago)
    alert = SecurityAlert.objects.create(
        tenant=org,
        kind=kind,
        summary="Someone",
        dedupe_key=f"{kind}-{n}-{days_ago}",
        acknowledged_at=raised if acknowledged else None,
    )
    SecurityAlert.objects.filter(pk=alert.pk).update(created_at=raised)


@pytest.fixture
def shield_world(org):
    # this month (the period is the last 30 days: the runs and alerts of 0 and 3 days ago are in it)
    _run(org, {"notes": 4, "recordings": 2}, days_ago=3)
    _run(org, {"notes": 1}, days_ago=0)
    _run(org, {"notes": 50}, dry_run=True)  # a preview: deleted nothing
    _run(org, {}, held=True)  # stopped by a legal hold
    _run(org, {"transcripts": 7}, days_ago=40)  # the period before
    _alert(org, "failed_burst", 1)
    _alert(org, "failed_burst", 2, acknowledged=True)
    _alert(org, "role_escalation", 1, days_ago=3)
    _alert(org, "large_export", 1, days_ago=45)  # the period before
    _alert(org, "failed_burst", 3, days_ago=40)  # the period before


def _compliance(org, membership) -> dict:
    board = dashboards.build(org, membership, "compliance", "last_30_days")
    return {w["key"]: w["data"] for w in board["widgets"]}


@pytest.mark.parametrize("role", ["owner", "admin", "auditor"])
def test_retention_purges_by_data_class(org, shield_world, role):
    data = _compliance(org, make_member(org, role))["retention_purges"]
    assert [(r["data_class"], r["deleted"]) for r in data["rows"]] == [
        ("Notes", 5),
        ("Call recordings", 2),
        ("Transcripts and insights", 0),  # only in the period before: shown at 0 beside its past
    ]
    assert data["totals"] == {"deleted": 7, "runs": 3}  # three runs (one held) finished in the period
    assert data["deltas"]["deleted"]["previous"] == 7 and data["deltas"]["deleted"]["change"] == 0
    assert "action=retention.purged" in data["drilldown"]


@pytest.mark.parametrize("role", ["owner", "admin", "auditor"])
def test_security_alerts_by_kind(org, shield_world, role):
    data = _compliance(org, make_member(org, role))["security_alerts"]
    counts = {r["kind"]: r["count"] for r in data["rows"]}
    assert counts == {"failed_burst": 2, "role_escalation": 1}
    assert data["totals"]["count"] == 3 and data["previous"]["totals"]["count"] == 2  # 40 and 45 days ago
    burst = next(r for r in data["rows"] if r["kind"] == "failed_burst")
    assert burst["kind_label"] == "Burst of failed sign-ins"
    assert "alert_kind=failed_burst" in burst["drilldown"] and "alerts=all" in burst["drilldown"]


@pytest.mark.parametrize("role", ["manager", "agent"])
@pytest.mark.parametrize("name", ["retention_purges", "security_alerts"])
def test_shield_datasets_are_refused_to_other_roles(org, role, name):
    from django.core.exceptions import PermissionDenied

    from octopushx.reports import query

    with pytest.raises(PermissionDenied):
        query.run(org, make_member(org, role), {"dataset": name})


def test_builder_sums_what_a_data_class_lost(org, shield_world):
    from octopushx.reports import query

    out = query.run(
        org,
        make_member(org, "auditor"),
        {"dataset": "retention_purges", "measures": [{"agg": "sum", "field": "purged.notes"}, {"agg": "count"}]},
    )
    assert out["totals"] == {"sum_purged_notes": 5.0, "count": 4}  # every run but the dry one


def test_security_page_lists_the_alerts_a_bar_counts(org, shield_world, client):
    client.force_login(make_member(org, "auditor").user)
    data = _compliance(org, make_member(org, "admin"))["security_alerts"]
    burst = next(r for r in data["rows"] if r["kind"] == "failed_burst")
    page = client.get(burst["drilldown"]).content.decode()
    assert page.count('data-label="Alert"') == 2 and "Kind: Burst of failed sign-ins" in page
    bad = client.get("/shield/security/?alerts=all&alert_kind=nope&raised_after=soon")
    assert bad.status_code == 200 and b"alert_kind" in bad.content
