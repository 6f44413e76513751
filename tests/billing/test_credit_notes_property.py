"""Property: whatever credits are asked for, an invoice's credit notes never exceed it, refused ones
change nothing, and a final full credit brings before tax, tax and total to the invoice's exactly."""

from __future__ import annotations

import itertools
from decimal import Decimal

from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from octopushx.billing import credits
from octopushx.billing.models import CreditNote
from octopushx.core.context import Actor
from tests.billing.factories import issued_invoice
from tests.conftest import make_org

SYSTEM = Actor.system("test")
NAMES = itertools.count()
pennies = st.integers(min_value=1, max_value=4000).map(lambda n: Decimal(n) / 100)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(asks=st.lists(st.lists(pennies, min_size=1, max_size=3), max_size=6), finish=st.booleans())
def test_credit_notes_never_exceed_the_invoice(db, billing_on, asks, finish):
    invoice = issued_invoice(make_org(f"Property {next(NAMES)}"))  # Team, one seat: 35.00 + 7.00 = 42.00
    for amounts in asks:
        before = credits.credited(invoice)
        count = CreditNote.objects.filter(invoice=invoice).count()
        lines = [{"description": "Correction", "amount": str(amount)} for amount in amounts]
        try:
            credits.issue_credit_note(invoice, SYSTEM, reason="Property", lines=lines)
        except ValidationError:
            assert sum(amounts) > invoice.subtotal - before.subtotal
            assert credits.credited(invoice) == before
            assert CreditNote.objects.filter(invoice=invoice).count() == count
        now = credits.credited(invoice)
        assert now.subtotal <= invoice.subtotal and now.tax <= invoice.tax and now.total <= invoice.total
        assert now.total == now.subtotal + now.tax
    if finish:
        try:
            credits.issue_credit_note(invoice, SYSTEM, reason="Close", full=True)
        except ValidationError:
            assert credits.credited(invoice).subtotal == invoice.subtotal
        final = credits.credited(invoice)
        assert (final.subtotal, final.tax, final.total) == (invoice.subtotal, invoice.tax, invoice.total)
        assert credits.amount_due(invoice) == 0
