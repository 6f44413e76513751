"""Usage metering: transcribed minutes once per analysed call, the daily aggregate, the ledger totals."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from octopushx.billing import clock, ledger
from octopushx.billing.models import UsageDay, UsageEvent
from octopushx.calls import services as call_services
from octopushx.core import metering
from octopushx.core.models import Blob
from tests.billing.conftest import DAY_ONE
from tests.calls.factories import CALL_SCRIPT, analysed_call, analysis
from tests.conftest import make_org


def _minutes(call) -> Decimal:
    return (Decimal(str(call.duration)) / 60).quantize(Decimal("0.01"))


def test_products_register_their_meters_through_usage_py():
    assert ("transcription_minutes", "call.analysed") in {(m.metric, m.event) for m in metering.meters()}


def test_an_analysed_call_is_metered_by_its_duration(customer):
    call = analysed_call(customer)
    event = UsageEvent.objects.get(tenant=customer)
    assert event.metric == "transcription_minutes"
    assert event.key == str(call.pk)
    assert event.quantity == _minutes(call) > 0
    assert event.occurred_at.date() == DAY_ONE


def test_a_reprocessed_call_is_metered_once(customer):
    call = analysed_call(customer)
    call_services.save_result(call, 2, None, analysis(CALL_SCRIPT), [0.2])
    with clock.frozen(DAY_ONE + timedelta(days=1)):
        call_services.save_result(call, 3, None, analysis(CALL_SCRIPT), [0.2])
    assert UsageEvent.objects.filter(tenant=customer).count() == 1
    assert UsageDay.objects.get(tenant=customer).events == 1


def test_with_billing_off_nothing_is_metered(customer, settings):
    settings.BILLING_ENABLED = False
    analysed_call(customer)
    assert not UsageEvent.objects.exists()


def test_the_same_key_counts_once(customer):
    assert ledger.record(customer, "workflow_runs", "run-1", Decimal(1)) is True
    assert ledger.record(customer, "workflow_runs", "run-1", Decimal(1)) is False
    assert ledger.totals(customer, DAY_ONE, DAY_ONE)["workflow_runs"] == 1


def test_totals_count_the_days_asked_for_only(customer):
    ledger.record(customer, "transcription_minutes", "a", Decimal("1.5"), datetime(2026, 3, 1, 23, 59, tzinfo=UTC))
    ledger.record(customer, "transcription_minutes", "b", Decimal("2"), datetime(2026, 3, 2, 0, 0, tzinfo=UTC))
    ledger.record(customer, "transcription_minutes", "c", Decimal("3"), datetime(2026, 3, 3, 23, 59, tzinfo=UTC))
    assert ledger.totals(customer, date(2026, 3, 2), date(2026, 3, 3))["transcription_minutes"] == Decimal("5")
    assert ledger.totals(customer, date(2026, 3, 1), date(2026, 3, 1))["transcription_minutes"] == Decimal("1.5")


def test_the_daily_aggregate_is_rebuilt_from_the_events(customer):
    for n, day in enumerate([1, 1, 2, 5]):
        ledger.record(
            customer, "transcription_minutes", f"k{n}", Decimal("2.25"), datetime(2026, 3, day, 12, tzinfo=UTC)
        )
    before = list(UsageDay.objects.filter(tenant=customer).values_list("metric", "day", "quantity", "events"))
    UsageDay.objects.filter(tenant=customer).update(quantity=0, events=0)  # drifted or lost
    assert ledger.rebuild_days(customer) == 3
    after = list(UsageDay.objects.filter(tenant=customer).values_list("metric", "day", "quantity", "events"))
    assert after == before
    series = ledger.daily(customer, date(2026, 3, 1), date(2026, 3, 3))["transcription_minutes"]
    assert series == [(date(2026, 3, 1), Decimal("4.5")), (date(2026, 3, 2), Decimal("2.25")), (date(2026, 3, 3), 0)]


def test_bulk_ingestion_counts_each_key_once_in_any_order(customer):
    other_customer = make_org("Other Billed Ltd")
    at = datetime(2026, 3, 4, 9, tzinfo=UTC)
    ledger.record(customer, "transcription_minutes", "seen", Decimal("1"), at)
    rows = [
        (customer.pk, "transcription_minutes", "seen", Decimal("1"), at),  # already in the ledger
        (customer.pk, "transcription_minutes", "new", Decimal("2.5"), at),
        (customer.pk, "transcription_minutes", "new", Decimal("2.5"), at),  # twice in the batch
        (other_customer.pk, "transcription_minutes", "new", Decimal("4"), at + timedelta(days=1)),
    ]
    assert ledger.record_many(reversed(rows), chunk=2) == 2
    assert ledger.record_many(rows) == 0
    assert ledger.totals(customer, date(2026, 3, 4), date(2026, 3, 4))["transcription_minutes"] == Decimal("3.5")
    assert list(UsageDay.objects.filter(tenant=customer).values_list("day", "quantity", "events")) == [
        (date(2026, 3, 4), Decimal("3.5"), 2)
    ]
    assert UsageDay.objects.get(tenant=other_customer).quantity == Decimal("4")


def test_bulk_ingestion_refuses_an_unknown_metric_and_writes_nothing(customer):
    at = datetime(2026, 3, 4, 9, tzinfo=UTC)
    rows = [(customer.pk, "transcription_minutes", "a", Decimal("1"), at), (customer.pk, "bogus", "b", Decimal(1), at)]
    try:
        ledger.record_many(rows)
    except ValueError as error:
        assert "bogus" in str(error)
    else:
        raise AssertionError("an unknown metric was accepted")
    assert not UsageEvent.objects.filter(tenant=customer).exists()


def test_stored_gigabytes_and_workflow_runs_are_measured_once_a_day(customer):
    from octopushx.core import blobs
    from octopushx.studio.models import Run, RunStatus
    from tests.studio.conftest import make_workflow

    blob = blobs.store(customer, b"x" * 1_000_000, filename="a.bin")
    Blob.objects.filter(pk=blob.pk).update(created_at=datetime(2026, 3, 1, tzinfo=UTC))
    workflow = make_workflow(customer, {"name": "Tag", "trigger": {"type": "event", "event": "contact.created"},
                                        "steps": [{"type": "add_tag", "tag": "new"}]})  # fmt: skip
    day = DAY_ONE
    finished = datetime(2026, 3, 2, 15, tzinfo=UTC)
    for n, (status, test) in enumerate(
        [
            (RunStatus.SUCCEEDED, False),
            (RunStatus.FAILED, False),
            (RunStatus.SKIPPED, False),
            (RunStatus.SUCCEEDED, True),
        ]
    ):
        Run.objects.create(
            tenant=customer, workflow=workflow, version=1, status=status, dedupe_key=f"r{n}", test=test,
            finished_at=finished,
        )  # fmt: skip
    Run.objects.create(
        tenant=customer, workflow=workflow, version=1, status=RunStatus.SUCCEEDED, dedupe_key="next-day",
        finished_at=finished + timedelta(days=1),
    )  # fmt: skip
    assert ledger.measure_days([day]) == 2
    assert ledger.measure_days([day]) == 0  # measured before: counts once
    totals = ledger.totals(customer, day, day)
    assert totals["workflow_runs"] == 2  # succeeded and failed; not skipped, not a builder test run
    stored = UsageEvent.objects.get(tenant=customer, metric="storage_gb_days")
    assert stored.key == "storage_gb_days:2026-03-02"
    assert stored.quantity == (Decimal(blob.size) / 10**9).quantize(Decimal("0.0001")) > 0


def test_the_billing_run_measures_the_days_before_it(customer):
    from octopushx.billing import invoices
    from octopushx.core import blobs

    blob = blobs.store(customer, b"y" * 2_000_000, filename="b.bin")
    Blob.objects.filter(pk=blob.pk).update(created_at=datetime(2026, 3, 1, tzinfo=UTC))
    invoices.run(DAY_ONE + timedelta(days=2))
    keys = set(UsageEvent.objects.filter(tenant=customer, metric="storage_gb_days").values_list("key", flat=True))
    assert "storage_gb_days:2026-03-03" in keys  # yesterday, and the grace days before it
