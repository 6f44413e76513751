"""Property: after any sequence of writes, the report's grouped numbers equal a recount of the raw rows.

Hypothesis draws deals (owner, currency, value, stage, creation instant), then changes and deletes
some through the CRM services; the test recomputes, in Python from the rows themselves, what each
role may see, the sum and count per (stage, currency) and per month in the organisation's time zone,
and expects the report query's answer to match to the cent.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from octopushx.core.context import Actor
from octopushx.crm import services as crm
from octopushx.crm.models import Deal, Stage
from octopushx.reports import query
from octopushx.tenancy.models import Team
from octopushx.tenancy.roles import Role
from tests.conftest import make_member
from tests.crm.conftest import make_deal

TZ = "Australia/Sydney"  # a time zone with daylight saving, far from UTC

deal_strategy = st.tuples(
    st.integers(min_value=0, max_value=3),  # owner: admin, manager, agent in team, agent outside
    st.sampled_from(["GBP", "EUR", "USD"]),
    st.decimals(min_value=Decimal("0"), max_value=Decimal("99999.99"), places=2),
    st.integers(min_value=0, max_value=3),  # stage index
    st.datetimes(min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2026, 12, 31)),
)
change_strategy = st.tuples(
    st.sampled_from(["move", "value", "delete"]),
    st.integers(min_value=0, max_value=20),
    st.integers(min_value=0, max_value=3),
    st.decimals(min_value=Decimal("0"), max_value=Decimal("5000"), places=2),
)


@pytest.fixture
def people(org):
    org.time_zone = TZ
    org.save(update_fields=["time_zone"])
    team = Team.objects.create(tenant=org, name="Team")
    admin = make_member(org, Role.ADMIN)
    manager = make_member(org, Role.MANAGER)
    inside = make_member(org, Role.AGENT, email="inside@example.test")
    outside = make_member(org, Role.AGENT, email="outside@example.test")
    for member in (manager, inside):
        member.team = team
        member.save(update_fields=["team"])
    probe = make_deal(org, owner=admin, name="probe")
    stages = list(Stage.objects.for_tenant(org).filter(pipeline=probe.pipeline).order_by("position"))
    crm.delete_deal(org, Actor.system("test"), probe)
    return {"members": [admin, manager, inside, outside], "stages": stages}


def _sees(viewer_index: int, owner_index: int) -> bool:
    """The visibility rule, restated by hand: admin all, manager their team (manager, inside), agents their own."""
    if viewer_index == 0:
        return True
    if viewer_index == 1:
        return owner_index in (1, 2)
    return owner_index == viewer_index


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    deals=st.lists(deal_strategy, min_size=0, max_size=8),
    changes=st.lists(change_strategy, max_size=5),
    viewer_index=st.integers(min_value=0, max_value=3),
)
def test_grouped_sums_equal_a_recount_of_raw_rows(org, people, deals, changes, viewer_index):
    members, stages = people["members"], people["stages"]
    actor = Actor.system("test")
    Deal.objects.filter(tenant=org).delete()
    made = []
    for owner_index, currency, value, stage_index, created in deals:
        deal = make_deal(
            org,
            owner=members[owner_index],
            currency=currency,
            value=str(value),
            stage_id=str(stages[stage_index].pk),
        )
        Deal.objects.filter(pk=deal.pk).update(created_at=created.replace(tzinfo=dt.UTC))
        made.append((Deal.objects.get(pk=deal.pk), owner_index))
    for kind, index, stage_index, value in changes:
        if not made:
            break
        deal, owner_index = made[index % len(made)]
        if kind == "move":
            crm.move_deal(org, actor, deal, str(stages[stage_index].pk))
        elif kind == "value":
            crm.update_deal(org, actor, deal, {"value": str(value)})
        else:
            crm.delete_deal(org, actor, deal)
            made.remove((deal, owner_index))

    viewer = members[viewer_index]
    owner_of = {str(m.user_id): i for i, m in enumerate(members)}
    raw = [d for d in Deal.objects.filter(tenant=org) if _sees(viewer_index, owner_of[str(d.owner_id)])]

    # by stage and currency
    expected: dict = defaultdict(lambda: [Decimal("0"), 0])
    for d in raw:
        expected[(str(d.stage_id), d.currency)][0] += d.value
        expected[(str(d.stage_id), d.currency)][1] += 1
    out = query.run(
        org,
        viewer,
        {
            "dataset": "deals",
            "measures": [{"agg": "sum", "field": "value"}, {"agg": "count"}],
            "group_by": [{"field": "stage"}],
        },
    )
    got = {(r["stage"], r["currency"]): [Decimal(r["sum_value"]), r["count"]] for r in out["rows"]}
    assert got == {k: [v[0].quantize(Decimal("0.01")), v[1]] for k, v in expected.items()}
    assert out["totals"]["count"] == len(raw)

    # by month in the organisation's time zone
    zone = ZoneInfo(TZ)
    months: dict = defaultdict(int)
    for d in raw:
        local = d.created_at.astimezone(zone)
        months[dt.date(local.year, local.month, 1).isoformat()] += 1
    out = query.run(
        org,
        viewer,
        {"dataset": "deals", "measures": [{"agg": "count"}], "group_by": [{"field": "created_at", "grain": "month"}]},
    )
    assert {r["created_at"]: r["count"] for r in out["rows"]} == dict(months)
