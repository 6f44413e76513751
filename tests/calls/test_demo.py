"""The demo's calls: synthesised speech through the real pipeline, linked to contacts, once."""

from __future__ import annotations

import shutil

import pytest

from octopushx.calls import demo
from octopushx.calls.models import Call, CallStatus
from tests.conftest import make_member


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_demo_calls_are_analysed_linked_and_made_once(org):
    make_member(org, "agent", email="alex@acme.test")
    summary = demo.load(org, count=2)
    assert "2 new, 2 analysed" in summary
    calls = list(Call.objects.for_tenant(org))
    assert len(calls) == 2
    assert all(c.status == CallStatus.ANALYSED and c.contact_id and c.agent_id for c in calls)
    assert any("[CARD]" in line.text for c in calls for line in c.lines.all())
    assert "0 new, 2 analysed" in demo.load(org, count=2)


def test_demo_calls_can_be_turned_off(org):
    assert "skipped" in demo.load(org, count=0)
    assert not Call.objects.exists()
