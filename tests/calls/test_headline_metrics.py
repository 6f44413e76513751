"""``Call.metrics``: the current analysis's headline figures copied onto the call when a result is stored
(reports read them without loading transcripts), empty per-role figures when roles are unknown, cleared
with the transcript by retention."""

from __future__ import annotations

import pytest

from octopushx.calls import retention
from octopushx.calls.models import Call, headline_metrics
from tests.calls.factories import analysed_call, unsure_roles

pytestmark = pytest.mark.django_db


def test_storing_a_result_copies_its_headline_figures(org):
    call = analysed_call(org)
    assert call.metrics["roles_known"] is True and call.metrics["analysed"] is True
    assert call.metrics["agent_talk_ratio"] == 0.5 and call.metrics["silence_ratio"] == 0.2
    assert call.metrics["keywords"] == ["bill", "card"]
    assert call.metrics == headline_metrics(call.current.data)


def test_unknown_roles_leave_per_role_figures_out_but_keep_the_rest(org):
    call = analysed_call(org, result=unsure_roles())
    assert call.metrics["roles_known"] is False
    assert "agent_talk_ratio" not in call.metrics and "patience" not in call.metrics
    assert call.metrics["silence_ratio"] == 0.2


def test_absent_or_odd_values_are_left_out_not_null():
    # SQLite reads a JSON null as the text 'null', which a report would average as 0
    figures = headline_metrics({"insights": {"metrics": {"talk_ratio": {"agent": None}, "turns": "7"}}})
    assert figures == {"roles_known": True, "analysed": True, "keywords": []}
    assert headline_metrics(None) == {"roles_known": True, "analysed": False, "keywords": []}


def test_purging_the_transcript_clears_the_copy(org):
    call = analysed_call(org)
    retention.purge_transcripts(org, Call.objects.filter(pk=call.pk))
    call.refresh_from_db()
    assert call.metrics == {} and call.current is None
