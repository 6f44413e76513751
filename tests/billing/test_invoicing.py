"""billing.invoicing: the invoice as a pure function of timeline, catalogue, usage and period."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal

import pytest

from octopushx.billing import invoicing
from octopushx.billing.catalogue import DEFAULT_CATALOGUE
from octopushx.billing.invoicing import Customer

CATALOGUES = {1: copy.deepcopy(DEFAULT_CATALOGUE)}
MARCH = (date(2026, 3, 1), date(2026, 3, 31))
GB = Customer("Billed Ltd", "GB")


def state(plan="team", seats=5, addons=None, interval="month", version=1) -> dict:
    return {
        "plan": plan,
        "catalogue_version": version,
        "interval": interval,
        "currency": "GBP",
        "seats": seats,
        "addons": addons or {},
        "status": "active",
    }


def compute(timeline, usage=None, customer=GB, rates=None, period=MARCH):
    return invoicing.compute(
        timeline=timeline,
        catalogues=CATALOGUES,
        usage=usage or {},
        customer=customer,
        tax_rates=rates or {},
        period_start=period[0],
        period_end=period[1],
    )


def amounts(invoice) -> list[tuple[str, str]]:
    return [(line.kind, str(line.amount)) for line in invoice.lines]


def test_a_quiet_period_charges_the_plans_seats_and_vat():
    invoice = compute([(date(2026, 2, 1), state())])
    assert amounts(invoice) == [("plan", "175.00")]
    assert (invoice.subtotal, invoice.tax, invoice.total) == (Decimal("175.00"), Decimal("35.00"), Decimal("210.00"))
    assert invoice.tax_rule == "VAT 20 % (GB)"


def test_the_readme_worked_example_of_proration():
    """README, "Invoices": 5 Team seats, on 15 March (day 15 of 31) 8 seats and the Studio add-on."""
    invoice = compute([(date(2026, 2, 1), state()), (date(2026, 3, 15), state(seats=8, addons={"studio": 1}))])
    assert amounts(invoice) == [("plan", "175.00"), ("proration", "57.58"), ("proration", "43.87")]
    # 3 seats × 35.00 × (31 − 15 + 1) / 31 = 57.5806… ; 8 seats × 10.00 × 17 / 31 = 43.8709…
    assert "17 of 31 days" in invoice.lines[1].description
    assert (invoice.subtotal, invoice.tax, invoice.total) == (Decimal("276.45"), Decimal("55.29"), Decimal("331.74"))


def test_a_change_on_the_first_day_is_the_periods_state_not_a_proration():
    invoice = compute([(date(2026, 2, 1), state()), (date(2026, 3, 1), state(plan="enterprise"))])
    assert amounts(invoice) == [("plan", "300.00")]


def test_a_downgrade_mid_period_is_not_credited_and_down_then_up_charges_only_whats_new():
    timeline = [
        (date(2026, 2, 1), state(seats=5)),
        (date(2026, 3, 10), state(seats=2)),
        (date(2026, 3, 20), state(seats=6)),
    ]
    invoice = compute(timeline)
    # Only the sixth seat is new on 20 March: 35.00 × 12 / 31 = 13.548… -> 13.55
    assert amounts(invoice) == [("plan", "175.00"), ("proration", "13.55")]
    assert all(line.amount >= 0 for line in invoice.lines)


def test_a_higher_plan_mid_period_charges_the_difference_for_the_rest():
    invoice = compute([(date(2026, 2, 1), state(seats=2)), (date(2026, 3, 31), state(plan="enterprise", seats=2))])
    # (120 − 70) × 1 / 31 = 1.6129… -> 1.61
    assert amounts(invoice) == [("plan", "70.00"), ("proration", "1.61")]


def test_overage_minutes_when_the_plan_allows_it():
    invoice = compute([(date(2026, 2, 1), state(seats=1))], usage={"transcription_minutes": Decimal("620.40")})
    # Team includes 500 per seat; 121 started minutes over at the 1,000-minute pack's rate (0.02)
    assert amounts(invoice) == [("plan", "35.00"), ("overage", "2.42")]
    assert invoice.lines[1].quantity == 121


def test_no_overage_line_when_the_plan_does_not_allow_it():
    invoice = compute([(date(2026, 2, 1), state("starter", 1))], usage={"transcription_minutes": Decimal(5000)})
    assert [line.kind for line in invoice.lines] == ["plan"]


def test_minute_packs_add_to_the_included_minutes():
    timeline = [(date(2026, 2, 1), state(seats=1, addons={"minutes_1000": 1}))]
    invoice = compute(timeline, usage={"transcription_minutes": Decimal(1400)})
    assert [line.kind for line in invoice.lines] == ["plan", "addon"]


def test_extra_seats_cost_the_plans_seat_price():
    invoice = compute([(date(2026, 2, 1), state(seats=2, addons={"extra_seats": 3}))])
    assert amounts(invoice) == [("plan", "70.00"), ("addon", "105.00")]


@pytest.mark.parametrize(
    ("customer", "rates", "rate", "rule"),
    [
        (Customer("A", "GB", True, "GB123"), {}, "20", "VAT 20 % (GB)"),
        (Customer("B", "DE", True, "DE811"), {"DE": Decimal("19")}, "0", "Reverse charge"),
        (Customer("C", "DE", False, ""), {"DE": Decimal("19")}, "19", "VAT 19 % (DE)"),
        (Customer("D", "FR", True, ""), {}, "20", "GB rate: no rate set for FR"),
        (Customer("E", "GB"), {"GB": Decimal("17.5")}, "17.5", "VAT 17.5 % (GB)"),
    ],
)
def test_the_tax_rule_is_stated(customer, rates, rate, rule):
    invoice = compute([(date(2026, 2, 1), state())], customer=customer, rates=rates)
    assert invoice.tax_rate == Decimal(rate)
    assert rule in invoice.tax_rule
    assert invoice.total == invoice.subtotal + invoice.tax


def test_recomputing_gives_the_same_invoice_byte_for_byte():
    timeline = [(date(2026, 2, 1), state()), (date(2026, 3, 15), state(seats=9, addons={"studio": 1}))]
    usage = {"transcription_minutes": Decimal("7000.5")}
    first = compute(timeline, usage).canonical()
    assert all(compute(list(timeline), dict(usage)).canonical() == first for _ in range(3))
    assert '"amount":"175.00"' in first


def test_periods_follow_the_anchor_day():
    assert invoicing.periods(date(2026, 1, 31), "month", date(2026, 4, 29)) == [
        (date(2026, 1, 31), date(2026, 2, 27)),
        (date(2026, 2, 28), date(2026, 3, 30)),
    ]
    assert invoicing.periods(date(2026, 3, 16), "year", date(2027, 3, 16)) == [(date(2026, 3, 16), date(2027, 3, 15))]
