"""The event bus: ``emit_many`` writes the same deliveries as ``emit``, in bulk."""

import pytest
from django.db import transaction

from octopushx.core import events, jobs
from octopushx.core.models import Job


@pytest.fixture
def received():
    seen: list[events.Event] = []
    events.subscribe("widget.*", name="test-widget-events")(seen.append)
    yield seen
    events.SUBSCRIBERS.pop("test-widget-events")


def test_emit_many_delivers_each_event_once_per_matching_subscriber(org, received):
    written = events.emit_many(org, [("widget.made", {"n": 1}), ("gadget.made", {"n": 2}), ("widget.sold", {"n": 3})])
    assert written == 2
    jobs.drain()
    assert sorted((e.name, e.payload["n"]) for e in received) == [("widget.made", 1), ("widget.sold", 3)]
    assert len({e.id for e in received}) == 2 and {e.tenant_id for e in received} == {str(org.pk)}
    assert Job.objects.filter(kind="event.deliver", state="done").count() == 2


def test_emit_many_job_rows_match_emit(org, received):
    events.emit(org, "widget.made", {"n": 1})
    events.emit_many(org, [("widget.made", {"n": 2})])
    one, many = Job.objects.filter(kind="event.deliver").order_by("payload__event__payload__n")
    for job in (one, many):
        assert job.tenant_id == org.pk and job.state == "queued"
        assert job.dedupe_key == f"event:{job.payload['event']['id']}:test-widget-events"
        assert set(job.payload["event"]) == {"id", "name", "tenant_id", "payload", "at"}
    assert one.max_attempts == many.max_attempts


def test_emit_many_in_a_rolled_back_transaction_writes_nothing(org, received):
    with pytest.raises(RuntimeError), transaction.atomic():
        events.emit_many(org, [("widget.made", {})])
        raise RuntimeError("rolled back")
    assert not Job.objects.filter(kind="event.deliver").exists()


def test_emit_many_without_subscribers_runs_no_query(org, django_assert_num_queries):
    """No workflow can start on these events (Studio's listener knows its triggers): nothing is read."""
    pairs = (("nobody.listens", {"n": n}) for n in range(1000))
    with django_assert_num_queries(0):
        assert events.emit_many(org, pairs) == 0


def test_emit_many_with_no_matching_subscriber_runs_no_query(org, received, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert events.emit_many(org, [("gadget.made", {})] * 100) == 0


def test_emit_many_enqueues_ids_in_batches_once_committed(org, received, django_capture_on_commit_callbacks):
    from huey.contrib.djhuey import HUEY

    HUEY.flush()
    with django_capture_on_commit_callbacks(execute=True):
        events.emit_many(org, [("widget.made", {"n": n}) for n in range(450)])
        assert HUEY.pending_count() == 0  # nothing is delivered before the commit
    batches = [task.args[0] for task in HUEY.pending()]
    HUEY.flush()
    assert [len(ids) for ids in batches] == [200, 200, 50]
    written = {str(pk) for pk in Job.objects.filter(kind="event.deliver").values_list("pk", flat=True)}
    assert {job_id for ids in batches for job_id in ids} == written
    jobs.drain()
    assert sorted(e.payload["n"] for e in received) == list(range(450))
