"""Golden files: the TwiML and NCCO every block answers with, for both providers.

A change to the compiler shows up as a diff of these files. After a deliberate change, regenerate
them and review the diff before committing::

    OCTOPUSHX_REGENERATE_GOLDEN=1 .venv/bin/pytest tests/telephony/test_golden.py -q -p no:xdist
    git diff tests/telephony/golden
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from xml.dom import minidom

import pytest

from octopushx.telephony import compile as compiler
from octopushx.telephony import flows, limits
from tests.telephony.samples import EVERY_BLOCK, context

GOLDEN = Path(__file__).parent / "golden"
REGENERATE = os.environ.get("OCTOPUSHX_REGENERATE_GOLDEN") == "1"

# (file name, block, context changes): every block type, and the states a webhook asks for.
CASES = [
    ("hours", "hours", {}),  # the start block: disclosure, then open on Monday 10:30
    ("hours_closed", "hours", {"now": datetime(2026, 12, 25, 10, 30)}),  # Christmas Day
    ("greeting", "greeting", {}),
    ("greeting_recording", "recorded-greeting", {}),
    ("menu", "menu", {}),
    ("menu_invalid", "menu", {"attempt": 1, "invalid": True}),
    ("ring_group", "billing", {}),
    ("ring_group_round_robin", "support", {}),
    ("ring_group_round_robin_second", "support", {"attempt": 1}),
    ("ring_group_exhausted", "support", {"attempt": 3}),
    ("ring_group_nobody_available", "billing", {"endpoints": lambda block: []}),
    ("queue", "queue", {}),
    ("queue_wait", "queue", {"step": "wait", "queue_time_s": 30}),
    ("queue_max_wait", "queue", {"step": "wait", "queue_time_s": 120}),
    ("queue_left", "queue", {"step": "left"}),
    ("voicemail", "vm", {}),
    ("voicemail_recorded", "vm", {"step": "recorded"}),
    ("forward", "forward", {}),
    ("forward_unanswered", "forward", {"step": "after"}),
    ("hangup", "goodbye", {}),
]


def _pretty_xml(text: str) -> str:
    return minidom.parseString(text).toprettyxml(indent="  ")


def _render(provider: str, block_id: str, changes: dict) -> str:
    flow = flows.parse(EVERY_BLOCK)
    document = compiler.compile_block(flow, block_id, provider, context(**changes))
    if provider == "twilio":
        return _pretty_xml(document)
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("provider", ["twilio", "vonage"])
@pytest.mark.parametrize(("name", "block_id", "changes"), CASES, ids=[c[0] for c in CASES])
def test_block_compiles_to_its_golden_file(provider, name, block_id, changes):
    path = GOLDEN / provider / f"{name}.{'xml' if provider == 'twilio' else 'json'}"
    actual = _render(provider, block_id, changes)
    if REGENERATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"{path} is missing: regenerate the golden files (see this module's docstring)"
    assert actual == path.read_text(encoding="utf-8")


# The documents a call the line limits refuse is answered with: the message, then a clean hang-up.
REFUSALS = [("refusal_busy", limits.BUSY_MESSAGE), ("refusal_monthly", limits.MONTHLY_MESSAGE)]


@pytest.mark.parametrize("provider", ["twilio", "vonage"])
@pytest.mark.parametrize(("name", "message"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_a_refusal_compiles_to_its_golden_file(provider, name, message):
    path = GOLDEN / provider / f"{name}.{'xml' if provider == 'twilio' else 'json'}"
    if provider == "twilio":
        actual = _pretty_xml(compiler.refusal_twiml(message))
    else:
        actual = json.dumps(compiler.refusal_ncco(message), indent=2, ensure_ascii=False) + "\n"
    if REGENERATE:
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"{path} is missing: regenerate the golden files (see this module's docstring)"
    assert actual == path.read_text(encoding="utf-8")


def test_a_refusal_says_the_message_and_hangs_up():
    root = minidom.parseString(compiler.refusal_twiml(limits.BUSY_MESSAGE)).documentElement
    verbs = [n.tagName for n in root.childNodes if n.nodeType == n.ELEMENT_NODE]
    assert verbs == ["Say", "Hangup"]
    assert root.getElementsByTagName("Say")[0].firstChild.data == limits.BUSY_MESSAGE
    assert compiler.refusal_ncco(limits.MONTHLY_MESSAGE) == [
        {"action": "talk", "text": limits.MONTHLY_MESSAGE, "language": "en-GB"}
    ]


def test_every_block_type_has_golden_files():
    flow = flows.parse(EVERY_BLOCK)
    covered = {flow.block(block_id).type for _name, block_id, _changes in CASES}
    assert covered == set(flows.BLOCK_TYPES)


def test_the_sample_flow_is_valid():
    assert flows.validate(EVERY_BLOCK) == ({}, {})


def test_twiml_parses_as_xml_with_a_response_root():
    flow = flows.parse(EVERY_BLOCK)
    for _name, block_id, changes in CASES:
        root = minidom.parseString(compiler.twiml(flow, block_id, context(**changes))).documentElement
        assert root.tagName == "Response"


def test_every_ncco_action_is_one_vonage_knows():
    known = {"record", "conversation", "connect", "talk", "stream", "input", "notify"}
    flow = flows.parse(EVERY_BLOCK)
    for _name, block_id, changes in CASES:
        for action in compiler.ncco(flow, block_id, context(**changes)):
            assert action["action"] in known
            for key in ("eventUrl", "streamUrl", "musicOnHoldUrl"):
                assert key not in action or isinstance(action[key], list)
