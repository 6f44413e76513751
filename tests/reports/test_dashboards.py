"""Ready dashboards against hand-computed answers on a small world, per role.

The world (one organisation, this month):
- team North: manager Mia, agents Ann and Bob; team South: agent Cy; an admin and an auditor.
- Ann owns two open deals (100 and 200 GBP) in the first stage; Bob one open deal (300 GBP) in
  the second stage; Cy one open deal (400 EUR) in the first stage, one won (500 GBP) and one lost.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from octopushx.core.context import Actor
from octopushx.crm import models as crm_models
from octopushx.crm import services as crm_services
from octopushx.crm.models import StageKind
from octopushx.reports import dashboards
from octopushx.tenancy.models import Team
from tests.conftest import make_member
from tests.crm.conftest import make_deal

pytestmark = pytest.mark.django_db


def _in_team(membership, team):
    membership.team = team
    membership.save(update_fields=["team"])
    return membership


@pytest.fixture
def world(org):
    north = Team.objects.create(tenant=org, name="North")
    south = Team.objects.create(tenant=org, name="South")
    people = {
        "manager": _in_team(make_member(org, "manager", email="mia@example.test"), north),
        "ann": _in_team(make_member(org, "agent", email="ann@example.test"), north),
        "bob": _in_team(make_member(org, "agent", email="bob@example.test"), north),
        "cy": _in_team(make_member(org, "agent", email="cy@example.test"), south),
        "admin": make_member(org, "admin", email="root@example.test"),
        "auditor": make_member(org, "auditor", email="audit@example.test"),
    }
    pipeline = crm_services.default_pipeline(org)
    stages = list(pipeline.stages.order_by("position"))
    open_stages = [s for s in stages if s.kind == StageKind.OPEN]
    won = next(s for s in stages if s.kind == StageKind.WON)
    lost = next(s for s in stages if s.kind == StageKind.LOST)
    make_deal(org, people["ann"], name="A1", value="100", stage_id=str(open_stages[0].pk))
    make_deal(org, people["ann"], name="A2", value="200", stage_id=str(open_stages[0].pk))
    make_deal(org, people["bob"], name="B1", value="300", stage_id=str(open_stages[1].pk))
    make_deal(org, people["cy"], name="C1", value="400", currency="EUR", stage_id=str(open_stages[0].pk))
    c2 = make_deal(org, people["cy"], name="C2", value="500", stage_id=str(open_stages[0].pk))
    c3 = make_deal(org, people["cy"], name="C3", value="50", stage_id=str(open_stages[0].pk))
    crm_services.update_deal(org, Actor.system("test"), c2, {"stage_id": str(won.pk)})
    crm_services.update_deal(org, Actor.system("test"), c3, {"stage_id": str(lost.pk)})
    people["stages"] = open_stages
    return people


def _widget(board: dict, key: str) -> dict:
    return next(w for w in board["widgets"] if w["key"] == key)["data"]


def _pipeline(org, membership) -> tuple[int, dict]:
    data = _widget(dashboards.build(org, membership, "sales", "this_month"), "open_pipeline")
    return data["totals"]["count"], {k: Decimal(v) for k, v in data["totals"]["sum_value"].items()}


def test_agent_sales_dashboard_counts_own_deals(org, world):
    assert _pipeline(org, world["ann"]) == (2, {"GBP": Decimal("300")})


def test_manager_sales_dashboard_counts_the_team(org, world):
    assert _pipeline(org, world["manager"]) == (3, {"GBP": Decimal("600")})


def test_admin_sales_dashboard_counts_everything_per_currency(org, world):
    assert _pipeline(org, world["admin"]) == (4, {"EUR": Decimal("400"), "GBP": Decimal("600")})


def test_open_pipeline_bars_link_to_the_stage_in_the_crm_list(org, world):
    data = _widget(dashboards.build(org, world["admin"], "sales", "this_month"), "open_pipeline")
    first = world["stages"][0]
    row = next(r for r in data["rows"] if r["stage"] == str(first.pk) and r["currency"] == "GBP")
    assert row["count"] == 2
    assert f"stage_id={first.pk}" in row["drilldown"] and "status=open" in row["drilldown"]


def test_deals_created_per_role(org, world):
    counts = {
        role: _widget(dashboards.build(org, world[role], "sales", "this_month"), "deals_created")["totals"]["count"]
        for role in ("ann", "cy", "manager", "admin")
    }
    assert counts == {"ann": 2, "cy": 3, "manager": 3, "admin": 6}


def test_win_rate_is_won_over_closed(org, world):
    assert _widget(dashboards.build(org, world["admin"], "sales", "this_month"), "win_rate")["totals"] == {
        "win_rate": 0.5
    }
    assert _widget(dashboards.build(org, world["ann"], "sales", "this_month"), "win_rate")["totals"] == {
        "win_rate": None
    }


def test_weighted_forecast_is_value_times_probability(org, world):
    data = _widget(dashboards.build(org, world["ann"], "sales", "this_month"), "weighted_forecast")
    probability = world["stages"][0].probability
    expected = (Decimal("300") * probability / 100).quantize(Decimal("0.01"))
    assert [(r["currency"], Decimal(r["weighted_value"])) for r in data["rows"]] == [("GBP", expected)]


@pytest.mark.skipif(not hasattr(crm_models, "DealStageChange"), reason="needs the deal stage history (reports-engine)")
def test_funnel_counts_deals_reaching_each_stage(org, world):
    data = _widget(dashboards.build(org, world["admin"], "sales", "this_month"), "funnel_any")
    counts = {r["stage"]: r["count"] for r in data["rows"]}
    first, second = world["stages"][0], world["stages"][1]
    # every deal was created in the first stage except Bob's, created straight into the second
    assert counts[first.name] == 5
    assert counts[second.name] == 1
    in_order = _widget(dashboards.build(org, world["admin"], "sales", "this_month"), "funnel_in_order")
    assert {r["stage"]: r["count"] for r in in_order["rows"]}[second.name] == 0


def test_stale_deals_list_nothing_touched_today(org, world):
    assert _widget(dashboards.build(org, world["admin"], "sales", "this_month"), "stale_deals")["rows"] == []


@pytest.mark.parametrize("role", ["ann", "manager"])
def test_compliance_dashboard_is_refused_to_agents_and_managers(org, world, role):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        dashboards.build(org, world[role], "compliance", "this_month")


@pytest.mark.parametrize("role", ["admin", "auditor"])
def test_compliance_dashboard_for_admins_and_auditors(org, world, role):
    board = dashboards.build(org, world[role], "compliance", "this_month")
    assert board["slug"] == "compliance" and board["widgets"]


def test_periods_in_the_org_time_zone():
    from datetime import date

    period = dashboards.resolve_period(None, "last_month", today=date(2026, 3, 15))
    assert (period.start, period.end) == (date(2026, 2, 1), date(2026, 2, 28))
    assert (period.previous().start, period.previous().end) == (date(2026, 1, 4), date(2026, 1, 31))  # 28 days before
    quarter = dashboards.resolve_period(None, "this_quarter", today=date(2026, 5, 2))
    assert quarter.start == date(2026, 4, 1)


def test_api_dashboard_by_slug(api_as, org):
    response = api_as("agent").get("/api/v1/dashboards/sales")
    assert response.status_code == 200
    body = response.json()
    assert body["slug"] == "sales" and {"key", "title", "view", "period", "data", "drilldown"} <= set(
        body["widgets"][0]
    )


@pytest.mark.parametrize("role,status", [("agent", 403), ("manager", 403), ("auditor", 200), ("owner", 200)])
def test_api_compliance_dashboard_by_role(api_as, role, status):
    assert api_as(role).get("/api/v1/dashboards/compliance").status_code == status


def test_api_unknown_dashboard_is_404(api_as):  # one route per ready dashboard, nothing else
    assert api_as("admin").get("/api/v1/dashboards/nope").status_code == 404


def test_time_in_stage_averages_stays_that_ended_and_current_ones(org, world):
    from datetime import timedelta

    from django.utils import timezone

    from octopushx.crm import activity
    from octopushx.crm.models import Deal, DealStageChange

    now = timezone.now()
    first, second = world["stages"][0], world["stages"][1]
    # Bob's deal: only deal the agent sees; created straight into the second stage 2 days ago
    DealStageChange.objects.filter(deal__name="B1").update(changed_at=now - timedelta(days=2))
    activity.refresh(Deal.objects.filter(name="B1"))  # history rewritten behind the receivers' back
    data = _widget(dashboards.build(org, world["bob"], "sales", "last_30_days"), "time_in_stage")
    days = {r["stage"]: r["days"] for r in data["rows"]}
    assert days[second.name] == 2.0 and days[first.name] is None
    # the same stay is not counted for last month (it neither ended then nor runs to now)
    old = _widget(dashboards.build(org, world["bob"], "sales", "last_month"), "time_in_stage")
    assert {r["stage"]: r["days"] for r in old["rows"]}[second.name] is None
