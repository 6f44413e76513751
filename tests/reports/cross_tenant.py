"""Factories for the reports' path parameters, used by tests/test_cross_tenant.py."""

from __future__ import annotations

import uuid
from datetime import time

from octopushx.reports.models import Report, ReportSchedule, ScheduleRecipient


def _report(tenant, user):
    # shared with every role, so only the tenant gate can hide it from tenant A's owner
    return Report.objects.create(
        tenant=tenant, name="B report", spec={"dataset": "deals"}, owner=user, shared=True, roles=[]
    ).pk


def _dashboard_key(tenant, user):
    """Another tenant's custom dashboard once they exist (``dashboard_id``), else an id nobody has."""
    custom = FACTORIES.get("dashboard_id")
    return custom(tenant, user) if custom else uuid.uuid4()


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


FACTORIES = {"report_id": _report, "key": _dashboard_key, "schedule_id": _schedule, "recipient_id": _recipient}
