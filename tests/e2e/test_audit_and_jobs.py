import csv
import io
from pathlib import Path

import pytest

from octopushx.core.models import Job, JobState
from tests.conftest import make_member, make_org

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_audit_trail_shows_a_change_and_exports_it_as_csv(page, signed_in):
    org = make_org("Acme Support")
    admin = make_member(org, "admin")
    signed_in(page, admin.user)
    page.goto("/accounts/tokens/")
    page.get_by_label("Name").fill("Phone system")
    page.get_by_role("button", name="Create token").click()
    page.get_by_test_id("new-token").wait_for()

    page.get_by_role("navigation", name="Products").get_by_role("link", name="Shield").click()
    page.get_by_role("heading", name="Audit trail").wait_for()
    page.get_by_label("Search", exact=True).fill("token")
    page.get_by_role("button", name="Filter").click()
    created = page.get_by_role("row").filter(has_text="API token created")
    assert created.count() == 1
    # The label is for people; the code is on hover, and the token is named, not numbered.
    assert created.get_by_test_id("action").get_attribute("title") == "token.created"
    assert "API token · Phone system" in created.inner_text()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    rows = list(csv.reader(io.StringIO(Path(download_info.value.path()).read_text())))
    assert any("token.created" in row for row in rows[1:])


def test_failed_job_is_listed_and_can_be_retried(page, signed_in):
    org = make_org("Acme Support")
    admin = make_member(org, "admin")
    Job.objects.create(tenant=org, kind="test.e2e_failure", state=JobState.FAILED, last_error="boom: disk full")
    signed_in(page, admin.user)
    page.goto("/settings/jobs/?state=failed")
    row = page.get_by_role("row").filter(has_text="test.e2e_failure")
    assert "boom: disk full" in row.inner_text()
    row.get_by_role("button", name="Retry").click()
    page.get_by_role("status").filter(has_text="queued again").wait_for()
    assert Job.objects.get(kind="test.e2e_failure").state != JobState.FAILED
