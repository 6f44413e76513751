"""Factories for the calls' path parameters, used by tests/test_cross_tenant.py."""

from __future__ import annotations

from octopushx.calls.services import trackers
from octopushx.core.context import Actor
from tests.calls.factories import analysed_call


def _call(tenant, user):
    return analysed_call(tenant, agent=user).pk


def _tracker(tenant, user):
    return trackers.create_tracker(tenant, Actor.system("test"), {"name": f"B {user.pk}", "phrases": ["refund"]}).pk


FACTORIES = {"call_id": _call, "tracker_id": _tracker}
