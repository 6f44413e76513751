"""The routing simulator: the issue's cases, step by step and deterministic."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from octopushx.telephony import flows
from octopushx.telephony.flows import Agent
from octopushx.telephony.simulate import Presence, simulate
from tests.telephony.samples import support_line

MONDAY_1030 = datetime(2026, 12, 7, 10, 30)
EVERYONE = Presence(
    agents={
        "owner@acme.test": Agent("owner@acme.test", "available"),
        "ann@acme.test": Agent("ann@acme.test", "available", datetime(2026, 12, 7, 10, 0)),
        "bob@acme.test": Agent("bob@acme.test", "available", datetime(2026, 12, 7, 9, 0)),
    },
    teams={"Support": ["ann@acme.test", "bob@acme.test"]},
)


def _run(at=MONDAY_1030, digits=(), presence=EVERYONE, **kwargs):
    return simulate(flows.parse(support_line()), "+447700900123", at, digits, presence, **kwargs)


def test_pressing_1_in_hours_rings_billing():
    result = _run(digits=["1"])
    assert result.path == ["hours", "menu", "billing"]
    assert [s.outcome for s in result.steps] == ["open", "pressed", "ringing"]
    assert result.steps[2].detail.startswith("Rings owner@acme.test at once for 20 s.")
    assert (result.caller, result.country, result.ends) == ("+447700900123", "GB", "answered")


def test_christmas_day_goes_to_voicemail_as_a_holiday():
    result = _run(at=datetime(2026, 12, 25, 10, 30), digits=["1"])
    assert result.path == ["hours", "vm"]
    assert result.steps[0].outcome == "holiday"
    assert "Christmas Day" in result.steps[0].detail
    assert result.ends == "voicemail"


def test_saturday_is_out_of_hours():
    result = _run(at=datetime(2026, 12, 12, 10, 30))
    assert result.path == ["hours", "vm"]
    assert (result.steps[0].outcome, result.steps[0].detail) == ("no_hours_today", "Closed on Saturday → vm")


def test_an_evening_call_is_out_of_hours():
    result = _run(at=datetime(2026, 12, 7, 18, 0))
    assert result.steps[0].outcome == "out_of_hours"
    assert result.path == ["hours", "vm"]


def test_an_aware_time_is_read_in_the_flows_zone():
    # 09:30 UTC in July is 10:30 in London (BST): open; 08:30 UTC is 09:30: open; 07:30 UTC: closed.
    assert _run(at=datetime(2026, 7, 6, 7, 30, tzinfo=UTC)).steps[0].outcome == "out_of_hours"
    assert _run(at=datetime(2026, 7, 6, 8, 30, tzinfo=UTC)).steps[0].outcome == "open"


def test_a_menu_timeout_repeats_the_menu_then_goes_to_no_input():
    result = _run(digits=[])
    assert result.path == ["hours", "menu", "vm"]
    assert [s.outcome for s in result.steps] == ["open", "no_input", "no_input", "no_input", "voicemail"]
    assert result.steps[1].detail == "No key within 8 s: the menu plays again"
    assert result.steps[3].detail == "No key within 8 s: → vm"


def test_an_invalid_digit_repeats_the_menu_and_a_valid_one_then_counts():
    result = _run(digits=["9", "2"])
    assert [s.outcome for s in result.steps[1:3]] == ["invalid", "pressed"]
    assert result.path == ["hours", "menu", "support"]


def test_longest_idle_rings_the_agent_idle_longest_first():
    result = _run(digits=["2"])
    assert "Rings bob@acme.test, ann@acme.test one by one (longest idle)" in result.steps[-1].detail


def test_all_agents_busy_goes_to_next_and_names_who_was_skipped():
    busy = Presence(
        agents={"ann@acme.test": Agent("ann@acme.test", "busy"), "bob@acme.test": Agent("bob@acme.test", "away")},
        teams={"Support": ["ann@acme.test", "bob@acme.test"]},
    )
    result = _run(digits=["2"], presence=busy)
    assert result.path == ["hours", "menu", "support", "vm"]
    assert result.steps[2].outcome == "all_busy"
    assert "ann@acme.test (busy), bob@acme.test (away)" in result.steps[2].detail


def test_a_member_missing_from_the_snapshot_counts_as_offline():
    result = _run(digits=["1"], presence=Presence())
    assert result.steps[2].outcome == "all_busy"
    assert "owner@acme.test (offline)" in result.steps[2].detail


def test_unanswered_follows_the_ring_groups_next():
    result = _run(digits=["1"], unanswered=True)
    assert result.path == ["hours", "menu", "billing", "vm"]
    assert result.steps[2].outcome == "no_answer"


def test_the_same_input_gives_the_same_walk():
    assert _run(digits=["9"]).as_dict() == _run(digits=["9"]).as_dict()


def test_a_flow_that_loops_stops_with_a_step_saying_so():
    definition = {
        "name": "Loop",
        "start": "a",
        "blocks": [
            {"id": "a", "type": "greeting", "say": "Hello", "next": "b"},
            {"id": "b", "type": "greeting", "say": "Again", "next": "a"},
        ],
    }
    result = simulate(flows.parse(definition), "+447700900123", MONDAY_1030)
    assert result.ends == "loops"
    assert result.steps[-1].outcome == "stopped"


def test_a_caller_number_that_is_not_international_is_rejected():
    with pytest.raises(ValueError, match="international"):
        simulate(flows.parse(support_line()), "07700 900123", MONDAY_1030)
