"""Property (Hypothesis): random plan, seat and add-on changes and usage inside a period, then the
billing run: each invoice's total is its lines plus tax, no line credits more than was charged, and
running again (the same day or later) changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from octopushx.billing import clock, invoices, ledger, services
from octopushx.billing.models import Invoice, InvoiceStatus
from octopushx.core.context import Actor
from tests.billing.conftest import DAY_ONE
from tests.conftest import make_org

SYSTEM = Actor.system("test")
FIRST_PAID = DAY_ONE + timedelta(days=14)  # the trial's end: the first period starts here
STEP = st.tuples(
    st.integers(min_value=0, max_value=29),  # the day of the period the change happens
    st.fixed_dictionaries(
        {},
        optional={
            "plan": st.sampled_from(["starter", "team", "enterprise"]),
            "seats": st.integers(min_value=1, max_value=12),
            "addons": st.lists(st.sampled_from(["studio", "minutes_1000", "storage_100gb", "extra_seats"]), max_size=3),
        },
    ),
    st.decimals(min_value=0, max_value=3000, places=2),  # minutes transcribed that day
)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=st.lists(STEP, min_size=1, max_size=6))
def test_the_run_adds_up_never_over_credits_and_runs_once(db, billing_on, steps):
    customer = make_org("Property Run Ltd")  # its trial starts on DAY_ONE
    for n, (offset, change, minutes) in enumerate(sorted(steps, key=lambda step: step[0])):
        day = FIRST_PAID + timedelta(days=offset)
        with clock.frozen(day):
            try:
                services.change_subscription(customer, SYSTEM, **change)
            except ValidationError:
                pass  # a refused change leaves everything as it was (tested elsewhere)
            moment = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=12)
            ledger.record(customer, "transcription_minutes", f"step-{n}", Decimal(minutes), moment)
    after = FIRST_PAID + timedelta(days=70)  # two periods closed, their grace days over
    first = invoices.run(after)
    issued = list(Invoice.objects.filter(tenant=customer, status=InvoiceStatus.ISSUED).order_by("period_start"))
    assert first["issued"] == len(issued) >= 2
    for invoice in issued:
        lines = list(invoice.lines.all())
        assert invoice.subtotal == sum((line.amount for line in lines), Decimal(0))
        assert invoice.total == invoice.subtotal + invoice.tax
        assert all(line.amount >= 0 for line in lines)  # downgrades are never credited mid-period
        assert (
            invoices.compute_invoice(invoice.subscription, invoice.period_start, invoice.period_end)[2].canonical()
            == invoice.computed
        )
    snapshot = [(i.number, i.computed, i.total) for i in issued]
    assert invoices.run(after)["issued"] == 0
    assert invoices.run(after + timedelta(days=1))["issued"] == 0
    again = Invoice.objects.filter(tenant=customer, status=InvoiceStatus.ISSUED).order_by("period_start")
    assert [(i.number, i.computed, i.total) for i in again] == snapshot
