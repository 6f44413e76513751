"""Suspending a tenant: API, web, sign-in notice, jobs paused, webhooks refused, reinstatement."""

from __future__ import annotations

import pytest
from django.test import Client

from octopushx.accounts.models import ApiToken
from octopushx.core import audit, jobs
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry, Job, JobState
from octopushx.shield.suspension import services
from octopushx.tenancy.models import Membership, OrgKind
from octopushx.tenancy.roles import Role
from octopushx.tenancy.services import platform_org
from tests.conftest import PASSWORD, ApiClient, make_member, make_org

RAN: list[str] = []


@jobs.handler("test.suspension_probe")
def probe(job):
    RAN.append(str(job.pk))
    return {"ok": True}


@pytest.fixture
def staff(db):
    return ApiClient(make_member(platform_org(), Role.ADMIN))


def suspend_url(org):
    return f"/api/v1/organizations/{org.pk}/suspend"


def test_platform_admin_suspends_with_reason_and_note(staff, org):
    response = staff.post(suspend_url(org), {"reason": "abuse", "note": "spam calls reported"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["suspended"] is True and body["suspension_reason"] == "abuse"
    org.refresh_from_db()
    assert org.suspended_at is not None and org.suspension_note == "spam calls reported"


def test_suspension_is_audited_in_tenant_and_parent_trails(staff, org):
    staff.post(suspend_url(org), {"reason": "abuse"})
    assert AuditEntry.objects.filter(tenant=org, action="organization.suspended").exists()
    assert AuditEntry.objects.filter(tenant=org.parent, action="organization.suspended", object_id=str(org.pk)).exists()
    assert audit.verify(org).ok and audit.verify(org.parent).ok


def test_reseller_suspends_its_own_customer(db):
    reseller = make_org("Northwind", kind=OrgKind.RESELLER)
    customer = make_org("Their customer", parent=reseller)
    client = ApiClient(make_member(reseller, Role.ADMIN))
    assert client.post(suspend_url(customer), {"reason": "non_payment"}).status_code == 200


def test_reseller_cannot_suspend_another_resellers_customer(db, org):
    reseller = make_org("Northwind", kind=OrgKind.RESELLER)
    client = ApiClient(make_member(reseller, Role.ADMIN))
    assert client.post(suspend_url(org), {"reason": "abuse"}).status_code == 404
    org.refresh_from_db()
    assert org.suspended_at is None


def test_reseller_cannot_suspend_itself(db):
    reseller = make_org("Northwind", kind=OrgKind.RESELLER)
    client = ApiClient(make_member(reseller, Role.ADMIN))
    assert client.post(suspend_url(reseller), {"reason": "abuse"}).status_code == 404


def test_customer_admin_gets_404_for_another_tenant(api_as, other_org):
    response = api_as("admin").post(suspend_url(other_org), {"reason": "abuse"})
    assert response.status_code == 404
    other_org.refresh_from_db()
    assert other_org.suspended_at is None


def test_platform_agent_is_forbidden(db, org):
    client = ApiClient(make_member(platform_org(), Role.AGENT))
    assert client.post(suspend_url(org), {"reason": "abuse"}).status_code == 403


def test_unknown_reason_is_422_and_changes_nothing(staff, org):
    response = staff.post(suspend_url(org), {"reason": "because", "note": "x"})
    assert response.status_code == 422
    assert "reason" in response.json()["errors"]
    org.refresh_from_db()
    assert org.suspended_at is None
    assert not AuditEntry.objects.filter(tenant=org, action="organization.suspended").exists()


def test_reason_other_needs_a_note(staff, org):
    response = staff.post(suspend_url(org), {"reason": "other"})
    assert response.status_code == 422 and "note" in response.json()["errors"]


def test_suspending_twice_is_422(staff, org):
    staff.post(suspend_url(org), {"reason": "abuse"})
    assert staff.post(suspend_url(org), {"reason": "security"}).status_code == 422


def test_suspended_tenants_valid_token_gets_403_with_reason_code(staff, org, api_as):
    member = api_as("admin")
    assert member.get("/api/v1/organization").status_code == 200
    staff.post(suspend_url(org), {"reason": "terms_violation"})
    response = member.get("/api/v1/organization")
    assert response.status_code == 403
    assert response.json()["code"] == "terms_violation"


def test_suspended_tenants_browser_session_api_call_is_403(staff, org, web_as):
    client = web_as("admin")
    staff.post(suspend_url(org), {"reason": "security"})
    response = client.get("/api/v1/organization")
    assert response.status_code == 403 and response.json()["code"] == "security"


def test_members_see_the_suspension_page(staff, org, web_as):
    client = web_as("owner")
    staff.post(suspend_url(org), {"reason": "abuse"})
    response = client.get("/")
    assert response.status_code == 403
    assert b"is suspended" in response.content and b"Abuse or misuse" in response.content
    assert client.get("/settings/members/").status_code == 403


def test_member_of_another_active_tenant_lands_there(staff, org, other_org):
    membership = make_member(org, Role.ADMIN)
    Membership.objects.create(tenant=other_org, user=membership.user, role=Role.AGENT)
    services.suspend_tenant(org, Actor.system("test"), reason="abuse")
    client = Client()
    client.force_login(membership.user)
    response = client.get("/")
    assert response.status_code == 200 and b"Other Corp" in response.content


def test_sign_in_shows_a_clear_notice(staff, org):
    membership = make_member(org, Role.AGENT)
    staff.post(suspend_url(org), {"reason": "non_payment"})
    client = Client()
    response = client.post("/accounts/login/", {"email": membership.user.email, "password": PASSWORD})
    assert response.status_code == 200
    assert b"suspended" in response.content and b"Unpaid invoices" in response.content
    assert "_auth_user_id" not in client.session


def test_jobs_wait_while_suspended_and_run_after_reinstatement(org):
    RAN.clear()
    job = jobs.submit("test.suspension_probe", tenant=org)
    services.suspend_tenant(org, Actor.system("test"), reason="security")
    jobs.drain()
    job.refresh_from_db()
    assert job.state == JobState.QUEUED and job.attempts == 0 and str(job.pk) not in RAN
    services.reinstate_tenant(org, Actor.system("test"))
    jobs.drain()
    job.refresh_from_db()
    assert job.state == JobState.DONE and str(job.pk) in RAN


def test_webhooks_are_refused_while_suspended(org):
    assert services.webhook_refusal(org) is None
    services.suspend_tenant(org, Actor.system("test"), reason="abuse")
    org.refresh_from_db()
    refusal = services.webhook_refusal(org)
    assert refusal.status_code == 403 and b'"code": "abuse"' in refusal.content


def test_nothing_is_deleted_and_reinstatement_restores(staff, org, api_as):
    member = api_as("manager")
    members_before = Membership.objects.filter(tenant=org).count()
    staff.post(suspend_url(org), {"reason": "abuse"})
    assert Membership.objects.filter(tenant=org).count() == members_before
    assert ApiToken.objects.filter(pk=member.token.pk, revoked_at__isnull=True).exists()
    response = staff.post(f"/api/v1/organizations/{org.pk}/reinstate", {"note": "resolved"})
    assert response.status_code == 200 and response.json()["suspended"] is False
    assert member.get("/api/v1/organization").status_code == 200
    assert AuditEntry.objects.filter(tenant=org, action="organization.reinstated").exists()
    assert AuditEntry.objects.filter(tenant=org.parent, action="organization.reinstated").exists()


def test_reinstating_an_active_tenant_is_422(staff, org):
    assert staff.post(f"/api/v1/organizations/{org.pk}/reinstate", {}).status_code == 422


def test_reinstate_of_another_tenant_is_404(api_as, other_org):
    services.suspend_tenant(other_org, Actor.system("test"), reason="abuse")
    assert api_as("owner").post(f"/api/v1/organizations/{other_org.pk}/reinstate", {}).status_code == 404
    other_org.refresh_from_db()
    assert other_org.suspended_at is not None


def test_organisations_page_suspends_and_reinstates(db, org):
    client = Client()
    client.force_login(make_member(platform_org(), Role.ADMIN).user)
    page = client.get("/settings/organizations/")
    assert page.status_code == 200 and f"/shield/organizations/{org.pk}/suspend/".encode() in page.content
    response = client.post(f"/shield/organizations/{org.pk}/suspend/", {"reason": "abuse", "note": "n"})
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.suspension_reason == "abuse"
    assert b"/reinstate/" in client.get("/settings/organizations/").content
    client.post(f"/shield/organizations/{org.pk}/reinstate/")
    org.refresh_from_db()
    assert org.suspended_at is None


def test_web_suspend_with_bad_reason_changes_nothing(db, org):
    client = Client()
    client.force_login(make_member(platform_org(), Role.ADMIN).user)
    client.post(f"/shield/organizations/{org.pk}/suspend/", {"reason": ""})
    org.refresh_from_db()
    assert org.suspended_at is None


def test_web_suspend_of_unmanaged_org_is_404(web_as, other_org):
    client = web_as("owner")
    assert client.post(f"/shield/organizations/{other_org.pk}/suspend/", {"reason": "abuse"}).status_code == 404


def test_paused_jobs_are_not_counted_as_failed(org):
    job = jobs.submit("test.suspension_probe", tenant=org)
    services.suspend_tenant(org, Actor.system("test"), reason="abuse")
    jobs.run(job.pk)
    assert Job.objects.get(pk=job.pk).state == JobState.QUEUED
