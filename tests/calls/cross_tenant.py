"""Factories for the calls' path parameters, used by tests/test_cross_tenant.py."""

from __future__ import annotations

from tests.calls.factories import analysed_call


def _call(tenant, user):
    return analysed_call(tenant, agent=user).pk


FACTORIES = {"call_id": _call}
