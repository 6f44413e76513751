"""The billing run: periods close into drafts, late usage in the grace days lands on them, then they
are issued with gapless numbers and never change; a second run issues nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from octopushx import cli
from octopushx.billing import clock, invoices, ledger, services
from octopushx.billing.models import BillingProfile, Invoice, InvoiceStatus, TaxRate
from octopushx.core.models import AuditEntry
from tests.billing.conftest import SYSTEM
from tests.conftest import make_org

# Customers made on DAY_ONE (2 March 2026) end their trial on 16 March: the first period is
# 16 March – 15 April, closed by a run after 15 April, issued after the grace days (3) on 19 April.
FIRST = (date(2026, 3, 16), date(2026, 4, 15))


def _run(day: date) -> dict[str, int]:
    with clock.frozen(day):
        return invoices.run()


def _late_minutes(tenant, key: str, quantity: str, day: date = date(2026, 4, 15)) -> None:
    ledger.record(
        tenant, "transcription_minutes", key, Decimal(quantity), datetime.combine(day, datetime.min.time(), UTC)
    )


def test_nothing_is_invoiced_while_on_trial(customer):
    assert _run(date(2026, 3, 16))["drafted"] == 0
    assert not Invoice.objects.exists()


def test_a_period_that_ended_is_a_draft_during_its_grace_days(customer):
    counts = _run(date(2026, 4, 16))
    invoice = Invoice.objects.get(tenant=customer)
    assert counts["drafted"] == 1 and counts["issued"] == 0
    assert (invoice.status, invoice.number, invoice.sequence) == (InvoiceStatus.DRAFT, "", None)
    assert (invoice.period_start, invoice.period_end) == FIRST
    assert [(line.kind, line.amount) for line in invoice.lines.all()] == [("plan", Decimal("35.000"))]
    assert invoice.total == Decimal("42.00")  # Team, one seat, VAT 20 % (GB)


def test_late_usage_inside_the_grace_days_lands_on_the_draft(customer):
    _run(date(2026, 4, 16))
    with clock.frozen(date(2026, 4, 17)):
        _late_minutes(customer, "late-call", "650")  # used on 15 April, measured on the 17th
    assert _run(date(2026, 4, 17))["updated"] == 1
    invoice = Invoice.objects.get(tenant=customer)
    assert invoice.status == InvoiceStatus.DRAFT
    assert [line.kind for line in invoice.lines.all()] == ["plan", "overage"]
    assert _run(date(2026, 4, 19))["issued"] == 1
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.ISSUED and invoice.number == "INV-000001"
    assert invoice.lines.get(kind="overage").quantity == 150


def test_after_the_grace_days_the_invoice_is_issued_and_audited(customer):
    counts = _run(date(2026, 4, 19))
    invoice = Invoice.objects.get(tenant=customer)
    assert counts["issued"] == 1
    assert (invoice.status, invoice.number, invoice.sequence) == (InvoiceStatus.ISSUED, "INV-000001", 1)
    assert invoice.issued_at == datetime(2026, 4, 19, tzinfo=UTC)
    assert AuditEntry.objects.filter(tenant=customer, action="invoice.issued").count() == 1


def test_a_second_run_issues_nothing(customer):
    first = _run(date(2026, 4, 19))
    snapshot = list(Invoice.objects.values_list("pk", "number", "status", "computed", "total"))
    second = _run(date(2026, 4, 19))
    assert first["issued"] == 1 and second["issued"] == 0 and second["kept"] == 1
    assert list(Invoice.objects.values_list("pk", "number", "status", "computed", "total")) == snapshot


def test_an_issued_invoice_never_changes(customer):
    _run(date(2026, 4, 19))
    invoice = Invoice.objects.get(tenant=customer)
    with clock.frozen(date(2026, 4, 25)):
        _late_minutes(customer, "too-late", "9000")
    _run(date(2026, 4, 25))
    again = Invoice.objects.get(pk=invoice.pk)
    assert (again.computed, again.total, again.number) == (invoice.computed, invoice.total, invoice.number)


def test_recomputing_an_issued_period_gives_the_same_bytes(customer):
    with clock.frozen(date(2026, 4, 1)):
        services.change_subscription(customer, SYSTEM, seats=4, addons=["studio"])
        _late_minutes(customer, "call-1", "2100.5", date(2026, 4, 1))
    _run(date(2026, 4, 19))
    invoice = Invoice.objects.get(tenant=customer)
    assert [line.kind for line in invoice.lines.all()] == ["plan", "proration", "proration", "overage"]
    recomputed = invoices.compute_period(invoice.subscription, *FIRST)
    assert recomputed.canonical() == invoice.computed


def test_numbers_run_per_issuer_without_gaps(customer, billing_on):
    others = [make_org(f"Customer {n}") for n in range(3)]  # all start on DAY_ONE too
    assert _run(date(2026, 4, 19))["issued"] == 4
    assert sorted(Invoice.objects.values_list("sequence", flat=True)) == [1, 2, 3, 4]
    assert len({i.issuer_id for i in Invoice.objects.all()}) == 1
    assert _run(date(2026, 5, 19))["issued"] == 4  # the next period of each
    assert sorted(Invoice.objects.values_list("number", flat=True)) == [f"INV-{n:06d}" for n in range(1, 9)]
    assert others


def test_the_customers_country_and_vat_number_choose_the_tax(customer):
    TaxRate.objects.create(country="DE", rate=Decimal("19"))
    BillingProfile.objects.create(tenant=customer, country="DE", business=True, vat_number="DE811907980")
    _run(date(2026, 4, 16))
    invoice = Invoice.objects.get(tenant=customer)
    assert invoice.tax == 0 and invoice.total == invoice.subtotal
    assert invoice.tax_rule.startswith("Reverse charge") and "DE811907980" in invoice.tax_rule


def test_with_billing_off_the_run_does_nothing(customer, settings):
    settings.BILLING_ENABLED = False
    assert invoices.run(date(2026, 5, 1)) == {}
    assert not Invoice.objects.exists()


@pytest.fixture
def octopushx(capsys):
    def run(*argv: str) -> tuple[int, str]:
        code = cli.main(list(argv))
        out, err = capsys.readouterr()
        return code, out + err

    return run


def test_the_cli_runs_as_of_a_date_and_twice_issues_nothing(customer, octopushx):
    code, out = octopushx("billing", "run", "--at", "2026-04-19")
    assert code == 0 and "Billing run as of 2026-04-19: 1 issued" in out
    code, out = octopushx("billing", "run", "--at", "2026-04-19")
    assert code == 0 and "0 issued" in out and "1 issued before" in out
    assert Invoice.objects.count() == 1


def test_the_cli_refuses_a_bad_date(customer, octopushx):
    code, out = octopushx("billing", "run", "--at", "19/04/2026")
    assert code == 1 and "is not a date; write YYYY-MM-DD" in out
    assert not Invoice.objects.exists()


def test_the_operator_sets_a_countrys_tax_rate_from_the_cli(db, octopushx):
    code, out = octopushx("billing", "tax-rate", "de", "19")
    assert code == 0 and "DE: VAT 19 %" in out
    assert TaxRate.objects.get(country="DE").rate == Decimal("19")
    assert AuditEntry.objects.filter(action="tax_rate.set").count() == 1
    code, out = octopushx("billing", "tax-rate")
    assert "DE  VAT 19 %" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("GBR", "20"), "country: A two-letter country code"),
        (("DE", "101"), "rate: A percentage from 0 to 100"),
        (("DE", "19.125"), "at most two decimal places"),
        (("DE", "-1"), "rate: A percentage"),
    ],
)
def test_a_bad_tax_rate_is_refused_and_changes_nothing(db, octopushx, argv, message):
    code, out = octopushx("billing", "tax-rate", *argv)
    assert code == 1 and message in out
    assert not TaxRate.objects.exists()


def test_the_runs_bulk_reads_give_the_invoices_single_reads_give(customer, monkeypatch):
    """The run reads timelines, customers and usage in bulk; each invoice equals one computed alone."""
    monkeypatch.setattr(invoices.RunCache, "BULK_FROM", 1)
    others = [make_org(f"Bulk {n} Ltd") for n in range(3)]
    BillingProfile.objects.create(tenant=others[0], country="DE", business=True, vat_number="DE123456789")
    with clock.frozen(date(2026, 3, 20)):
        services.change_subscription(others[1], SYSTEM, plan="enterprise", seats=4)
    for n, tenant in enumerate([customer, *others]):
        _late_minutes(tenant, f"call-{n}", str(400 + 300 * n), day=date(2026, 4, 1))
    _run(date(2026, 5, 20))
    issued = Invoice.objects.filter(status=InvoiceStatus.ISSUED).select_related("subscription__tenant")
    assert issued.count() == 8  # two periods each
    for invoice in issued:
        alone = invoices.compute_period(invoice.subscription, invoice.period_start, invoice.period_end)
        assert alone.canonical() == invoice.computed
    assert {i.customer["country"] for i in issued} == {"GB", "DE"}
