"""Factories for Shield's path parameters, used by tests/test_cross_tenant.py."""

from __future__ import annotations

import uuid

from octopushx.shield.monitoring.models import SecurityAlert


def _alert(tenant, user):
    return SecurityAlert.objects.create(
        tenant=tenant, kind="failed_burst", summary="tenant B alert", dedupe_key=uuid.uuid4().hex
    ).pk


FACTORIES = {
    "alert_id": _alert,
}


def _hold(tenant, user):
    from octopushx.shield.retention.models import LegalHold

    return LegalHold.objects.create(tenant=tenant, scope="tenant", reason="tenant B hold").pk


FACTORIES["hold_id"] = _hold


def _privacy_request(tenant, user):
    from octopushx.shield.privacy.models import PrivacyRequest

    return PrivacyRequest.objects.create(tenant=tenant, kind="access", source="staff", email="b@example.test").pk


FACTORIES["request_id"] = _privacy_request
# Any action name: the request id is checked first, so tenant B's request is a 404 whatever the action.
FACTORIES["action"] = lambda tenant, user: f"action-{uuid.uuid4().hex}"


def _termination(tenant, user):
    from django.utils import timezone

    from octopushx.shield.offboarding.models import Termination

    return Termination.objects.create(
        organization_id=tenant.pk,
        organization_name=tenant.name,
        organization_kind=tenant.kind,
        notice_days=30,
        requested_by_label="tenant B owner",
        due_at=timezone.now(),
    ).pk


FACTORIES["termination_id"] = _termination
