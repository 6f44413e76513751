"""Terminating an organisation: notice (suspended, owners can still export and cancel), who may, bad input."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry
from octopushx.shield.offboarding import services
from octopushx.shield.offboarding.models import Termination
from octopushx.tenancy.models import Organization
from octopushx.tenancy.roles import Role
from octopushx.tenancy.services import platform_org
from tests.conftest import ApiClient, make_member, make_org


def _give_notice(client, org, **body):
    return client.post(f"/api/v1/organizations/{org.pk}/termination", {"confirm": org.name, **body})


def test_owner_gives_notice_and_the_organisation_is_suspended(org, mailoutbox, django_capture_on_commit_callbacks):
    owner = ApiClient(make_member(org, Role.OWNER))
    with django_capture_on_commit_callbacks(execute=True):
        response = _give_notice(owner, org, notice_days=14, reason="Moving to another provider")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == "scheduled" and body["notice_days"] == 14
    org.refresh_from_db()
    assert org.suspended_at is not None and org.suspension_reason == "termination"
    termination = Termination.objects.get(pk=body["id"])
    assert termination.due_at - termination.requested_at == timedelta(days=14)
    assert AuditEntry.objects.filter(tenant=org, action="organization.termination_scheduled").exists()
    assert AuditEntry.objects.filter(tenant=org.parent, action="organization.termination_scheduled").exists()
    assert any("will be terminated" in message.subject for message in mailoutbox)


def test_during_notice_the_owner_can_export_and_cancel_but_nothing_else(org):
    owner = ApiClient(make_member(org, Role.OWNER))
    assert _give_notice(owner, org).status_code == 201
    assert owner.get("/api/v1/contacts").status_code == 403  # suspended
    assert owner.get(f"/api/v1/organizations/{org.pk}/termination").json()["state"] == "scheduled"
    assert owner.get(f"/api/v1/organizations/{org.pk}/export").status_code == 200
    response = owner.post(f"/api/v1/organizations/{org.pk}/termination/cancel")
    assert response.status_code == 200 and response.json()["state"] == "cancelled"
    org.refresh_from_db()
    assert org.suspended_at is None
    assert owner.get("/api/v1/contacts").status_code == 200
    assert AuditEntry.objects.filter(tenant=org, action="organization.termination_cancelled").exists()
    second = owner.post(f"/api/v1/organizations/{org.pk}/termination/cancel")
    assert second.status_code == 422


def test_cancelling_keeps_a_suspension_that_was_there_before(org):
    Organization.objects.filter(pk=org.pk).update(suspended_at=org.created_at, suspension_reason="abuse")
    org.refresh_from_db()
    services.request_termination(org, Actor.system("test"), notice_days=30)
    services.cancel_termination(org, Actor.system("test"))
    org.refresh_from_db()
    assert org.suspension_reason == "abuse"


@pytest.mark.parametrize("days", [0, 6, 91, 365, -1, "thirty", None, True])
def test_notice_period_out_of_range_is_refused_and_changes_nothing(org, days):
    owner = ApiClient(make_member(org, Role.OWNER))
    response = _give_notice(owner, org, notice_days=days)
    assert response.status_code == 422, response.json()
    assert not Termination.objects.exists()
    org.refresh_from_db()
    assert org.suspended_at is None


def test_a_wrong_confirmation_is_refused(org):
    owner = ApiClient(make_member(org, Role.OWNER))
    response = owner.post(f"/api/v1/organizations/{org.pk}/termination", {"confirm": "acme", "notice_days": 30})
    assert response.status_code == 422 and "confirm" in response.json()["errors"]
    missing = owner.post(f"/api/v1/organizations/{org.pk}/termination", {"notice_days": 30})
    assert missing.status_code == 422
    assert not Termination.objects.exists()


def test_notice_cannot_be_given_twice(org):
    owner = ApiClient(make_member(org, Role.OWNER))
    assert _give_notice(owner, org).status_code == 201
    assert _give_notice(owner, org).status_code == 422


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER, Role.AGENT, Role.AUDITOR])
def test_only_an_owner_can_terminate(org, api_as, role):
    assert _give_notice(api_as(role), org).status_code == 403
    assert not Termination.objects.exists()


def test_another_organisation_cannot_see_or_terminate_it(org, other_org):
    stranger = ApiClient(make_member(other_org, Role.OWNER))
    assert _give_notice(stranger, org).status_code == 404
    assert stranger.get(f"/api/v1/organizations/{org.pk}/termination").status_code == 404
    assert stranger.post(f"/api/v1/organizations/{org.pk}/termination/cancel").status_code == 404
    assert stranger.get("/api/v1/terminations").json() == []
    reseller_admin = ApiClient(make_member(make_org("Resells", kind="reseller"), Role.OWNER))
    assert _give_notice(reseller_admin, org).status_code == 404


def test_platform_staff_terminate_and_cancel_any_customer(org):
    staff = ApiClient(make_member(platform_org(), Role.ADMIN))
    assert _give_notice(staff, org, notice_days=7).status_code == 201
    assert staff.get("/api/v1/terminations").json()[0]["organization_id"] == str(org.pk)
    assert staff.post(f"/api/v1/organizations/{org.pk}/termination/cancel").status_code == 200
    assert _give_notice(staff, platform_org()).status_code == 404  # never the platform itself
    platform_agent = ApiClient(make_member(platform_org(), Role.AGENT))
    assert _give_notice(platform_agent, org).status_code == 404


def test_deletion_waits_for_the_end_of_notice(org):
    termination = services.request_termination(org, Actor.system("test"), notice_days=30)
    with pytest.raises(ValidationError):
        services.execute(termination, Actor.system("test"), now=termination.due_at - timedelta(minutes=1))
    assert services.schedule_due(termination.due_at - timedelta(minutes=1)) == 0
    assert Organization.objects.filter(pk=org.pk).exists()


def test_a_reseller_with_customers_cannot_be_terminated(db):
    reseller = make_org("Resells", kind="reseller")
    make_org("Customer", parent=reseller)
    with pytest.raises(ValidationError):
        services.request_termination(reseller, Actor.system("test"), notice_days=30)


def test_owner_gives_notice_and_cancels_on_the_settings_page(org, client):
    owner = make_member(org, Role.OWNER)
    client.force_login(owner.user)
    bad = client.post("/settings/offboarding/", {"notice_days": "3", "confirm": org.name})
    assert bad.status_code == 200 and not Termination.objects.exists()
    response = client.post("/settings/offboarding/", {"notice_days": "30", "confirm": org.name})
    assert response.status_code == 302
    assert client.get("/crm/").status_code == 403  # the suspension page
    page = client.get("/settings/offboarding/")
    assert page.status_code == 200 and b"Termination under way" in page.content
    assert client.post("/settings/offboarding/cancel/").status_code == 302
    assert Termination.objects.get().state == "cancelled"
    assert client.get("/crm/").status_code == 200


def test_other_members_of_a_terminating_organisation_see_the_suspension_page(org, client):
    services.request_termination(org, Actor.system("test"), notice_days=30)
    client.force_login(make_member(org, Role.ADMIN).user)
    assert client.get("/settings/offboarding/").status_code == 403
    page = client.get("/crm/")
    assert page.status_code == 403 and b"deleted for good on" in page.content
