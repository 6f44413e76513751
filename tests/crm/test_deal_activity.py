"""A deal's last activity and stage entry (crm.activity) stay exact under every write, and the stale-deals
widget reads them: a note, a task change, an edit or a stage move makes a quiet deal active; deleting the
only recent note (or moving the task away) makes it quiet again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from octopushx.core.context import Actor
from octopushx.crm import activity
from octopushx.crm import services as crm
from octopushx.crm.models import Deal, DealStageChange, Note, Task
from octopushx.reports import dashboards
from tests.conftest import make_member
from tests.crm.conftest import make_deal

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")


def _quiet(deal: Deal, days: int) -> None:
    """The deal and everything on it happened ``days`` ago (written behind the receivers' back)."""
    then = timezone.now() - timedelta(days=days)
    Deal.objects.filter(pk=deal.pk).update(updated_at=then)
    DealStageChange.objects.filter(deal=deal).update(changed_at=then)
    Note.objects.filter(deal=deal).update(created_at=then)
    Task.objects.filter(deal=deal).update(updated_at=then)
    activity.refresh(Deal.objects.filter(pk=deal.pk))


def _stale(org, membership) -> dict[str, int]:
    board = dashboards.build(org, membership, "sales", "this_month")
    data = next(w for w in board["widgets"] if w["key"] == "stale_deals")["data"]
    return {row["deal"]: row["days_quiet"] for row in data["rows"]}


@pytest.fixture
def admin(org):
    return make_member(org, "admin", email="boss@example.test")


def test_a_note_wakes_a_quiet_deal_and_deleting_it_puts_it_back_to_sleep(org, admin):
    deal = make_deal(org, admin, name="Sleepy")
    _quiet(deal, 20)
    assert _stale(org, admin) == {"Sleepy": 20}
    note = crm.create_note(org, SYSTEM, {"body": "Called them", "deal_id": str(deal.pk)})
    assert _stale(org, admin) == {}
    crm.delete_note(org, SYSTEM, note)
    assert _stale(org, admin) == {"Sleepy": 20}


def test_task_changes_count_and_a_task_moved_away_takes_its_activity_along(org, admin):
    sleepy = make_deal(org, admin, name="Sleepy")
    other = make_deal(org, admin, name="Other")
    task = crm.create_task(org, SYSTEM, {"title": "Send the quote", "deal_id": str(sleepy.pk)})
    _quiet(sleepy, 30)
    _quiet(other, 40)
    assert _stale(org, admin) == {"Other": 40, "Sleepy": 30}
    task = Task.objects.get(pk=task.pk)  # as a request would read it
    crm.update_task(org, SYSTEM, task, {"deal_id": str(other.pk)})
    assert _stale(org, admin) == {"Sleepy": 30}  # its only recent thing left with the task
    crm.update_task(org, SYSTEM, Task.objects.get(pk=task.pk), {"deal_id": str(sleepy.pk)})
    assert _stale(org, admin) == {"Other": 40}


def test_an_edit_and_a_stage_move_are_activity_and_set_when_the_stage_was_entered(org, admin):
    deal = make_deal(org, admin, name="Sleepy")
    _quiet(deal, 20)
    deal.refresh_from_db()
    entered = deal.stage_entered_at
    assert timezone.now() - entered > timedelta(days=19)
    crm.update_deal(org, SYSTEM, deal, {"name": "Awake"})
    assert _stale(org, admin) == {}
    _quiet(deal, 20)
    later = deal.pipeline.stages.exclude(pk=deal.stage_id).filter(kind="open").first()
    deal.refresh_from_db()
    crm.move_deal(org, SYSTEM, deal, later.pk)
    deal.refresh_from_db()
    move = DealStageChange.objects.filter(deal=deal).order_by("-changed_at").first()
    assert deal.stage_entered_at == move.changed_at
    assert deal.last_activity_at >= move.changed_at
    assert _stale(org, admin) == {}


def test_the_count_links_to_the_deal_list_of_exactly_the_quiet_deals(org, admin, client):
    _quiet(make_deal(org, admin, name="Sleepy"), 20)
    make_deal(org, admin, name="Lively")  # (not "Busy": the presence switch in the top bar says that)
    board = dashboards.build(org, admin, "sales", "this_month")
    url = next(w for w in board["widgets"] if w["key"] == "stale_deals")["data"]["drilldown"]
    assert "quiet_since=" in url and "status=open" in url
    client.force_login(admin.user)
    page = client.get(url).content.decode()
    assert "Sleepy" in page and "Lively" not in page
    assert "Quiet since" in page  # the filter shows as a removable chip
    assert "Last activity" in page and "cols=last_activity_at" in url and "ordering=last_activity_at" in url


def test_agents_see_their_own_quiet_deals_and_the_count_covers_all(org, admin):
    agent = make_member(org, "agent", email="ann@example.test")
    for index in range(25):
        _quiet(make_deal(org, agent if index < 3 else admin, name=f"D{index:02}"), 15 + index)
    assert _stale(org, agent) == {"D00": 15, "D01": 16, "D02": 17}
    board = dashboards.build(org, admin, "sales", "this_month")
    data = next(w for w in board["widgets"] if w["key"] == "stale_deals")["data"]
    assert data["totals"]["count"] == 25
    assert [r["deal"] for r in data["rows"]] == [f"D{i:02}" for i in range(24, 4, -1)]  # the 20 quietest first


def test_deleting_a_deal_with_notes_and_tasks_and_the_migration_backfill(org, admin):
    deal = make_deal(org, admin, name="Gone")
    crm.create_note(org, SYSTEM, {"body": "x", "deal_id": str(deal.pk)})
    crm.create_task(org, SYSTEM, {"title": "y", "deal_id": str(deal.pk)})
    crm.delete_deal(org, SYSTEM, deal)
    assert not Deal.objects.filter(pk=deal.pk).exists()
    # what crm 0021 does for existing deals: both columns worked out from the rows alone
    kept = make_deal(org, admin, name="Kept")
    Deal.objects.filter(pk=kept.pk).update(last_activity_at=None, stage_entered_at=None)
    assert activity.refresh(Deal.objects.all()) == 1
    kept.refresh_from_db()
    assert kept.last_activity_at is not None and kept.stage_entered_at is not None


operation = st.tuples(
    st.sampled_from(["note", "unnote", "task", "retask", "untask", "edit", "move"]),
    st.integers(min_value=0, max_value=2),  # the deal it acts on
    st.integers(min_value=0, max_value=2),  # another deal (a task moved there), or the n-th note/task
)


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(operation, max_size=10))
def test_after_any_writes_both_columns_equal_a_recount_of_the_rows(org, admin, operations):
    """Property: whatever notes, tasks, edits and moves happen (and are undone), each deal's columns are
    what its rows say, to the microsecond."""
    deals = [make_deal(org, admin, name=f"P{i}") for i in range(3)]
    stages = list(deals[0].pipeline.stages.filter(kind="open").order_by("position"))
    for kind, index, other in operations:
        deal = Deal.objects.get(pk=deals[index].pk)
        notes = list(Note.objects.filter(tenant=org).order_by("created_at"))
        tasks = list(Task.objects.filter(tenant=org).order_by("created_at"))
        if kind == "note":
            crm.create_note(org, SYSTEM, {"body": "n", "deal_id": str(deal.pk)})
        elif kind == "unnote" and notes:
            crm.delete_note(org, SYSTEM, notes[other % len(notes)])
        elif kind == "task":
            crm.create_task(org, SYSTEM, {"title": "t", "deal_id": str(deal.pk)})
        elif kind == "retask" and tasks:
            crm.update_task(org, SYSTEM, tasks[other % len(tasks)], {"deal_id": str(deals[other].pk)})
        elif kind == "untask" and tasks:
            crm.delete_task(org, SYSTEM, tasks[other % len(tasks)])
        elif kind == "edit":
            crm.update_deal(org, SYSTEM, deal, {"value": str(other * 10)})
        elif kind == "move":
            crm.move_deal(org, SYSTEM, deal, stages[other % len(stages)].pk)
    for deal in Deal.objects.filter(pk__in=[d.pk for d in deals]):
        moves = [c.changed_at for c in DealStageChange.objects.filter(deal=deal)]
        moments = [
            deal.updated_at,
            *moves,
            *(n.created_at for n in Note.objects.filter(deal=deal)),
            *(t.updated_at for t in Task.objects.filter(deal=deal)),
        ]
        assert deal.last_activity_at == max(moments), deal.name
        assert deal.stage_entered_at == max(moves), deal.name
    Deal.objects.all().delete()
    Note.objects.all().delete()
    Task.objects.all().delete()
