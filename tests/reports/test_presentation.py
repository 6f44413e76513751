"""How a card writes its numbers."""

from __future__ import annotations

from octopushx.reports.presentation import fmt


def test_small_numbers_keep_only_the_places_they_need():
    assert fmt(9.1) == "9.1"  # days to fulfil: not "9.10"
    assert fmt(2.25) == "2.25"
    assert fmt(3.0) == "3"
    assert fmt(42.54) == "42.5"
    assert fmt(1234) == "1,234"


def test_money_always_has_two_places():
    assert fmt("9.10", "money") == "9.10"
