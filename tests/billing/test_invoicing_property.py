"""Property test (Hypothesis): any sequence of changes and usage inside a period gives an invoice whose
total is its lines plus tax, with no negative line, the same bytes when computed again."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.billing.test_invoicing import MARCH, compute, state

change = st.tuples(
    st.integers(min_value=0, max_value=30),  # day offset in March
    st.sampled_from(["starter", "team", "enterprise"]),
    st.integers(min_value=1, max_value=40),
    st.dictionaries(st.sampled_from(["studio", "minutes_1000", "storage_100gb", "extra_seats"]), st.integers(1, 5)),
)


@settings(max_examples=150, deadline=None)
@given(
    first=change,
    changes=st.lists(change, max_size=6),
    minutes=st.decimals(min_value=0, max_value=100000, places=2),
)
def test_any_period_adds_up_and_never_credits(first, changes, minutes):
    _, plan, seats, addons = first
    timeline = [(date(2026, 2, 20), state(plan, seats, addons))]
    timeline += [(MARCH[0] + timedelta(days=d), state(p, s, a)) for d, p, s, a in sorted(changes, key=lambda c: c[0])]
    invoice = compute(timeline, usage={"transcription_minutes": minutes})
    assert all(line.amount >= 0 for line in invoice.lines)
    assert invoice.subtotal == sum((line.amount for line in invoice.lines), Decimal(0))
    assert invoice.total == invoice.subtotal + invoice.tax
    assert invoice.tax == (invoice.subtotal * Decimal("0.2")).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
    assert compute(list(timeline), usage={"transcription_minutes": minutes}).canonical() == invoice.canonical()
