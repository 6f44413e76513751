"""The flow definition: parsing, the checks that name the block, opening hours, ring order, menus."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from octopushx.telephony import flows
from tests.telephony.samples import support_line


def _block(definition: dict, block_id: str) -> dict:
    return next(b for b in definition["blocks"] if b["id"] == block_id)


def test_the_issue_example_is_valid_without_warnings():
    assert flows.validate(support_line()) == ({}, {})


def test_a_menu_option_to_nowhere_is_an_error_naming_block_and_key():
    definition = support_line()
    _block(definition, "menu")["options"]["3"] = "sales"
    errors, _ = flows.validate(definition)
    assert errors == {"blocks.menu.options.3": ["No block called 'sales'"]}


def test_an_unreachable_block_is_an_error_naming_it():
    definition = support_line()
    definition["blocks"].append({"id": "bye", "type": "hangup", "say": "Bye"})
    errors, _ = flows.validate(definition)
    assert errors == {"blocks.bye": ["Block 'bye' cannot be reached from 'hours'"]}


def test_an_empty_ring_group_is_an_error():
    definition = support_line()
    _block(definition, "billing")["members"] = []
    errors, _ = flows.validate(definition)
    assert errors == {"blocks.billing.members": ["The ring group has no members and no team"]}


def test_a_schedule_that_never_opens_is_a_warning_not_an_error():
    definition = support_line()
    _block(definition, "hours")["schedule"] = {}
    errors, warnings = flows.validate(definition)
    assert errors == {}
    assert warnings == {"blocks.hours.schedule": ["The schedule never opens: every call goes to 'closed'"]}


def test_duplicate_ids_and_a_missing_start_are_errors():
    definition = support_line()
    definition["start"] = "welcome"
    definition["blocks"].append({"id": "vm", "type": "hangup"})
    errors, _ = flows.validate(definition)
    assert errors["start"] == ["No block called 'welcome' to start with"]
    assert errors["blocks.vm.id"] == ["Two blocks are called 'vm'"]


def test_field_errors_are_named_by_block_id():
    definition = support_line()
    _block(definition, "menu")["timeout_s"] = 99
    _block(definition, "hours")["schedule"]["sat"] = ["18:00-09:00"]
    errors, _ = flows.validate(definition)
    assert set(errors) == {"blocks.menu.timeout_s", "blocks.hours.schedule"}
    assert "ends before it starts" in errors["blocks.hours.schedule"][0]


def test_an_unknown_block_type_is_rejected():
    definition = support_line()
    definition["blocks"][1] = {"id": "menu", "type": "ivr"}
    errors, _ = flows.validate(definition)
    assert list(errors) == ["blocks.menu"]


@pytest.mark.parametrize(("number", "ok"), [("+44 20 7946 0000", True), ("020 7946 0000", False), ("+1 555", False)])
def test_a_forward_number_must_be_international_and_valid(number, ok):
    definition = support_line()
    _block(definition, "menu")["options"]["3"] = "out"
    definition["blocks"].append({"id": "out", "type": "forward", "number": number})
    errors, _ = flows.validate(definition)
    assert (errors == {}) is ok
    if ok:
        assert flows.parse(definition).block("out").number == "+442079460000"


def test_a_greeting_needs_text_or_a_recording():
    errors, _ = flows.validate({"name": "x", "start": "g", "blocks": [{"id": "g", "type": "greeting", "next": "g"}]})
    assert errors["blocks.g"] == ["A greeting needs text to say or a recording"]


def test_an_unknown_time_zone_and_holiday_country_are_rejected():
    definition = support_line()
    definition["timezone"] = "Mars/Olympus"
    _block(definition, "hours")["holidays"] = "XX"
    errors, _ = flows.validate(definition)
    assert set(errors) == {"timezone", "blocks.hours.holidays"}


def test_the_json_schema_names_every_block_type():
    schema = flows.json_schema()
    text = str(schema)
    for name in ("HoursBlock", "MenuBlock", "RingGroupBlock", "QueueBlock", "VoicemailBlock", "ForwardBlock"):
        assert name in text


def test_open_on_a_weekday_inside_the_range_and_closed_at_its_end():
    hours = flows.parse(support_line()).block("hours")
    assert flows.is_open(hours, datetime(2026, 12, 7, 9, 0)).open
    closing = flows.is_open(hours, datetime(2026, 12, 7, 17, 30))
    assert (closing.open, closing.reason) == (False, "out_of_hours")


def test_christmas_day_is_a_holiday_even_on_a_weekday():
    hours = flows.parse(support_line()).block("hours")
    opening = flows.is_open(hours, datetime(2026, 12, 25, 10, 30))
    assert (opening.open, opening.reason) == (False, "holiday")
    assert "Christmas" in opening.detail


def test_a_closed_date_closes_the_day():
    definition = support_line()
    _block(definition, "hours")["closed_dates"] = ["2026-12-08"]
    hours = flows.parse(definition).block("hours")
    assert flows.is_open(hours, datetime(2026, 12, 8, 10, 0)).reason == "holiday"
    assert flows.holiday_name(hours, date(2026, 12, 8)) == "Closed date"


def test_ring_order_skips_unavailable_and_orders_by_strategy():
    agents = [
        flows.Agent("a@x.test", "available", datetime(2026, 12, 7, 10, 0)),
        flows.Agent("b@x.test", "busy"),
        flows.Agent("c@x.test", "available", datetime(2026, 12, 7, 9, 0)),
        flows.Agent("d@x.test", "available", None),
        flows.Agent("e@x.test", "offline"),
    ]
    emails = lambda ordered: [a.email for a in ordered]  # noqa: E731
    assert emails(flows.ring_order("fixed_order", agents)) == ["a@x.test", "c@x.test", "d@x.test"]
    assert emails(flows.ring_order("longest_idle", agents)) == ["d@x.test", "c@x.test", "a@x.test"]
    assert emails(flows.ring_order("round_robin", agents, rotation=4)) == ["c@x.test", "d@x.test", "a@x.test"]


def test_a_menu_repeats_then_gives_up():
    menu = flows.parse(support_line()).block("menu")
    assert flows.menu_choice(menu, "2", 0) == flows.MenuChoice("option", "support")
    assert flows.menu_choice(menu, "", 0) == flows.MenuChoice("repeat", "menu")
    assert flows.menu_choice(menu, "7", 1) == flows.MenuChoice("repeat", "menu", invalid=True)
    assert flows.menu_choice(menu, "", 2) == flows.MenuChoice("no_input", "vm")
