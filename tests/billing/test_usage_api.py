"""GET /api/v1/billing/usage and the Billing page's usage card: totals and a daily series."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.test import Client

from octopushx.billing import ledger
from octopushx.tenancy.roles import Role
from tests.conftest import ApiClient, make_member, make_org

URL = "/api/v1/billing/usage"


@pytest.fixture
def owner_api(customer):
    return ApiClient(make_member(customer, Role.OWNER))


def _minutes(tenant, key, quantity, day):
    ledger.record(tenant, "transcription_minutes", key, Decimal(quantity), datetime(2026, 3, day, 9, tzinfo=UTC))


def test_usage_answers_totals_and_one_quantity_per_day(customer, owner_api):
    _minutes(customer, "a", "2.5", 2)
    _minutes(customer, "b", "4", 4)
    _minutes(customer, "c", "9", 6)  # outside the range
    response = owner_api.get(f"{URL}?from=2026-03-02&to=2026-03-04")
    assert response.status_code == 200
    data = response.json()
    assert (data["from"], data["to"]) == ("2026-03-02", "2026-03-04")
    minutes = next(m for m in data["metrics"] if m["metric"] == "transcription_minutes")
    assert minutes["total"] == "6.5"
    assert minutes["days"] == [
        {"date": "2026-03-02", "quantity": "2.5"},
        {"date": "2026-03-03", "quantity": "0"},
        {"date": "2026-03-04", "quantity": "4"},
    ]
    assert [m["metric"] for m in data["metrics"]] == ["transcription_minutes", "storage_gb_days", "workflow_runs"]


def test_usage_defaults_to_the_current_period(customer, owner_api):
    data = owner_api.get(URL).json()  # on trial from DAY_ONE (2 March) to its last day
    assert (data["from"], data["to"]) == ("2026-03-02", "2026-03-15")


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("from=2026-13-01&to=2026-03-04", "from", "is not a date; write YYYY-MM-DD"),
        ("from=2026-03-04&to=2026-03-01", "to", "The end comes before the start"),
        ("from=2025-01-01&to=2026-03-04", "to", "At most 366 days at a time"),
    ],
)
def test_bad_ranges_are_422_with_the_reason(owner_api, query, field, message):
    response = owner_api.get(f"{URL}?{query}")
    assert response.status_code == 422
    assert message in " ".join(response.json()["errors"][field])


@pytest.mark.parametrize("role", [Role.MANAGER, Role.AGENT, Role.AUDITOR])
def test_only_owners_and_admins_read_usage(customer, role):
    assert ApiClient(make_member(customer, role)).get(URL).status_code == 403


def test_usage_is_the_callers_organisation_only(customer, owner_api):
    other = make_org("Other Billed")
    _minutes(other, "theirs", "77", 3)
    data = owner_api.get(f"{URL}?from=2026-03-01&to=2026-03-31").json()
    assert next(m for m in data["metrics"] if m["metric"] == "transcription_minutes")["total"] == "0"


def test_the_billing_page_shows_usage_with_a_daily_chart(customer):
    _minutes(customer, "a", "12.25", 3)
    client = Client()
    client.force_login(make_member(customer, Role.OWNER).user)
    html = client.get("/settings/billing/").content.decode()
    assert 'data-chart="usage-per-day"' in html and "octopushx/charts.js" in html
    assert 'data-testid="usage-transcription_minutes">12.25<' in html
    chart = json.loads(html.split('<script id="usage-per-day" type="application/json">')[1].split("</script>")[0])
    assert chart["labels"][1] == "2026-03-03" and chart["values"][1] == 12.25
    assert "No invoices yet" in html
