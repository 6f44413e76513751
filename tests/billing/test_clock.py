"""Billing reads time from its own clock, which tests freeze."""

from __future__ import annotations

from datetime import UTC, date, datetime

from octopushx.billing import clock


def test_frozen_clock_gives_that_day_and_returns_afterwards():
    with clock.frozen(date(2030, 1, 31)):
        assert clock.today() == date(2030, 1, 31)
        assert clock.now() == datetime(2030, 1, 31, tzinfo=UTC)
        with clock.frozen(datetime(2031, 6, 1, 23, 30, tzinfo=UTC)):
            assert clock.today() == date(2031, 6, 1)
        assert clock.today() == date(2030, 1, 31)


def test_a_source_can_be_set_and_reset():
    clock.set_source(lambda: datetime(2040, 2, 29, 12, tzinfo=UTC))
    try:
        assert clock.today() == date(2040, 2, 29)
    finally:
        clock.set_source(None)
    assert clock.today() != date(2040, 2, 29)
