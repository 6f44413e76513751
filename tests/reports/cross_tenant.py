"""Factories for the reports' path parameters, used by tests/test_cross_tenant.py."""

from __future__ import annotations

import uuid
from datetime import time

from octopushx.reports.models import Dashboard, Report, ReportSchedule, ScheduleRecipient


def _report(tenant, user):
    # shared with every role, so only the tenant gate can hide it from tenant A's owner
    return Report.objects.create(
        tenant=tenant, name="B report", spec={"dataset": "deals"}, owner=user, shared=True, roles=[]
    ).pk


def _dashboard(tenant, user):
    return Dashboard.objects.create(tenant=tenant, name="B dashboard", owner=user, shared=True, roles=[]).pk


def _schedule(tenant, user):
    # owned and received by the caller (a member of both tenants): only the tenant gate hides it
    schedule = ReportSchedule.objects.create(
        tenant=tenant, dashboard="sales", frequency="daily", time_of_day=time(8), created_by=user
    )
    ScheduleRecipient.objects.create(tenant=tenant, schedule=schedule, user=user, time_zone="UTC")
    return schedule.pk


def _recipient(tenant, user):
    """A member of ``tenant`` only (a schedule's recipient)."""
    from tests.conftest import make_member

    return make_member(tenant, "agent", email=f"b-recipient-{uuid.uuid4().hex[:8]}@example.test").user.pk


FACTORIES = {
    "report_id": _report,
    "dashboard_id": _dashboard,
    "key": _dashboard,  # /dashboards/{key}/pdf with another tenant's custom dashboard
    "schedule_id": _schedule,
    "recipient_id": _recipient,
}
