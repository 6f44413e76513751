"""Factories for the calls' path parameters, used by tests/test_cross_tenant.py."""

from __future__ import annotations

from octopushx.calls import scoring
from octopushx.calls.services import scorecards, trackers
from octopushx.core.context import Actor
from tests.calls.factories import analysed_call


def _call(tenant, user):
    return analysed_call(tenant, agent=user).pk


def _tracker(tenant, user):
    return trackers.create_tracker(tenant, Actor.system("test"), {"name": f"B {user.pk}", "phrases": ["refund"]}).pk


def _scorecard(tenant, user):
    """A scorecard of ``tenant`` that applies to every call (so a call route reaches it)."""
    existing = scorecards.scorecards(tenant).first()
    if existing is not None:
        return existing.pk
    return scorecards.create_scorecard(
        tenant, Actor.system("test"), {"name": "Cross-tenant QA", "definition": scoring.example_definition()}
    ).pk


FACTORIES = {"call_id": _call, "tracker_id": _tracker, "scorecard_id": _scorecard}
