"""Two-level invoicing: a reseller's customers are invoiced by the reseller at retail, and the
platform sends the reseller one wholesale statement a month with a line per customer."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from octopushx.billing import clock, invoices, ledger, resellers
from octopushx.billing.models import Invoice, InvoiceStatus, Statement
from octopushx.core.context import Actor
from octopushx.tenancy.models import OrgKind
from octopushx.tenancy.services import platform_org
from tests.conftest import make_org

ADMIN = Actor.system("test")
# Customers made on DAY_ONE (2 March 2026) leave their trial on 16 March; the first period
# (16 March - 15 April) is issued on 19 April, the April statement on 1 May.


def _run(day: date) -> dict[str, int]:
    with clock.frozen(day):
        return invoices.run()


def _customer(reseller, name="Retail Ltd"):
    return make_org(name, kind=OrgKind.CUSTOMER, parent=reseller)


def test_a_reseller_customer_is_invoiced_at_retail_by_the_reseller(reseller):
    resellers.set_price_book(reseller, ADMIN, plans={"team": {"month": "45.00"}})
    customer = _customer(reseller)
    direct = make_org("Direct Ltd")
    _run(date(2026, 4, 19))
    retail = Invoice.objects.get(tenant=customer)
    assert retail.issuer == reseller and retail.number == "INV-000001"
    assert (retail.subtotal, retail.wholesale_subtotal, retail.price_book_revision) == (
        Decimal("45.000"), Decimal("35.000"), 1
    )  # fmt: skip
    listed = Invoice.objects.get(tenant=direct)
    assert listed.issuer == platform_org() and listed.number == "INV-000001"  # each issuer its own sequence
    assert (listed.subtotal, listed.wholesale_subtotal) == (Decimal("35.000"), None)


def test_without_a_retail_price_the_customer_pays_list_price(reseller):
    resellers.set_price_book(reseller, ADMIN, plans={"starter": {"month": "20.00"}})
    customer = _customer(reseller)
    _run(date(2026, 4, 19))
    invoice = Invoice.objects.get(tenant=customer)
    assert (invoice.subtotal, invoice.wholesale_subtotal) == (Decimal("35.000"), Decimal("35.000"))


def test_overage_follows_the_retail_minutes_pack(reseller):
    resellers.set_price_book(reseller, ADMIN, addons={"minutes_1000": {"month": "30.00"}})
    customer = _customer(reseller)
    with clock.frozen(date(2026, 4, 10)):
        ledger.record(customer, "transcription_minutes", "k1", Decimal("600"), datetime(2026, 4, 10, tzinfo=UTC))
    _run(date(2026, 4, 19))
    invoice = Invoice.objects.get(tenant=customer)
    overage = invoice.lines.get(kind="overage")
    assert overage.amount == Decimal("3.00")  # 100 minutes at 30.00 / 1000
    assert invoice.wholesale_subtotal == Decimal("37.000")  # 35 + 100 minutes at 20.00 / 1000


def test_a_price_change_after_the_period_does_not_touch_its_draft(reseller):
    resellers.set_price_book(reseller, ADMIN, plans={"team": {"month": "45.00"}})
    customer = _customer(reseller)
    _run(date(2026, 4, 16))
    with clock.frozen(date(2026, 4, 17)):
        resellers.set_price_book(reseller, ADMIN, plans={"team": {"month": "50.00"}})
    _run(date(2026, 4, 19))
    assert Invoice.objects.get(tenant=customer).subtotal == Decimal("45.000")


def test_the_month_statement_has_a_line_per_customer_and_is_issued_once(reseller):
    resellers.set_price_book(reseller, ADMIN, plans={"team": {"month": "45.00"}})
    first, second = _customer(reseller, "Alpha"), _customer(reseller, "Beta")
    _run(date(2026, 4, 19))
    assert _run(date(2026, 4, 30))["statements"] == 0  # April is not over
    counts = _run(date(2026, 5, 1))
    assert counts["statements"] == 1
    statement = Statement.objects.get(tenant=reseller)
    assert statement.issuer == platform_org() and statement.month == date(2026, 4, 1)
    assert [(line.customer, line.amount, line.retail_subtotal) for line in statement.lines.all()] == [
        (first, Decimal("35.000"), Decimal("45.000")),
        (second, Decimal("35.000"), Decimal("45.000")),
    ]
    assert (statement.subtotal, statement.tax, statement.total) == (
        Decimal("70.00"),
        Decimal("14.00"),
        Decimal("84.00"),
    )
    assert _run(date(2026, 5, 1))["statements"] == 0
    assert _run(date(2026, 6, 1))["statements"] == 0
    assert Statement.objects.count() == 1


def test_statements_share_the_platform_sequence_without_gaps(reseller, customer):
    _customer(reseller)
    _run(date(2026, 4, 19))
    _run(date(2026, 5, 1))
    platform_numbers = sorted(
        [*Invoice.objects.filter(issuer=platform_org()).values_list("sequence", flat=True),
         *Statement.objects.values_list("sequence", flat=True)]
    )  # fmt: skip
    assert platform_numbers == [1, 2]


def test_a_statement_is_reproducible_from_the_invoices(reseller):
    resellers.set_price_book(reseller, ADMIN, plans={"team": {"month": "45.00"}})
    _customer(reseller)
    _run(date(2026, 4, 19))
    _run(date(2026, 5, 1))
    statement = Statement.objects.get(tenant=reseller)
    data = resellers.compute_statement(reseller, date(2026, 4, 1), "GBP")
    data.pop("_rows")
    import json

    assert json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False) == statement.computed


def test_draft_invoices_are_not_on_a_statement(reseller):
    _customer(reseller)
    _run(date(2026, 4, 17))  # still a draft
    assert Invoice.objects.get().status == InvoiceStatus.DRAFT
    assert resellers.compute_statement(reseller, date(2026, 4, 1), "GBP") is None


def test_a_closed_customer_is_billed_for_its_current_period_then_ends(reseller):
    customer = _customer(reseller)
    with clock.frozen(date(2026, 4, 20)):  # inside the second period (16 April - 15 May)
        resellers.close_customer(reseller, ADMIN, customer)
    _run(date(2026, 5, 17))  # the second period is a draft during its grace days
    assert invoices.services.subscription_of(customer).status != "cancelled"
    _run(date(2026, 5, 19))
    subscription = invoices.services.subscription_of(customer)
    assert subscription.status == "cancelled"
    assert [i.period_start for i in Invoice.objects.filter(tenant=customer).order_by("period_start")] == [
        date(2026, 3, 16), date(2026, 4, 16)
    ]  # fmt: skip
    assert all(i.status == InvoiceStatus.ISSUED for i in Invoice.objects.filter(tenant=customer))
    _run(date(2026, 7, 1))
    assert Invoice.objects.filter(tenant=customer).count() == 2
