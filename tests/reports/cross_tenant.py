"""Factories for the reports' path parameters, used by tests/test_cross_tenant.py."""

from __future__ import annotations

from octopushx.reports.models import Dashboard, Report


def _report(tenant, user):
    # shared with every role, so only the tenant gate can hide it from tenant A's owner
    return Report.objects.create(
        tenant=tenant, name="B report", spec={"dataset": "deals"}, owner=user, shared=True, roles=[]
    ).pk


def _dashboard(tenant, user):
    return Dashboard.objects.create(tenant=tenant, name="B dashboard", owner=user, shared=True, roles=[]).pk


FACTORIES = {"report_id": _report, "dashboard_id": _dashboard}
