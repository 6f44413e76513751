"""A job that fails is retried with back-off; one that fails for good is visible and retryable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from octopushx.core import jobs
from octopushx.core.models import AuditEntry, Job, JobState
from tests.conftest import make_member
from tests.core.queue import waiting_deliveries


@jobs.handler("test.always_fails")
def always_fails(job):
    raise RuntimeError("the remote end said no")


def failed_job(tenant) -> Job:
    job = jobs.submit("test.always_fails", tenant=tenant, max_attempts=1)
    jobs.run(job.pk)
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    return job


def test_backoff_doubles_and_is_capped():
    assert [jobs.backoff(n) for n in (1, 2, 3, 4)] == [15, 30, 60, 120]
    assert jobs.backoff(30) == 3600


def test_failed_attempt_schedules_a_delayed_redelivery(org):
    job = jobs.submit("test.always_fails", tenant=org, max_attempts=3)
    jobs.run(job.pk)
    job.refresh_from_db()
    assert job.state == JobState.QUEUED and job.attempts == 1
    assert "RuntimeError: the remote end said no" in job.last_error
    deliveries = waiting_deliveries(job)
    assert len(deliveries) == 1
    eta = deliveries[0].eta  # Huey keeps naive UTC times
    assert timedelta(seconds=10) < eta - timezone.now().replace(tzinfo=None) <= timedelta(seconds=15)


def test_last_attempt_fails_for_good(org):
    job = failed_job(org)
    assert job.finished_at is not None and job.attempts == 1
    assert waiting_deliveries(job) == []


def test_readyz_counts_failed_jobs(org, client):
    failed_job(org)
    failed_job(org)
    body = client.get("/readyz").json()
    assert body["checks"]["queue"]["failed_jobs"] == 2


def test_metrics_count_failures(org, client):
    failed_job(org)
    text = client.get("/metrics").content.decode()
    assert 'octopushx_job_failures_total{kind="test.always_fails"}' in text
    assert 'octopushx_jobs{kind="test.always_fails",state="failed"} 1.0' in text


# --- the jobs page -----------------------------------------------------------------------


def test_jobs_page_lists_failed_job_with_its_error(org, web_as):
    job = failed_job(org)
    client = web_as("admin")
    page = client.get("/settings/jobs/?state=failed")
    assert page.status_code == 200
    html = page.content.decode()
    assert "test.always_fails" in html and "the remote end said no" in html
    assert f"/settings/jobs/{job.pk}/retry/" in html


def test_jobs_page_hides_other_tenants_jobs(org, other_org, web_as):
    failed_job(other_org)
    html = web_as("admin").get("/settings/jobs/").content.decode()
    assert "test.always_fails" not in html


def test_jobs_page_retry_requeues_and_audits(org, web_as):
    job = failed_job(org)
    response = web_as("admin").post(f"/settings/jobs/{job.pk}/retry/")
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.state == JobState.QUEUED and job.attempts == 0
    assert AuditEntry.objects.filter(tenant=org, action="job.retried", object_id=str(job.pk)).exists()


def test_jobs_page_retry_of_a_job_that_did_not_fail_changes_nothing(org, web_as):
    job = jobs.submit("test.always_fails", tenant=org)
    response = web_as("admin").post(f"/settings/jobs/{job.pk}/retry/", follow=True)
    assert "Only a job that failed for good can be retried." in response.content.decode()
    job.refresh_from_db()
    assert job.state == JobState.QUEUED
    assert not AuditEntry.objects.filter(action="job.retried").exists()


@pytest.mark.parametrize("role", ["manager", "agent", "auditor"])
def test_jobs_page_needs_admin(org, web_as, role):
    job = failed_job(org)
    client = web_as(role)
    assert client.get("/settings/jobs/").status_code == 403
    assert client.post(f"/settings/jobs/{job.pk}/retry/").status_code == 403
    job.refresh_from_db()
    assert job.state == JobState.FAILED


def test_jobs_page_retry_of_another_tenants_job_is_404(org, other_org, web_as):
    job = failed_job(other_org)
    assert web_as("admin").post(f"/settings/jobs/{job.pk}/retry/").status_code == 404
    job.refresh_from_db()
    assert job.state == JobState.FAILED


# --- the API -------------------------------------------------------------------------------


def test_api_lists_failed_jobs(org, api_as):
    job = failed_job(org)
    jobs.submit("test.always_fails", tenant=org)
    body = api_as("admin").get("/api/v1/jobs?state=failed").json()
    assert [item["id"] for item in body["items"]] == [str(job.pk)]
    assert "the remote end said no" in body["items"][0]["last_error"]


def test_api_retry_requeues(org, api_as):
    job = failed_job(org)
    response = api_as("owner").post(f"/api/v1/jobs/{job.pk}/retry")
    assert response.status_code == 200 and response.json()["state"] == "queued"
    assert AuditEntry.objects.filter(tenant=org, action="job.retried").exists()


def test_api_retry_of_a_job_that_did_not_fail_is_422(org, api_as):
    job = jobs.submit("test.always_fails", tenant=org)
    response = api_as("admin").post(f"/api/v1/jobs/{job.pk}/retry")
    assert response.status_code == 422 and "state" in response.json()["errors"]


def test_api_retry_of_another_tenants_job_is_404(org, other_org, api_as):
    job = failed_job(other_org)
    assert api_as("admin").post(f"/api/v1/jobs/{job.pk}/retry").status_code == 404
    job.refresh_from_db()
    assert job.state == JobState.FAILED


def test_api_jobs_need_admin(org, api_as):
    job = failed_job(org)
    agent = api_as("agent")
    assert agent.get("/api/v1/jobs").status_code == 403
    assert agent.post(f"/api/v1/jobs/{job.pk}/retry").status_code == 403
    job.refresh_from_db()
    assert job.state == JobState.FAILED


def test_member_of_other_tenant_cannot_see_jobs(org, other_org):
    failed_job(org)
    member = make_member(other_org, "admin")
    from tests.conftest import ApiClient

    body = ApiClient(member).get("/api/v1/jobs").json()
    assert body["items"] == []
