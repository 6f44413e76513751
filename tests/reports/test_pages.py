"""The Reports pages: every role reads its dashboards; compliance only for owners, admins, auditors."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

PAGES = ["/reports/", "/reports/activity/", "/reports/coaching/"]


@pytest.mark.parametrize("role", ["owner", "admin", "manager", "agent", "auditor"])
def test_every_role_reads_sales_activity_and_coaching(web_as, role):
    client = web_as(role)
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 200, path
        assert b'data-widget="' in response.content


@pytest.mark.parametrize("role", ["manager", "agent"])
def test_compliance_is_refused_and_its_tab_hidden(web_as, role):
    client = web_as(role)
    assert client.get("/reports/compliance/").status_code == 403
    assert b'href="/reports/compliance/' not in client.get("/reports/").content


@pytest.mark.parametrize("role", ["owner", "admin", "auditor"])
def test_compliance_for_owners_admins_and_auditors(web_as, role):
    client = web_as(role)
    assert b'href="/reports/compliance/' in client.get("/reports/").content
    assert client.get("/reports/compliance/").status_code == 200


def test_nav_links_reports_for_every_role(web_as):
    page = web_as("agent").get("/reports/").content.decode()
    assert 'href="/reports/" aria-current="page"' in page
    assert 'Reports</span><span class="badge' not in page


def test_period_picker_changes_the_period(web_as):
    page = web_as("admin").get("/reports/?period=last_month").content.decode()
    assert '<option value="last_month" selected>' in page
    assert "compared with" in page


def test_unknown_period_falls_back_to_this_month(web_as):
    page = web_as("admin").get("/reports/?period=yesterday-ish").content.decode()
    assert '<option value="this_month" selected>' in page


def test_signed_out_visitor_is_sent_to_sign_in(client):
    response = client.get("/reports/")
    assert response.status_code == 302 and "/accounts/" in response["Location"]


def test_schedule_pages_list_create_edit_toggle_delete(web_as, org):
    from octopushx.reports.models import ReportSchedule

    client = web_as("manager")
    page = client.get("/reports/").content.decode()
    assert 'href="/reports/schedules/new/?dashboard=sales&amp;period=this_month"' in page
    form = client.get("/reports/schedules/new/?dashboard=activity")
    assert form.status_code == 200 and b'value="dashboard:activity" selected' in form.content
    user_id = str(client.session["_auth_user_id"])
    data = {
        "target": "dashboard:activity",
        "period": "last_month",
        "format": "pdf",
        "frequency": "weekly",
        "weekday": "4",
        "time": "17:30",
        "recipients": [user_id],
    }
    assert client.post("/reports/schedules/new/", data).status_code == 302
    schedule = ReportSchedule.objects.get(tenant=org)
    assert schedule.weekday == 4 and schedule.time_of_day.strftime("%H:%M") == "17:30"
    listing = client.get("/reports/schedules/").content.decode()
    assert "Weekly on Friday at 17:30" in listing
    bad = client.post(f"/reports/schedules/{schedule.pk}/", {**data, "time": "25:00"})
    assert bad.status_code == 422 and b"HH:MM" in bad.content
    assert client.post(f"/reports/schedules/{schedule.pk}/toggle/").status_code == 302
    schedule.refresh_from_db()
    assert schedule.enabled is False
    assert client.post(f"/reports/schedules/{schedule.pk}/delete/").status_code == 302
    assert not ReportSchedule.objects.filter(pk=schedule.pk).exists()


def test_auditors_see_schedules_but_cannot_create(web_as):
    client = web_as("auditor")
    assert client.get("/reports/schedules/").status_code == 200
    assert client.get("/reports/schedules/new/").status_code == 403
    assert b"reports/schedules/new" not in client.get("/reports/").content
