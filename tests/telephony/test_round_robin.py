"""Round robin turns once per call: the next call starts with the next member; a retry does not turn it."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest

from octopushx.core.context import Actor
from octopushx.telephony import services
from tests.telephony.providers import CALLER, LINE, SID, connect, path_of, twilio_post

pytestmark = pytest.mark.django_db
ROUND_ROBIN = {
    "name": "Round robin line",
    "timezone": "Europe/London",
    "start": "support",
    "recording": {"enabled": False},
    "blocks": [
        {"id": "support", "type": "ring_group", "team": "Support", "strategy": "round_robin", "timeout_s": 30,
         "member_timeout_s": 15, "next": "vm"},
        {"id": "vm", "type": "voicemail", "say": "Please leave a message."},
    ],
}  # fmt: skip


@pytest.fixture
def line(line_org):
    flow, _ = services.create_flow(line_org, Actor.system("test"), ROUND_ROBIN)
    return connect(line_org, flow=flow)


def _call(client, line, sid: str) -> ElementTree.Element:
    params = {"AccountSid": SID, "CallSid": sid, "From": CALLER, "To": LINE}
    response = twilio_post(client, f"/hooks/telephony/twilio/incoming/{line['numbers']['twilio'].pk}", params)
    return ElementTree.fromstring(response.content)


def test_each_call_starts_one_member_further_and_a_retry_keeps_the_turn(client, line):
    first = _call(client, line, "CA1")
    assert first.find("Dial/Number").text == "+447700900002"  # ann
    retry = path_of(first.find("Dial").get("action"))
    params = {"AccountSid": SID, "CallSid": "CA1", "From": CALLER, "To": LINE, "DialCallStatus": "no-answer"}
    second_member = ElementTree.fromstring(twilio_post(client, retry, params).content)
    assert second_member.find("Dial/Number").text == "+447700900003"  # bob, same call
    line["flow"].refresh_from_db()
    assert line["flow"].rotation == {"support": 1}
    next_call = _call(client, line, "CA2")
    assert next_call.find("Dial/Number").text == "+447700900003"  # the next call starts with bob
    line["flow"].refresh_from_db()
    assert line["flow"].rotation == {"support": 2}


def test_the_simulator_shows_the_current_turn(line):
    from datetime import datetime

    row = line["flow"]
    row.rotation = {"support": 1}
    row.save(update_fields=["rotation"])
    walk = services.simulate_flow(row.tenant, row, caller=CALLER, at=datetime(2026, 12, 7, 10, 30), digits=[])
    assert "bob@acme.test, ann@acme.test" in walk.steps[0].detail
