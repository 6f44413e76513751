"""The report query over hand-made fixture data: each measure, group, grain, filter, period and
comparison, per role, with answers computed by hand.

Fixture (organisation time zone America/New_York), deals with their creation instants (UTC):

    d1  agent a1  GBP  100  stage s0  2026-03-02 03:00  (New York: Sunday 1 March, 22:00)
    d2  agent a1  EUR   50  stage s1  2026-03-10 12:00
    d3  agent a2  GBP  200  stage s1  2026-04-15 12:00
    d4  agent b1  GBP  400  stage s0  2026-02-10 12:00
    d5  admin     GBP 1000  stage s2  2026-03-20 12:00  tag "vip"

Team A: manager, a1, a2. Team B: b1. The admin has no team.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from octopushx.calls.models import Call, CallAnalysisResult, headline_metrics
from octopushx.core import datasets
from octopushx.core.context import Actor
from octopushx.crm import queries
from octopushx.crm import services as crm
from octopushx.crm.models import Deal, Stage
from octopushx.crm.visibility import visible
from octopushx.reports import query
from octopushx.tenancy.models import Team
from octopushx.tenancy.roles import Role
from tests.conftest import make_member
from tests.crm.conftest import make_deal

UTC = dt.UTC


def at(*parts) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=UTC)


class World:
    pass


@pytest.fixture
def w(org):
    org.time_zone = "America/New_York"
    org.save(update_fields=["time_zone"])
    world = World()
    world.org = org
    team_a = Team.objects.create(tenant=org, name="A")
    team_b = Team.objects.create(tenant=org, name="B")
    world.team_a, world.team_b = team_a, team_b
    world.admin = make_member(org, Role.ADMIN)
    world.manager = make_member(org, Role.MANAGER)
    world.a1 = make_member(org, Role.AGENT, email="a1@example.test")
    world.a2 = make_member(org, Role.AGENT, email="a2@example.test")
    world.b1 = make_member(org, Role.AGENT, email="b1@example.test")
    for member, team in ((world.manager, team_a), (world.a1, team_a), (world.a2, team_a), (world.b1, team_b)):
        member.team = team
        member.save(update_fields=["team"])
    world.d = {}
    plan = [
        ("d1", world.a1, "GBP", "100", 0, at(2026, 3, 2, 3)),
        ("d2", world.a1, "EUR", "50", 1, at(2026, 3, 10, 12)),
        ("d3", world.a2, "GBP", "200", 1, at(2026, 4, 15, 12)),
        ("d4", world.b1, "GBP", "400", 0, at(2026, 2, 10, 12)),
        ("d5", world.admin, "GBP", "1000", 2, at(2026, 3, 20, 12)),
    ]
    first = make_deal(org, owner=world.admin, name="probe")
    world.stages = list(Stage.objects.for_tenant(org).filter(pipeline=first.pipeline).order_by("position"))
    crm.delete_deal(org, Actor.system("test"), first)
    for name, owner, currency, value, stage, created in plan:
        data = {"name": name, "currency": currency, "value": value, "stage_id": str(world.stages[stage].pk)}
        if name == "d5":
            data["tags"] = ["vip"]
        deal = make_deal(org, owner=owner, **data)
        Deal.objects.filter(pk=deal.pk).update(created_at=created)
        world.d[name] = Deal.objects.get(pk=deal.pk)
    return world


def run(w, member, **spec):
    return query.run(w.org, member, {"dataset": "deals", **spec})


def by(result, key):
    return {row[f"{key}_label"] if f"{key}_label" in row else row[key]: row for row in result["rows"]}


# --- measures --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_measure_per_currency(w):
    measures = [{"agg": agg, "field": "value"} for agg in ("sum", "avg", "min", "max")] + [{"agg": "count"}]
    out = run(w, w.admin, measures=measures)
    assert out["totals"] == {
        "sum_value": {"EUR": "50.00", "GBP": "1700.00"},
        "avg_value": {"EUR": "50.00", "GBP": "425.00"},
        "min_value": {"EUR": "50.00", "GBP": "100.00"},
        "max_value": {"EUR": "50.00", "GBP": "1000.00"},
        "count": 5,
    }
    # with no groups, money measures are still split by currency in the rows
    rows = {r["currency"]: r for r in out["rows"]}
    assert rows["GBP"]["count"] == 4 and rows["EUR"]["count"] == 1
    assert rows["GBP"]["sum_value"] == "1700.00"


@pytest.mark.django_db
def test_count_of_a_field_counts_filled_values_and_numbers_are_not_money(w):
    out = run(w, w.admin, measures=[{"agg": "count", "field": "company"}, {"agg": "sum", "field": "probability"}])
    probabilities = sum(w.stages[i].probability for i in (0, 1, 1, 0, 2))
    assert out["totals"] == {"count_company": 0, "sum_probability": float(probabilities)}
    assert all("currency" not in r for r in out["rows"])


@pytest.mark.django_db
def test_weighted_value_is_value_times_stage_probability(w):
    out = run(w, w.admin, measures=[{"agg": "sum", "field": "weighted_value"}])
    p = [s.probability for s in w.stages]
    gbp = Decimal(100 * p[0] + 200 * p[1] + 400 * p[0] + 1000 * p[2]) / 100
    eur = Decimal(50 * p[1]) / 100
    assert out["totals"]["sum_weighted_value"] == {"EUR": f"{eur:.2f}", "GBP": f"{gbp:.2f}"}


# --- roles -----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "count", "gbp"),
    [("a1", 2, "100.00"), ("a2", 1, "200.00"), ("b1", 1, "400.00"), ("manager", 3, "300.00"), ("admin", 5, "1700.00")],
)
def test_each_role_counts_what_it_may_see(w, who, count, gbp):
    out = run(w, getattr(w, who), measures=[{"agg": "count"}, {"agg": "sum", "field": "value"}])
    assert out["totals"]["count"] == count
    assert out["totals"]["sum_value"].get("GBP") == gbp


@pytest.mark.django_db
def test_deals_by_stage_differ_per_role(w):
    spec = {"measures": [{"agg": "count"}], "group_by": [{"field": "stage"}]}
    s = w.stages
    admin = {r["stage_label"]: r["count"] for r in run(w, w.admin, **spec)["rows"]}
    agent = {r["stage_label"]: r["count"] for r in run(w, w.a1, **spec)["rows"]}
    manager = {r["stage_label"]: r["count"] for r in run(w, w.manager, **spec)["rows"]}
    assert admin == {s[0].name: 2, s[1].name: 2, s[2].name: 1}
    assert agent == {s[0].name: 1, s[1].name: 1}
    assert manager == {s[0].name: 1, s[1].name: 2}
    # stage rows come in pipeline order
    assert [r["stage_label"] for r in run(w, w.admin, **spec)["rows"]] == [s[0].name, s[1].name, s[2].name]


@pytest.mark.django_db
def test_privacy_requests_need_the_audit_permission(w):
    with pytest.raises(PermissionDenied):
        query.run(w.org, w.manager, {"dataset": "privacy_requests"})
    assert query.run(w.org, w.admin, {"dataset": "privacy_requests"})["totals"] == {"count": 0}


# --- groups and grains -----------------------------------------------------------------------


@pytest.mark.django_db
def test_group_by_owner_team_and_tag(w):
    owners = run(w, w.admin, measures=[{"agg": "count"}], group_by=[{"field": "owner"}])["rows"]
    assert {r["owner"]: r["count"] for r in owners} == {
        str(w.a1.user_id): 2,
        str(w.a2.user_id): 1,
        str(w.b1.user_id): 1,
        str(w.admin.user_id): 1,
    }
    assert {r["owner_label"] for r in owners} >= {"a1@example.test"}
    teams = run(w, w.admin, measures=[{"agg": "count"}], group_by=[{"field": "team"}])["rows"]
    assert {r["team_label"]: r["count"] for r in teams} == {"A": 3, "B": 1, None: 1}
    tags = run(w, w.admin, measures=[{"agg": "count"}], group_by=[{"field": "tag"}])["rows"]
    assert {r["tag"]: r["count"] for r in tags} == {"vip": 1, None: 4}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("grain", "expected"),
    [
        # d1 is Sunday 1 March in New York (2 March in UTC): its day, week and month follow New York
        ("day", {"2026-02-10": 1, "2026-03-01": 1, "2026-03-10": 1, "2026-03-20": 1, "2026-04-15": 1}),
        ("week", {"2026-02-09": 1, "2026-02-23": 1, "2026-03-09": 1, "2026-03-16": 1, "2026-04-13": 1}),
        ("month", {"2026-02-01": 1, "2026-03-01": 3, "2026-04-01": 1}),
        ("quarter", {"2026-01-01": 4, "2026-04-01": 1}),
    ],
)
def test_date_grains_in_the_organisations_time_zone(w, grain, expected):
    out = run(w, w.admin, measures=[{"agg": "count"}], group_by=[{"field": "created_at", "grain": grain}])
    assert {r["created_at"]: r["count"] for r in out["rows"]} == expected
    assert [r["created_at"] for r in out["rows"]] == sorted(expected)
    assert out["time_zone"] == "America/New_York"


@pytest.mark.django_db
def test_two_dimensions(w):
    out = run(
        w,
        w.admin,
        measures=[{"agg": "count"}],
        group_by=[{"field": "created_at", "grain": "month"}, {"field": "stage"}],
    )
    cells = {(r["created_at"], r["stage_label"]): r["count"] for r in out["rows"]}
    s = w.stages
    assert cells == {
        ("2026-02-01", s[0].name): 1,
        ("2026-03-01", s[0].name): 1,
        ("2026-03-01", s[1].name): 1,
        ("2026-03-01", s[2].name): 1,
        ("2026-04-01", s[1].name): 1,
    }


# --- filters ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_filters(w):
    def count(*filters):
        return run(w, w.admin, measures=[{"agg": "count"}], filters=list(filters))["totals"]["count"]

    s = w.stages
    assert count({"field": "value", "op": "gt", "value": 150}) == 3
    assert count({"field": "value", "op": "gte", "value": "200"}) == 3
    assert count({"field": "value", "op": "lt", "value": 200}) == 2
    assert count({"field": "value", "op": "lte", "value": 200}) == 3
    assert count({"field": "stage", "op": "eq", "value": str(s[0].pk)}) == 2
    assert count({"field": "stage", "op": "ne", "value": str(s[0].pk)}) == 3
    assert count({"field": "owner", "op": "in", "value": [str(w.a1.user_id), str(w.a2.user_id)]}) == 3
    assert count({"field": "tag", "op": "eq", "value": "VIP"}) == 1
    assert count({"field": "tag", "op": "is_empty"}) == 4
    assert count({"field": "tag", "op": "in", "value": ["vip", "other"]}) == 1
    assert count({"field": "company", "op": "is_empty"}) == 5
    assert count({"field": "company", "op": "is_not_empty"}) == 0
    assert count({"field": "currency", "op": "contains", "value": "eu"}) == 1
    assert count({"field": "status", "op": "eq", "value": "open"}) == sum(
        1 for i in (0, 1, 1, 0, 2) if w.stages[i].kind == "open"
    )
    # a datetime compared with a day of the organisation's calendar
    assert count({"field": "created_at", "op": "eq", "value": "2026-03-01"}) == 1
    assert count({"field": "created_at", "op": "lte", "value": "2026-03-01"}) == 2
    assert count({"field": "created_at", "op": "lt", "value": "2026-03-01"}) == 1
    assert count({"field": "created_at", "op": "gt", "value": "2026-03-10"}) == 2
    assert count({"field": "team", "op": "eq", "value": str(w.team_a.pk)}) == 3
    assert (
        count(
            {"field": "owner", "op": "eq", "value": str(w.a1.user_id)},
            {"field": "currency", "op": "eq", "value": "EUR"},
        )
        == 1
    )


@pytest.mark.django_db
def test_filters_never_widen_a_role(w):
    out = run(
        w, w.a1, measures=[{"agg": "count"}], filters=[{"field": "owner", "op": "eq", "value": str(w.b1.user_id)}]
    )
    assert out["totals"]["count"] == 0


# --- period and comparison -------------------------------------------------------------------


@pytest.mark.django_db
def test_period_and_previous_period(w):
    out = run(
        w,
        w.admin,
        measures=[{"agg": "count"}, {"agg": "sum", "field": "value"}],
        period={"field": "created_at", "from": "2026-03-01", "to": "2026-03-31"},
        compare="previous_period",
    )
    assert out["totals"] == {"count": 3, "sum_value": {"EUR": "50.00", "GBP": "1100.00"}}
    assert out["previous"]["period"] == {"field": "created_at", "from": "2026-01-29", "to": "2026-02-28"}
    assert out["previous"]["totals"] == {"count": 1, "sum_value": {"GBP": "400.00"}}
    assert out["deltas"]["count"] == {"value": 3, "previous": 1, "change": 2, "change_pct": 200.0}
    assert out["deltas"]["sum_value"]["GBP"] == {
        "value": "1100.00",
        "previous": "400.00",
        "change": "700.00",
        "change_pct": 175.0,
    }
    assert out["deltas"]["sum_value"]["EUR"]["change"] == "50.00"
    assert out["deltas"]["sum_value"]["EUR"]["change_pct"] is None  # nothing to compare with


@pytest.mark.django_db
def test_a_falling_delta_is_negative(w):
    out = run(
        w,
        w.admin,
        measures=[{"agg": "count"}],
        period={"field": "created_at", "from": "2026-04-01", "to": "2026-04-30"},
        compare="previous_period",
    )
    # the 30 days before April: 2..31 March in New York (d1 fell on 1 March there)
    assert out["previous"]["period"] == {"field": "created_at", "from": "2026-03-02", "to": "2026-03-31"}
    assert out["deltas"]["count"] == {"value": 1, "previous": 2, "change": -1, "change_pct": -50.0}


@pytest.mark.django_db
def test_period_on_a_date_field(w):
    Deal.objects.filter(pk=w.d["d1"].pk).update(expected_close=dt.date(2026, 6, 30))
    Deal.objects.filter(pk=w.d["d3"].pk).update(expected_close=dt.date(2026, 7, 1))
    out = run(w, w.admin, period={"field": "expected_close", "from": "2026-06-01", "to": "2026-06-30"})
    assert out["totals"] == {"count": 1}


# --- drill-down ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_drilldown_lists_exactly_the_counted_deals(w):
    out = run(
        w,
        w.admin,
        measures=[{"agg": "count"}, {"agg": "sum", "field": "value"}],
        group_by=[{"field": "stage"}, {"field": "created_at", "grain": "week"}],
        period={"field": "created_at", "from": "2026-02-01", "to": "2026-04-30"},
    )
    assert out["drilldown"].startswith("/crm/deals/?")
    base = visible(Deal, w.org, w.admin)
    for row in out["rows"]:
        url = urlsplit(row["drilldown"])
        assert url.path == "/crm/deals/"
        listed = queries.apply_filters(base, "deal", dict(parse_qsl(url.query)), w.org)
        assert listed.count() == row["count"], row


@pytest.mark.django_db
def test_no_drilldown_when_the_list_cannot_express_the_filter(w):
    out = run(w, w.admin, group_by=[{"field": "team"}])
    assert all(r["drilldown"] is None for r in out["rows"])


# --- other datasets --------------------------------------------------------------------------


@pytest.mark.django_db
def test_tasks_and_notes_per_role(w):
    actor = Actor.system("test")
    crm.create_task(w.org, actor, {"title": "Call back", "assignee_id": str(w.a1.user_id)})
    crm.create_task(w.org, actor, {"title": "Send offer", "assignee_id": str(w.b1.user_id), "status": "done"})
    spec = {"dataset": "tasks", "measures": [{"agg": "count"}], "group_by": [{"field": "status"}]}
    assert {r["status"]: r["count"] for r in query.run(w.org, w.admin, spec)["rows"]} == {"open": 1, "done": 1}
    assert {r["status"]: r["count"] for r in query.run(w.org, w.a1, spec)["rows"]} == {"open": 1}
    assert query.run(w.org, w.manager, spec)["totals"] == {"count": 1}


def _call(org, agent, duration, metrics, roles_known=True):
    call = Call.objects.create(tenant=org, agent=agent.user, duration=duration, status="analysed")
    result = CallAnalysisResult.objects.create(
        tenant=org,
        call=call,
        run=1,
        pipeline_version="t",
        model="t",
        data={"insights": {"metrics": metrics}, "speakers": {"roles_known": roles_known}},
    )
    Call.objects.filter(pk=call.pk).update(current=result, metrics=headline_metrics(result.data))  # as processing does
    return call


@pytest.mark.django_db
def test_call_metrics_per_agent(w):
    _call(w.org, w.a1, 60, {"talk_ratio": {"agent": 0.4, "customer": 0.6}, "patience": 1.0, "turns": 10})
    _call(w.org, w.a1, 120, {"talk_ratio": {"agent": 0.6, "customer": 0.4}, "patience": 2.0, "turns": 20})
    _call(w.org, w.b1, 30, {"talk_ratio": {"speaker1": 0.5}, "turns": 4}, roles_known=False)
    spec = {
        "dataset": "calls",
        "measures": [
            {"agg": "count"},
            {"agg": "avg", "field": "duration"},
            {"agg": "avg", "field": "agent_talk_ratio"},
            {"agg": "avg", "field": "patience"},
            {"agg": "sum", "field": "turns"},
        ],
        "group_by": [{"field": "agent"}],
    }
    rows = {r["agent"]: r for r in query.run(w.org, w.admin, spec)["rows"]}
    a1 = rows[str(w.a1.user_id)]
    assert (a1["count"], a1["avg_duration"], a1["avg_agent_talk_ratio"], a1["avg_patience"], a1["sum_turns"]) == (
        2,
        90.0,
        0.5,
        1.5,
        30.0,
    )
    b1 = rows[str(w.b1.user_id)]
    assert b1["avg_agent_talk_ratio"] is None  # roles unknown: not an agent's figure
    assert query.run(w.org, w.a1, spec)["totals"]["count"] == 2
    assert query.run(w.org, w.manager, spec)["totals"]["count"] == 2


# --- validation ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_validate_returns_the_normal_form(w):
    normal = query.validate(
        w.org,
        {
            "dataset": "deals",
            "measures": [{"agg": "sum", "field": "value"}],
            "group_by": [{"field": "created_at"}],
            "period": {"from": "2026-01-01", "to": "2026-01-31"},
        },
    )
    assert normal["group_by"] == [{"field": "created_at", "grain": "day"}]
    assert normal["period"] == {"field": "created_at", "from": dt.date(2026, 1, 1), "to": dt.date(2026, 1, 31)}
    assert normal["measures"][0]["key"] == "sum_value" and normal["measures"][0]["money"] is True


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("spec", "path"),
    [
        ({"dataset": "deals", "group_by": [{"field": "stage"}, {"field": "owner"}, {"field": "tag"}]}, "group_by"),
        ({"dataset": "deals", "period": {"from": "2026-02-01", "to": "2026-01-01"}}, "period.to"),
        ({"dataset": "deals", "period": {"field": "stage", "from": "2026-02-01", "to": "2026-03-01"}}, "period.field"),
        ({"dataset": "deals", "compare": "previous_period"}, "compare"),
        ({"dataset": "deals", "filters": [{"field": "owner", "op": "eq", "value": "not-an-id"}]}, "filters.0.value"),
        ({"dataset": "deals", "filters": [{"field": "status", "op": "eq", "value": "maybe"}]}, "filters.0.value"),
        ({"dataset": "deals", "filters": [{"field": "owner", "op": "in", "value": []}]}, "filters.0.value"),
        ({"dataset": "deals", "measures": [{"agg": "sum", "field": "cf.gone"}]}, "measures.0.field"),
        ({"dataset": "deals", "colour": "red"}, "colour"),
    ],
)
def test_validation_errors_name_the_field(w, spec, path):
    with pytest.raises(ValidationError) as caught:
        query.validate(w.org, spec)
    assert path in caught.value.message_dict


def test_every_product_registers_its_datasets(db):
    assert {"contacts", "companies", "deals", "tasks", "notes", "calls", "privacy_requests"} <= set(
        datasets.all_datasets()
    )
    assert datasets.get("deals") is datasets.DATASETS["deals"]


@pytest.mark.django_db
def test_custom_fields_are_measures_and_dimensions(w):
    from octopushx.crm.models import CustomField

    CustomField.objects.create(tenant=w.org, object_type="deal", key="seats", label="Seats", field_type="number")
    CustomField.objects.create(
        tenant=w.org, object_type="deal", key="plan", label="Plan", field_type="select", options=["basic", "pro"]
    )
    Deal.objects.filter(pk=w.d["d1"].pk).update(custom={"seats": 3, "plan": "pro"})
    Deal.objects.filter(pk=w.d["d3"].pk).update(custom={"seats": 7, "plan": "pro"})
    Deal.objects.filter(pk=w.d["d4"].pk).update(custom={"seats": 5, "plan": "basic"})
    out = run(
        w,
        w.admin,
        measures=[{"agg": "sum", "field": "cf.seats"}, {"agg": "count"}],
        group_by=[{"field": "cf.plan"}],
    )
    assert {r["cf.plan"]: (r["sum_cf_seats"], r["count"]) for r in out["rows"]} == {
        "pro": (10.0, 2),
        "basic": (5.0, 1),
        None: (None, 2),
    }
    manager = run(w, w.manager, measures=[{"agg": "sum", "field": "cf.seats"}])
    assert manager["totals"] == {"sum_cf_seats": 10.0}
    filtered = run(w, w.admin, filters=[{"field": "cf.plan", "op": "eq", "value": "pro"}])
    assert filtered["totals"] == {"count": 2}


@pytest.mark.django_db
def test_contacts_and_companies(w):
    actor = Actor.system("test")
    crm.create_contact(w.org, actor, {"first_name": "A", "owner_id": str(w.a1.user_id), "lifecycle_stage": "customer"})
    crm.create_contact(w.org, actor, {"first_name": "B", "owner_id": str(w.b1.user_id), "lifecycle_stage": "lead"})
    crm.create_contact(w.org, actor, {"first_name": "C", "owner_id": str(w.a2.user_id), "lifecycle_stage": "lead"})
    crm.create_company(w.org, actor, {"name": "Initech", "owner_id": str(w.a1.user_id)})
    spec = {"dataset": "contacts", "group_by": [{"field": "lifecycle_stage"}]}
    admin = query.run(w.org, w.admin, spec)
    assert {r["lifecycle_stage"]: r["count"] for r in admin["rows"]} == {"customer": 1, "lead": 2}
    assert {r["lifecycle_stage_label"] for r in admin["rows"]} == {"Customer", "Lead"}
    lead = next(r for r in admin["rows"] if r["lifecycle_stage"] == "lead")
    assert lead["drilldown"] == "/crm/?lifecycle_stage=lead"
    assert query.run(w.org, w.manager, spec)["totals"] == {"count": 2}
    assert query.run(w.org, w.a1, {"dataset": "companies"})["totals"] == {"count": 1}
    assert query.run(w.org, w.b1, {"dataset": "companies"})["totals"] == {"count": 0}


@pytest.mark.django_db
def test_stage_history_funnel_reached_at_any_point(w):
    actor = Actor(user=w.admin.user, role=w.admin.role)
    s = w.stages
    # d1: s0 -> s1 -> s2 -> s1 (reaches s1 twice: counted once per deal)
    for stage in (s[1], s[2], s[1]):
        crm.move_deal(w.org, actor, Deal.objects.get(pk=w.d["d1"].pk), str(stage.pk))
    crm.move_deal(w.org, actor, Deal.objects.get(pk=w.d["d4"].pk), str(s[2].pk))
    spec = {
        "dataset": "deal_stage_changes",
        "measures": [{"agg": "count_distinct", "field": "deal"}, {"agg": "count"}],
        "group_by": [{"field": "to_stage"}],
    }
    rows = [
        (r["to_stage_label"], r["count_distinct_deal"], r["count"]) for r in query.run(w.org, w.admin, spec)["rows"]
    ]
    # created in: d1 s0, d2 s1, d3 s1, d4 s0, d5 s2; moves: d1 s1, s2, s1; d4 s2
    assert rows == [(s[0].name, 2, 2), (s[1].name, 3, 4), (s[2].name, 3, 3)]
    mine = query.run(w.org, w.a1, spec)["rows"]
    assert [(r["to_stage_label"], r["count_distinct_deal"]) for r in mine] == [
        (s[0].name, 1),
        (s[1].name, 2),
        (s[2].name, 1),
    ]
