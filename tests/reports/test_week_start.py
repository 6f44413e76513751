"""Weeks start on the organisation's chosen day: weekly buckets, "this week" and "last week".

Calendar: Saturday 28 February 2026, Sunday 1 March, Monday 2 March. Europe/London moves its
clocks forward at 01:00 UTC on Sunday 29 March 2026.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from octopushx.core.models import AuditEntry
from octopushx.crm.models import Deal
from octopushx.reports import dashboards, query
from octopushx.tenancy.roles import Role
from tests.conftest import make_member
from tests.crm.conftest import make_deal

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


def _deal(org, owner, name: str, created: dt.datetime) -> None:
    deal = make_deal(org, owner, name=name)
    Deal.objects.filter(pk=deal.pk).update(created_at=created)


@pytest.fixture
def weekend(org):
    org.time_zone = "Europe/London"
    org.save(update_fields=["time_zone"])
    admin = make_member(org, Role.ADMIN)
    for name, moment in (
        ("sat", dt.datetime(2026, 2, 28, 12, tzinfo=LONDON)),
        ("sun", dt.datetime(2026, 3, 1, 12, tzinfo=LONDON)),
        ("mon", dt.datetime(2026, 3, 2, 12, tzinfo=LONDON)),
        # the last hour of the Saturday before the clocks change, and the first of the Sunday
        ("dst-sat", dt.datetime(2026, 3, 28, 23, 30, tzinfo=LONDON)),
        ("dst-sun", dt.datetime(2026, 3, 29, 0, 30, tzinfo=LONDON)),
    ):
        _deal(org, admin, name, moment)
    return admin


def _weeks(org, admin, week_start: str) -> dict[str, int]:
    org.week_start = week_start
    org.save(update_fields=["week_start"])
    out = query.run(
        org,
        admin,
        {
            "dataset": "deals",
            "group_by": [{"field": "created_at", "grain": "week"}],
            "period": {"field": "created_at", "from": "2026-02-01", "to": "2026-03-31"},
        },
    )
    return {row["created_at"]: row["count"] for row in out["rows"]}


def test_monday_weeks_by_default(org, weekend):
    assert org.week_start == "monday"
    assert _weeks(org, weekend, "monday") == {"2026-02-23": 2, "2026-03-02": 1, "2026-03-23": 2}


def test_sunday_weeks(org, weekend):
    assert _weeks(org, weekend, "sunday") == {"2026-02-22": 1, "2026-03-01": 2, "2026-03-22": 1, "2026-03-29": 1}


def test_saturday_weeks(org, weekend):
    assert _weeks(org, weekend, "saturday") == {"2026-02-28": 3, "2026-03-28": 2}


def test_sunday_week_bucket_links_to_its_seven_days(org, weekend):
    org.week_start = "sunday"
    org.save(update_fields=["week_start"])
    out = query.run(
        org,
        weekend,
        {
            "dataset": "deals",
            "group_by": [{"field": "created_at", "grain": "week"}],
            "period": {"field": "created_at", "from": "2026-02-01", "to": "2026-03-31"},
        },
    )
    week = next(r for r in out["rows"] if r["created_at"] == "2026-03-01")
    assert "created_after=2026-03-01T00%3A00%3A00%2B00%3A00" in week["drilldown"]
    assert "created_before=2026-03-08T00%3A00%3A00%2B00%3A00" in week["drilldown"]


def test_this_week_and_last_week_start_on_the_org_day(org):
    tuesday = dt.date(2026, 3, 3)
    org.week_start = "sunday"
    this = dashboards.resolve_period(org, "this_week", tuesday)
    last = dashboards.resolve_period(org, "last_week", tuesday)
    assert (this.start, this.end) == (dt.date(2026, 3, 1), tuesday)
    assert (last.start, last.end) == (dt.date(2026, 2, 22), dt.date(2026, 2, 28))
    org.week_start = "monday"
    assert dashboards.resolve_period(org, "this_week", tuesday).start == dt.date(2026, 3, 2)
    org.week_start = "saturday"
    assert dashboards.resolve_period(org, "last_week", tuesday).start == dt.date(2026, 2, 21)


def test_dashboard_week_widgets_use_sunday_weeks(org, weekend):
    org.week_start = "sunday"
    org.save(update_fields=["week_start"])
    board = dashboards.build(
        org, weekend, "sales", dashboards.Period("x", "x", dt.date(2026, 2, 1), dt.date(2026, 3, 31))
    )
    per_week = next(w for w in board["widgets"] if w["key"] == "created_per_week")["data"]
    assert {r["created_at"] for r in per_week["rows"]} == {"2026-02-22", "2026-03-01", "2026-03-22", "2026-03-29"}


def test_api_sets_the_week_start_and_audits_it(org, api_as):
    response = api_as(Role.ADMIN).patch("/api/v1/organization", {"week_start": "sunday"})
    assert response.status_code == 200 and response.json()["week_start"] == "sunday"
    org.refresh_from_db()
    assert org.week_start == "sunday"
    entry = AuditEntry.objects.get(tenant=org, action="organization.updated")
    assert entry.personal.changes == {"week_start": ["monday", "sunday"]}


def test_api_refuses_an_unknown_week_start(org, api_as):
    response = api_as(Role.ADMIN).patch("/api/v1/organization", {"week_start": "tuesday"})
    assert response.status_code == 422 and "week_start" in str(response.json())
    org.refresh_from_db()
    assert org.week_start == "monday"


def test_agents_cannot_change_the_week_start(org, api_as):
    assert api_as(Role.AGENT).patch("/api/v1/organization", {"week_start": "sunday"}).status_code == 403


def test_settings_page_offers_and_saves_the_week_start(org, web_as):
    client = web_as(Role.ADMIN)
    page = client.get(reverse("tenancy:settings")).content.decode()
    assert 'name="week_start"' in page and ">Saturday<" in page
    response = client.post(
        reverse("tenancy:settings"),
        {"name": org.name, "default_region": "GB", "time_zone": "Europe/London", "week_start": "saturday"},
    )
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.week_start == "saturday"
    client.post(reverse("tenancy:settings"), {"name": org.name, "default_region": "GB", "week_start": "someday"})
    org.refresh_from_db()
    assert org.week_start == "saturday"
