"""Every number and bar of the ready dashboards links to the list of the records it counts.

The world (this month, one organisation): agents Ann and Bob, an admin.
- Ann: a won deal and an open one; three tasks (one done, one overdue), two notes, two calls.
- Bob: one task, one note, one call; a note and a task on Carol, a restricted contact Ann owns.
- Shield: two open privacy requests (one overdue), one completed; a retention run; two alerts.
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from octopushx.calls.models import Call, CallAnalysisResult, CallStatus, headline_metrics
from octopushx.core.context import Actor
from octopushx.crm import services as crm_services
from octopushx.crm.models import Note, StageKind, Task, TaskStatus
from octopushx.reports import dashboards
from octopushx.shield.monitoring.models import SecurityAlert
from octopushx.shield.privacy.models import PrivacyRequest
from octopushx.shield.retention.models import RetentionRun
from tests.conftest import make_member
from tests.crm.conftest import make_contact, make_deal

pytestmark = pytest.mark.django_db


def _call(org, member, keyword: str):
    call = Call.objects.create(
        tenant=org, agent=member.user, started_at=timezone.now(), duration=300, status=CallStatus.ANALYSED
    )
    result = CallAnalysisResult.objects.create(
        tenant=org,
        call=call,
        run=1,
        pipeline_version="test",
        model="test",
        data={"insights": {"metrics": {"duration": 300}, "keywords": [keyword]}, "speakers": {"roles_known": True}},
    )
    call.current, call.metrics = result, headline_metrics(result.data)  # as processing stores a result
    call.save(update_fields=["current", "metrics"])
    return call


@pytest.fixture
def world(org):
    ann = make_member(org, "agent", email="ann@example.test")
    bob = make_member(org, "agent", email="bob@example.test")
    admin = make_member(org, "admin", email="root@example.test")
    now = timezone.now()
    stages = list(crm_services.default_pipeline(org).stages.order_by("position"))
    won = next(s for s in stages if s.kind == StageKind.WON)
    make_deal(org, ann, name="Open one")
    closed = make_deal(org, ann, name="Won one")
    crm_services.update_deal(org, Actor.system("test"), closed, {"stage_id": str(won.pk)})
    carol = make_contact(org, ann, first_name="Carol", last_name="Hidden", restricted=True)
    for title, member, status, due in (
        ("Ann done", ann, TaskStatus.DONE, None),
        ("Ann late", ann, TaskStatus.OPEN, now - timedelta(days=2)),
        ("Ann later", ann, TaskStatus.OPEN, now + timedelta(days=5)),
        ("Bob follow-up", bob, TaskStatus.OPEN, None),
    ):
        Task.objects.create(
            tenant=org,
            title=title,
            assignee=member.user,
            status=status,
            due_at=due,
            completed_at=now if status == TaskStatus.DONE else None,
            contact=carol if member is bob else None,
        )
    for subject, member in (("Ann note 1", ann), ("Ann note 2", ann), ("Bob call log", bob)):
        Note.objects.create(
            tenant=org, subject=subject, body="<p>x</p>", author=member.user, contact=carol if member is bob else None
        )
    _call(org, ann, "pricing")
    _call(org, ann, "pricing")
    _call(org, bob, "renewal")
    for state, due in (("received", 3), ("in_progress", -2), ("completed", 10)):
        PrivacyRequest.objects.create(
            tenant=org,
            kind="access",
            source="staff",
            state=state,
            due_at=now + timedelta(days=due),
            completed_at=now if state == "completed" else None,
        )
    RetentionRun.objects.create(tenant=org, counts={"notes": 4}, finished_at=now)
    for n, kind in enumerate(("failed_burst", "failed_burst")):
        SecurityAlert.objects.create(tenant=org, kind=kind, summary="x", dedupe_key=f"k{n}")
    return {"ann": ann, "bob": bob, "admin": admin}


def _widgets(org, membership, slug: str) -> list[dict]:
    return dashboards.build(org, membership, slug, "this_month")["widgets"]


def _counted(widget: dict) -> bool:
    """Whether the widget shows any record count at all (a widget of nothing links nowhere)."""
    data = widget["data"]
    return bool(data.get("rows")) or any(v not in (None, 0, {}, "0") for v in (data.get("totals") or {}).values())


@pytest.mark.parametrize("slug", ["sales", "activity", "coaching", "compliance"])
def test_every_number_and_bar_links_to_its_records(org, world, slug):
    missing = []
    for widget in _widgets(org, world["admin"], slug):
        if not _counted(widget):
            continue
        rows = widget["data"].get("rows") or []
        if widget["view"] == "number":
            if not widget["drilldown"]:
                missing.append(widget["key"])
            continue
        missing += [f"{widget['key']} row {i}" for i, row in enumerate(rows) if not row.get("drilldown")]
    assert missing == []


def _get(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def test_tasks_per_owner_link_to_the_same_tasks(org, world, client):
    client.force_login(world["admin"].user)
    by_key = {w["key"]: w["data"] for w in _widgets(org, world["admin"], "activity")}
    created = {r["assignee_label"]: r for r in by_key["tasks_created"]["rows"]}
    page = _get(client, created["ann@example.test"]["drilldown"])
    assert all(t in page for t in ("Ann done", "Ann late", "Ann later")) and "Bob follow-up" not in page
    done = _get(client, by_key["tasks_completed"]["rows"][0]["drilldown"])
    assert "Ann done" in done and "Ann late" not in done and "Ann later" not in done
    late = _get(client, by_key["tasks_overdue"]["rows"][0]["drilldown"])
    assert "Ann late" in late and "Ann later" not in late and "Ann done" not in late


def test_notes_per_week_link_to_the_notes_list(org, world, client):
    client.force_login(world["admin"].user)
    notes = next(w for w in _widgets(org, world["admin"], "activity") if w["key"] == "notes_per_week")["data"]
    ann = next(r for r in notes["rows"] if r["author_label"] == "ann@example.test")
    assert ann["count"] == 2
    page = _get(client, ann["drilldown"])
    assert page.count("Ann note") == 2 and "Bob call log" not in page


def test_calls_per_agent_link_to_the_call_list(org, world, client):
    client.force_login(world["admin"].user)
    calls = next(w for w in _widgets(org, world["admin"], "activity") if w["key"] == "calls_per_week")["data"]
    ann = next(r for r in calls["rows"] if r["agent_label"] == "ann@example.test")
    assert "date_before=" in ann["drilldown"] and f"agent_id={world['ann'].user.pk}" in ann["drilldown"]
    page = _get(client, ann["drilldown"])
    assert len(re.findall(r'href="/calls/[0-9a-f-]{36}/"', page)) == 2


def test_compliance_numbers_link_to_the_privacy_queue_and_security_page(org, world, client):
    client.force_login(world["admin"].user)
    by_key = {w["key"]: w for w in _widgets(org, world["admin"], "compliance")}
    assert by_key["privacy_open"]["data"]["totals"]["count"] == 2
    assert _get(client, by_key["privacy_open"]["drilldown"]).count('data-label="Received"') == 2
    overdue = _get(client, by_key["privacy_overdue"]["drilldown"])
    assert overdue.count('data-label="Received"') == 1 and 'data-testid="overdue"' in overdue
    assert _get(client, by_key["privacy_fulfil"]["drilldown"]).count('data-label="Received"') == 1
    alerts = by_key["security_alerts"]["data"]["rows"][0]
    assert alerts["kind"] == "failed_burst" and alerts["count"] == 2
    assert _get(client, alerts["drilldown"]).count('data-label="Alert"') == 2
    purges = by_key["retention_purges"]["data"]
    assert purges["rows"][0]["drilldown"].startswith("/shield/audit/?action=retention.purged")


def test_restricted_contact_counted_but_not_named_to_a_role_that_cannot_see_it(org, world, client):
    """Bob's task and note on Carol (restricted, Ann's) count for Bob; his lists never name her."""
    by_key = {w["key"]: w["data"] for w in _widgets(org, world["bob"], "activity")}
    assert by_key["tasks_created"]["totals"]["count"] == 1
    assert by_key["notes_per_week"]["totals"]["count"] == 1
    client.force_login(world["bob"].user)
    tasks = _get(client, by_key["tasks_created"]["rows"][0]["drilldown"])
    notes = _get(client, by_key["notes_per_week"]["rows"][0]["drilldown"])
    for page in (tasks, notes):
        assert "Bob" in page and "Carol" not in page and "Hidden" not in page
        assert "A restricted contact" in page
    client.force_login(world["ann"].user)  # her owner sees her, marked restricted in the CRM
    assert "Carol" in _get(client, "/crm/notes/")


def test_funnel_steps_link_to_deals_that_reached_them(org, world, client):
    client.force_login(world["admin"].user)
    funnel = next(w for w in _widgets(org, world["admin"], "sales") if w["key"] == "funnel_any")["data"]
    first = funnel["rows"][0]
    assert first["count"] == 2 and "reached_stage_ids=" in first["drilldown"]
    page = _get(client, first["drilldown"])
    assert "Open one" in page and "Won one" in page


def test_task_and_note_lists_refuse_bad_filters_without_failing(org, world, client):
    client.force_login(world["admin"].user)
    page = _get(client, "/crm/tasks/?whose=all&show=all&assignee_id=nope")
    assert "Not a valid id" in page and "Ann done" not in page
    assert "A date such as" in _get(client, "/crm/notes/?created_after=yesterday")


def test_privacy_queue_names_bad_filters_and_lists_nothing_wrong(org, world, client):
    client.force_login(world["admin"].user)
    page = _get(client, "/shield/privacy/?state=nope&due_after=someday")
    assert "state: One of: open" in page and "due_after: A date such as" in page
    both = _get(client, "/shield/privacy/?state=received,in_progress")
    assert both.count('data-label="Received"') == 2


def test_call_list_date_before_is_exclusive(org, world, client):
    client.force_login(world["admin"].user)
    call = _call(org, world["bob"], "edge")
    moment = timezone.now().replace(microsecond=0) - timedelta(days=1)
    Call.objects.filter(pk=call.pk).update(started_at=moment)
    before = _get(client, "/calls/?" + urlencode({"date_before": moment.isoformat()}))
    at = _get(client, "/calls/?" + urlencode({"date_from": moment.isoformat()}))
    assert f"/calls/{call.pk}/" not in before and f"/calls/{call.pk}/" in at
    assert "Before:" in before  # the chip reads as a date, not an ISO string


def test_call_list_does_not_name_a_restricted_contact_the_agent_may_not_see(org, world, client):
    """Bob's call with Carol (restricted, Ann's) counts for Bob; his call list does not name her."""
    carol = Note.objects.get(subject="Bob call log").contact
    call = _call(org, world["bob"], "edge")
    Call.objects.filter(pk=call.pk).update(contact=carol)
    calls = next(w for w in _widgets(org, world["bob"], "coaching") if w["key"] == "calls")
    assert calls["data"]["totals"]["count"] == 2
    client.force_login(world["bob"].user)
    page = _get(client, calls["drilldown"])
    assert "a restricted contact" in page and "Carol" not in page
    client.force_login(world["ann"].user)
    assert "Carol" not in _get(client, "/calls/")  # not Ann's call at all
    client.force_login(world["admin"].user)
    assert "Carol Hidden" in _get(client, calls["drilldown"])
