"""Prices fit their currency's minor unit; computed amounts round half-up per line."""

from __future__ import annotations

from decimal import Decimal

import pytest

from octopushx.billing import money


def test_a_price_is_kept_to_the_currencys_minor_unit():
    assert money.parse_price("15", "GBP") == Decimal("15.00")
    assert money.parse_price(15.1, "GBP") == Decimal("15.10")
    assert money.parse_price("1500", "JPY") == Decimal("1500")


@pytest.mark.parametrize(
    ("value", "currency", "message"),
    [
        ("15.001", "GBP", "2 decimal places"),
        ("10.5", "JPY", "0 decimal places"),
        ("-1", "GBP", "cannot be negative"),
        ("abc", "GBP", "not an amount"),
        ("NaN", "GBP", "not an amount"),
        ("10", "XXX", "Unknown currency"),
    ],
)
def test_a_price_that_does_not_fit_is_refused_with_the_reason(value, currency, message):
    with pytest.raises(ValueError, match=message):
        money.parse_price(value, currency)


def test_lines_round_half_up():
    assert money.round_line(Decimal("1.005"), "GBP") == Decimal("1.01")
    assert money.round_line(Decimal("1.004"), "GBP") == Decimal("1.00")
    assert money.round_line(Decimal("2.5"), "JPY") == Decimal("3")
