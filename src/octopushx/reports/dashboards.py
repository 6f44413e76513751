"""The four ready dashboards (sales, activity, coaching, compliance) as data.

Each widget either carries a query spec for the metric layer (``reports.query.run``) or, for what
the layer cannot express (funnels, time in stage, win rate, weighted forecast, stale deals, call
coaching), a small function computing a result of the same shape from the rows a dataset gives:
``Dataset.rows(tenant, membership)`` is already tenant- and role-scoped, so no widget scopes on
its own.
"""

from __future__ import annotations

import calendar
import zoneinfo
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import FieldDoesNotExist, FieldError, PermissionDenied
from django.db.models import (
    Avg,
    Case,
    Count,
    DecimalField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Cast, TruncMonth
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from octopushx.core import datasets
from octopushx.reports import query
from octopushx.tenancy.roles import Perm, has_perm

STALE_DAYS = 14
TOP_SELLER_TALK_SHARE = 0.43  # Gong's published talk share of top sellers

PERIODS = {
    "this_week": "This week",
    "last_week": "Last week",
    "this_month": "This month",
    "last_month": "Last month",
    "this_quarter": "This quarter",
    "last_30_days": "Last 30 days",
    "last_90_days": "Last 90 days",
    "this_year": "This year",
}
DEFAULT_PERIOD = "this_month"


@dataclass(frozen=True)
class Period:
    key: str
    label: str
    start: date  # inclusive
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        end = self.start - timedelta(days=1)
        return Period(self.key, f"before {self.label.lower()}", end - timedelta(days=self.days - 1), end)

    def spec(self, field_name: str) -> dict:
        return {"field": field_name, "from": self.start.isoformat(), "to": self.end.isoformat()}

    def text(self) -> str:
        return f"{self.start:%-d %b %Y} – {self.end:%-d %b %Y}"


def org_zone(tenant) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(getattr(tenant, "time_zone", "") or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def resolve_period(tenant, key: str | None, today: date | None = None) -> Period:
    """A named period in the organisation's time zone (weeks from its first day of the week); unknown
    names fall back to this month."""
    key = key if key in PERIODS else DEFAULT_PERIOD
    today = today or timezone.now().astimezone(org_zone(tenant)).date()
    week = query.start_of_week(today, query.week_start(tenant))  # the organisation's first day of the week
    if key == "this_week":
        start, end = week, today
    elif key == "last_week":
        start, end = week - timedelta(days=7), week - timedelta(days=1)
    elif key == "this_month":
        start, end = today.replace(day=1), today
    elif key == "last_month":
        end = today.replace(day=1) - timedelta(days=1)
        start = end.replace(day=1)
    elif key == "this_quarter":
        start, end = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), today
    elif key == "last_30_days":
        start, end = today - timedelta(days=29), today
    elif key == "last_90_days":
        start, end = today - timedelta(days=89), today
    else:
        start, end = date(today.year, 1, 1), today
    return Period(key, PERIODS[key], start, end)


def _bounds(tenant, period: Period) -> tuple[datetime, datetime]:
    """The period as aware datetimes [start, end) in the organisation's time zone."""
    zone = org_zone(tenant)
    return (
        datetime.combine(period.start, time.min, tzinfo=zone),
        datetime.combine(period.end + timedelta(days=1), time.min, tzinfo=zone),
    )


def dataset(name: str):
    return datasets.get(name)


def _list_url(name: str, filters: list[dict]) -> str | None:
    try:
        return dataset(name).list_url(filters)
    except Exception:  # a dataset without a list page, or a filter its list cannot express
        return None


def result(columns, rows, totals=None, drilldown=None, tenant=None, **extra) -> dict:
    """A computed widget's answer in the query layer's result shape."""
    return {
        "columns": columns,
        "rows": rows,
        "totals": totals or {},
        "previous": None,
        "deltas": {},
        "drilldown": drilldown,
        "generated_at": timezone.now().isoformat(),
        "time_zone": str(org_zone(tenant)) if tenant is not None else "UTC",
        **extra,
    }


# --- computed widgets -------------------------------------------------------------------------


def _deal_rows(tenant, membership):
    return dataset("deals").rows(tenant, membership)


def _won_in(tenant, period: Period) -> list[dict]:
    """Deals won in the period, as list filters (exact instants of the organisation's days)."""
    start, end = _bounds(tenant, period)
    return [
        {"field": "status", "op": "eq", "value": "won"},
        {"field": "closed_at", "op": "gte", "value": start},
        {"field": "closed_at", "op": "lt", "value": end},
    ]


def _created_in(tenant, period: Period) -> list[dict]:
    start, end = _bounds(tenant, period)
    return [{"field": "created_at", "op": "gte", "value": start}, {"field": "created_at", "op": "lt", "value": end}]


def win_rate(tenant, membership, period: Period) -> dict:
    """Won deals over deals closed (won or lost) in the period, and the same for the period before."""
    deals = _deal_rows(tenant, membership)

    def rate(p: Period):
        start, end = _bounds(tenant, p)
        closed = Counter(deals.filter(closed_at__gte=start, closed_at__lt=end).values_list("status", flat=True))
        total = closed["won"] + closed["lost"]
        return (round(closed["won"] / total, 4) if total else None), closed["won"], total

    now, won, closed = rate(period)
    before, _, _ = rate(period.previous())
    out = result(
        [{"key": "win_rate", "label": "Win rate", "kind": "percent"}],
        [{"win_rate": now, "won": won, "closed": closed}],
        {"win_rate": now},
        _list_url("deals", _won_in(tenant, period)),
        tenant,
    )
    out["previous"] = {"totals": {"win_rate": before}}
    out["deltas"] = {"win_rate": _delta(now, before)}
    return out


def _delta(value, previous) -> dict:
    if value is None or previous is None:
        return {"value": value, "previous": previous, "change": None, "change_pct": None}
    change = value - previous
    return {
        "value": value,
        "previous": previous,
        "change": round(change, 4),
        "change_pct": round(change / previous * 100, 1) if previous else None,
    }


def sales_cycle(tenant, membership, period: Period) -> dict:
    """Average days from creation to winning, over deals won in the period."""
    deals = _deal_rows(tenant, membership)

    span = ExpressionWrapper(F("closed_at") - F("created_at"), output_field=DurationField())

    def mean(p: Period):
        start, end = _bounds(tenant, p)
        won = deals.filter(status="won", closed_at__gte=start, closed_at__lt=end).order_by()
        average = won.aggregate(days=Avg(span))["days"]  # in the database: one number leaves it
        return round(average.total_seconds() / 86400, 1) if average is not None else None

    now, before = mean(period), mean(period.previous())
    out = result(
        [{"key": "days", "label": "Average days to win", "kind": "number"}],
        [{"days": now}],
        {"days": now},
        _list_url("deals", _won_in(tenant, period)),
        tenant,
    )
    out["previous"] = {"totals": {"days": before}}
    out["deltas"] = {"days": _delta(now, before)}
    return out


def weighted_forecast(tenant, membership, period: Period) -> dict:
    """Open deals' value × their stage's probability, by expected close month and currency."""
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    # added up in the database by close month and currency (a few rows leave it, not every open deal)
    weighted = ExpressionWrapper(
        F("value") * F("stage__probability"), output_field=DecimalField(max_digits=24, decimal_places=2)
    )
    for close, currency, amount in (
        _deal_rows(tenant, membership)
        .filter(status="open")
        .order_by()
        .annotate(month=TruncMonth("expected_close"))
        .values("month", "currency")
        .annotate(amount=Sum(weighted))
        .values_list("month", "currency", "amount")
    ):
        month = close.strftime("%Y-%m") if close else "No close date"
        sums[(month, currency)] += Decimal(amount or 0) / 100
    rows = []
    for (month, currency), amount in sorted(sums.items()):
        filters = [
            {"field": "status", "op": "eq", "value": "open"},
            {"field": "currency", "op": "eq", "value": currency},
        ]
        if month != "No close date":
            year, number = (int(part) for part in month.split("-"))
            last = calendar.monthrange(year, number)[1]
            filters += [
                {"field": "expected_close", "op": "gte", "value": f"{month}-01"},
                {"field": "expected_close", "op": "lte", "value": f"{month}-{last:02d}"},
            ]
        else:
            filters.append({"field": "expected_close", "op": "is_empty", "value": None})
        rows.append(
            {
                "expected_close": month,
                "currency": currency,
                "weighted_value": str(amount.quantize(Decimal("0.01"))),
                "drilldown": _list_url("deals", filters),
            }
        )
    return result(
        [
            {"key": "expected_close", "label": "Close month", "kind": "text"},
            {"key": "currency", "label": "Currency", "kind": "text"},
            {"key": "weighted_value", "label": "Weighted value", "kind": "number"},
        ],
        rows,
        {},
        _list_url("deals", [{"field": "status", "op": "eq", "value": "open"}]),
        tenant,
    )


def _stages_reached(tenant, membership, period: Period, stages: list[dict]) -> Counter:
    """How many deals created in the period reached each combination of ``stages``: a bit per stage
    (``1 << its index``) summed once per deal in the database, so one small number leaves it per deal."""
    deals = _deal_rows(tenant, membership)
    start, end = _bounds(tenant, period)
    deals = deals.filter(created_at__gte=start, created_at__lt=end)
    if not stages:
        return Counter()
    try:
        bit = Case(
            *(When(stage_changes__to_stage_id=s["id"], then=Value(1 << i)) for i, s in enumerate(stages)),
            default=Value(0),
        )
        masks = deals.filter(stage_changes__isnull=False).values("pk").annotate(mask=Sum(bit, distinct=True))
        return Counter(masks.values_list("mask", flat=True))
    except FieldError:  # no stage history yet (crm.DealStageChange): each deal's current stage only
        bits = {s["id"]: 1 << i for i, s in enumerate(stages)}
        return Counter(bits.get(stage_id, 0) for stage_id in deals.values_list("stage_id", flat=True))


def _pipeline_stages(tenant, membership) -> list[dict]:
    """The default pipeline's stages in order (lost stages left out), among the pipelines of the visible
    deals (read along the deals' pipeline index, then the few pipelines' stages)."""
    deals = _deal_rows(tenant, membership)
    pipelines = deals.model._meta.get_field("pipeline").related_model.objects.filter(tenant=tenant)
    # a pipeline counts when a visible deal is in it: one EXISTS per pipeline along the deals'
    # (tenant, pipeline, status) index, never a DISTINCT over every deal
    pipelines = pipelines.filter(Exists(deals.filter(pipeline_id=OuterRef("pk")).order_by()))
    stages = {}
    for pipeline_id, is_default, pipeline_name, pk, name, position, kind in pipelines.values_list(
        "pk", "is_default", "name", "stages__pk", "stages__name", "stages__position", "stages__kind"
    ):
        found = stages.setdefault(pipeline_id, {"default": is_default, "name": pipeline_name, "stages": {}})
        if pk is not None and kind != "lost":
            found["stages"][pk] = (position, name)
    if not stages:
        return []
    chosen = next((p for p in stages.values() if p["default"]), None) or next(iter(stages.values()))
    ordered = sorted(chosen["stages"].items(), key=lambda i: i[1])
    return [{"id": pk, "name": name, "pipeline": chosen["name"]} for pk, (position, name) in ordered]


def funnel(tenant, membership, period: Period, *, in_order: bool) -> dict:
    """Deals created in the period by the stages they reached (HubSpot's two funnels).

    ``in_order``: a deal counts at a stage when it reached that stage and every stage before it;
    otherwise when it reached the stage at any point. Each row gives conversion from the previous
    stage and the drop-off.
    """
    stages = _pipeline_stages(tenant, membership)
    reached = _stages_reached(tenant, membership, period, stages)
    rows, previous = [], None
    for index, stage in enumerate(stages):
        needed = (1 << (index + 1)) - 1 if in_order else 1 << index
        count = sum(deals for mask, deals in reached.items() if mask & needed == needed)
        conversion = round(count / previous, 4) if previous else None
        rows.append(
            {
                "stage": stage["name"],
                "count": count,
                "conversion": conversion,
                # more deals than the stage before (created straight into a later stage): no drop-off
                "drop_off": round(1 - conversion, 4) if conversion is not None and conversion <= 1 else None,
                # deals created in the period whose history reached this stage (and, in order, every
                # stage before it): the deals this step counts
                "drilldown": _list_url(
                    "deals",
                    _created_in(tenant, period)
                    + [
                        {
                            "field": "reached_stages",
                            "op": "eq",
                            "value": ",".join(str(s["id"]) for s in stages[: index + 1])
                            if in_order
                            else str(stage["id"]),
                        }
                    ],
                ),
            }
        )
        previous = count
    return result(
        [
            {"key": "stage", "label": "Stage", "kind": "text"},
            {"key": "count", "label": "Deals", "kind": "number"},
            {"key": "conversion", "label": "Conversion", "kind": "percent"},
            {"key": "drop_off", "label": "Drop-off", "kind": "percent"},
        ],
        rows,
        {"count": rows[0]["count"] if rows else 0},
        None,
        tenant,
        note=f"{stages[0]['pipeline']} pipeline" if stages else "",
    )


def time_in_stage(tenant, membership, period: Period) -> dict:
    """Average days deals spent in each stage they left during the period (and, for a period that runs
    to now, the days deals have sat in their current stage so far).

    Read from the stage history in the database: the moves made in the period, each with the moment
    its deal had entered the stage it left (``from_entered_at``, written with the move); never the
    whole history.
    """
    stages = {s["id"]: s["name"] for s in _pipeline_stages(tenant, membership)}
    start, end = _bounds(tenant, period)
    now = timezone.now()
    spent: dict[Any, list[tuple[timedelta, int]]] = defaultdict(list)  # stage -> (days in it, stays)
    deals = _deal_rows(tenant, membership)
    try:
        moves = deals.model._meta.get_field("stage_changes").related_model.objects.filter(tenant=tenant)
    except FieldDoesNotExist:  # no stage history (crm.DealStageChange): nothing to measure
        moves = None
    if moves is not None:
        # driven by the (tenant, changed_at) index over the period's moves: each says when its deal
        # had entered the stage it left (from_entered_at), so no move needs the one before it; the
        # database adds the stays up per stage
        stay = ExpressionWrapper(F("changed_at") - F("from_entered_at"), output_field=DurationField())
        left = (
            moves.filter(
                changed_at__gte=start, changed_at__lt=end, from_entered_at__isnull=False, deal_id__in=deals.values("pk")
            )
            .order_by()
            .values("from_stage_id")
            .annotate(total=Sum(stay), count=Count("pk"))
        )
        for row in left:
            spent[row["from_stage_id"]].append((row["total"], row["count"]))
        if start <= now < end:  # still in the stage: counts while the period runs to now
            # each open deal's stay so far in the stage it is in (Deal.stage_entered_at), added up per stage
            so_far = ExpressionWrapper(Value(now) - F("stage_entered_at"), output_field=DurationField())
            current = (
                deals.filter(status="open", stage_entered_at__isnull=False)
                .order_by()
                .values("stage_id")
                .annotate(total=Sum(so_far), count=Count("pk"))
            )
            for row in current:
                spent[row["stage_id"]].append((row["total"], row["count"]))

    def average(pk) -> float | None:
        count = sum(n for _, n in spent.get(pk, []))
        if not count:
            return None
        total = sum((t for t, _ in spent[pk]), timedelta())
        return round(total.total_seconds() / 86400 / count, 1)

    rows = [
        {
            "stage": name,
            "days": average(pk),
            "deals": sum(n for _, n in spent.get(pk, [])),
            # the deals that were ever in the stage (the list cannot say "left it in the period")
            "drilldown": _list_url("deals", [{"field": "reached_stages", "op": "eq", "value": str(pk)}]),
        }
        for pk, name in stages.items()
    ]
    return result(
        [
            {"key": "stage", "label": "Stage", "kind": "text"},
            {"key": "days", "label": "Average days", "kind": "number"},
        ],
        rows,
        {},
        None,
        tenant,
    )


STALE_SHOWN = 20  # the quietest deals listed; the count covers them all


def stale_deals(tenant, membership, period: Period) -> dict:
    """Open deals with no note, task or stage change (and no edit) for 14 days, the quietest first.

    Read from ``Deal.last_activity_at`` (kept exact on every write by ``crm.activity``) along its
    (tenant, status, last activity) index: the quietest deals first, the rest only counted.
    """
    now = timezone.now()
    cutoff = (now - timedelta(days=STALE_DAYS)).replace(microsecond=0)  # to the second: the list link reads it
    quiet = _deal_rows(tenant, membership).filter(status="open", last_activity_at__lt=cutoff)
    found = quiet.order_by("last_activity_at").values(
        "pk", "name", "value", "currency", "owner__full_name", "owner__email", last_activity=F("last_activity_at")
    )[:STALE_SHOWN]
    rows = [
        {
            "deal": d["name"],
            "owner": d["owner__full_name"] or d["owner__email"] or "",
            "value": str(d["value"]),
            "currency": d["currency"],
            "last_activity": d["last_activity"].isoformat(),
            "days_quiet": (now - d["last_activity"]).days,
            "drilldown": reverse("crm:deal", args=[d["pk"]]),
        }
        for d in found
    ]
    total = len(rows) if len(rows) < STALE_SHOWN else quiet.count()
    every = [
        {"field": "status", "op": "eq", "value": "open"},
        {"field": "last_activity_at", "op": "lt", "value": cutoff},
    ]
    listed = _list_url("deals", every)
    if listed:  # the quietest first, with the column that says how quiet
        columns = ["value", "stage", "owner", "last_activity_at"]
        listed += "&" + urlencode({"ordering": "last_activity_at", "cols": columns}, doseq=True)
    return result(
        [
            {"key": "deal", "label": "Deal", "kind": "text"},
            {"key": "owner", "label": "Owner", "kind": "user"},
            {"key": "days_quiet", "label": "Days quiet", "kind": "number"},
        ],
        rows,
        {"count": total},
        listed,
        tenant,
        note=f"The {STALE_SHOWN} quietest of {total}" if total > len(rows) else "",
    )


COACHING_COLUMNS = [
    {"key": "agent", "label": "Agent", "kind": "user"},
    {"key": "calls", "label": "Calls", "kind": "number"},
    {"key": "avg_duration", "label": "Avg duration", "kind": "seconds"},
    {"key": "talk_ratio", "label": "Talk ratio", "kind": "percent"},
    {"key": "longest_monologue", "label": "Longest monologue", "kind": "seconds"},
    {"key": "longest_story", "label": "Longest customer story", "kind": "seconds"},
    {"key": "patience", "label": "Patience", "kind": "seconds"},
    {"key": "question_rate", "label": "Questions / hour", "kind": "number"},
    {"key": "interactivity", "label": "Switches / hour", "kind": "number"},
    {"key": "interruptions", "label": "Interruptions", "kind": "number"},
    {"key": "sentiment", "label": "Customer sentiment", "kind": "number"},
    {"key": "awaiting_review", "label": "Awaiting review", "kind": "number"},
]


def _mean(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return round(sum(values) / len(values), 3) if values else None


def _number(key: str):
    """A figure of ``Call.metrics`` (the current analysis's headline copy, ``calls.models.headline_metrics``):
    per-role figures are absent for calls whose roles are unknown, so averages leave those calls out."""
    return Cast(KeyTextTransform(key, "metrics"), FloatField())


# agent (or team) figures, worked out by the database over the period's calls
FIGURES = {
    "calls": Count("pk"),
    "avg_duration": Avg("duration"),
    "talk_ratio": Avg(_number("agent_talk_ratio")),
    "longest_monologue": Avg(_number("agent_longest_monologue")),
    "longest_story": Avg(_number("customer_longest_story")),
    "patience": Avg(_number("patience")),
    "interruptions": Avg(_number("agent_interruptions")),
    "sentiment": Avg("sentiment"),
    "awaiting_review": Count("pk", filter=Q(review_state="unreviewed")),
    "questions": Sum(_number("agent_questions")),
    "talk_seconds": Sum(_number("agent_talk_time")),
    # interactivity counts role-known calls only (turns between an agent and a customer)
    "turns": Sum(_number("turns"), filter=Q(metrics__roles_known=True)),
    "call_seconds": Sum(_number("duration"), filter=Q(metrics__roles_known=True)),
}


def _figures(row: dict) -> dict:
    """Rates per hour and rounding, as the coaching table shows them."""
    talk_hours, call_hours = (row.pop("talk_seconds") or 0) / 3600, (row.pop("call_seconds") or 0) / 3600
    questions, turns = row.pop("questions") or 0, row.pop("turns") or 0
    for key in ("avg_duration", "talk_ratio", "longest_monologue", "longest_story", "patience", "interruptions"):
        row[key] = round(row[key], 3) if row[key] is not None else None
    row["sentiment"] = round(row["sentiment"], 3) if row["sentiment"] is not None else None
    row["question_rate"] = round(questions / talk_hours, 1) if talk_hours else None
    row["interactivity"] = round(turns / call_hours, 1) if call_hours else None
    return row


def _calls_period(tenant, period: Period) -> dict:
    """The call list's parameters for the period: the exact instants it starts and ends (org time zone)."""
    start, end = _bounds(tenant, period)
    return {"date_from": start.isoformat(), "date_before": end.isoformat()}


def _calls_in(tenant, membership, period: Period):
    start, end = _bounds(tenant, period)
    return dataset("calls").rows(tenant, membership).filter(started_at__gte=start, started_at__lt=end)


def call_coaching(tenant, membership, period: Period) -> dict:
    """Each visible agent's call figures beside the team's (all visible calls) average, added up by the
    database (one grouped query and one for the team) over each call's headline metrics."""
    calls = _calls_in(tenant, membership, period).order_by()
    calls_url = reverse("calls:list")
    rows = []
    for own in calls.values("agent_id", "agent__full_name", "agent__email").annotate(**FIGURES):
        agent_id = own.pop("agent_id")
        full_name, email = own.pop("agent__full_name"), own.pop("agent__email")
        name = full_name or email or "No agent"
        query_string = _calls_period(tenant, period)
        if agent_id:
            query_string["agent_id"] = str(agent_id)
        rows.append(
            {
                "agent": name,
                "agent_id": str(agent_id or ""),
                **_figures(own),
                "drilldown": f"{calls_url}?{urlencode(query_string)}",
            }
        )
    rows.sort(key=lambda r: r["agent"].lower())
    team = _figures(calls.aggregate(**FIGURES))
    team_count = len(rows)
    team["calls"] = round(team["calls"] / team_count, 1) if team_count else 0
    team["awaiting_review"] = round(team["awaiting_review"] / team_count, 1) if team_count else 0
    return result(
        COACHING_COLUMNS,
        rows,
        {"team_average": team},
        f"{calls_url}?{urlencode(_calls_period(tenant, period))}",
        tenant,
        marker={"talk_ratio": TOP_SELLER_TALK_SHARE},
    )


def top_keywords(tenant, membership, period: Period, limit: int = 10) -> dict:
    counts: Counter = Counter()
    # only each call's keyword list leaves the database (a few words, not its analysis)
    for keywords in _calls_in(tenant, membership, period).values_list(KeyTransform("keywords", "metrics"), flat=True):
        counts.update(keywords or ())
    calls_url = reverse("calls:list")
    rows = [
        {
            "keyword": word,
            "calls": count,
            "drilldown": f"{calls_url}?{urlencode({'keyword': word, **_calls_period(tenant, period)})}",
        }
        for word, count in counts.most_common(limit)
    ]
    return result(
        [{"key": "keyword", "label": "Keyword", "kind": "text"}, {"key": "calls", "label": "Calls", "kind": "number"}],
        rows,
        {},
        None,
        tenant,
    )


def privacy_time_to_fulfil(tenant, membership, period: Period) -> dict:
    requests = dataset("privacy_requests").rows(tenant, membership)

    def mean(p: Period):
        start, end = _bounds(tenant, p)
        spans = [
            (done - made).total_seconds() / 86400
            for made, done in requests.filter(
                state="completed", completed_at__gte=start, completed_at__lt=end
            ).values_list("created_at", "completed_at")
        ]
        return round(sum(spans) / len(spans), 1) if spans else None

    now, before = mean(period), mean(period.previous())
    out = result(
        [{"key": "days", "label": "Average days to fulfil", "kind": "number"}],
        [{"days": now}],
        {"days": now},
        _list_url(
            "privacy_requests",
            [
                {"field": "state", "op": "eq", "value": "completed"},
                {"field": "completed_at", "op": "gte", "value": _bounds(tenant, period)[0]},
                {"field": "completed_at", "op": "lt", "value": _bounds(tenant, period)[1]},
            ],
        ),
        tenant,
    )
    out["previous"] = {"totals": {"days": before}}
    out["deltas"] = {"days": _delta(now, before)}
    return out


def retention_purges(tenant, membership, period: Period) -> dict:
    """What the retention runs that finished in the period deleted, per data class (most first)."""
    fields = dataset("retention_purges").all_fields(tenant)
    classes = [name for name in fields if name.startswith("purged.")]
    answer = query.run(
        tenant,
        membership,
        {
            "dataset": "retention_purges",
            "measures": [{"agg": "count"}] + [{"agg": "sum", "field": name} for name in classes],
            "period": period.spec("finished_at"),
            "compare": "previous_period",
        },
    )
    totals, before = answer["totals"], (answer["previous"] or {}).get("totals", {})
    rows = []
    for name in classes:
        key = query.measure_key("sum", name)
        deleted = int(totals.get(key) or 0)
        if deleted or before.get(key):
            label = fields[name].label.removesuffix(" deleted")
            rows.append({"data_class": label, "deleted": deleted, "previous": int(before.get(key) or 0)})
    rows.sort(key=lambda r: (-r["deleted"], r["data_class"]))
    for row in rows:  # the audit trail lists runs, not records: every class links to the period's runs
        row["drilldown"] = answer["drilldown"]
    deleted = sum(r["deleted"] for r in rows)
    out = result(
        [
            {"key": "data_class", "label": "Data class", "kind": "text"},
            {"key": "deleted", "label": "Deleted", "kind": "number"},
        ],
        rows,
        {"deleted": deleted, "runs": totals.get("count", 0)},
        answer["drilldown"],
        tenant,
    )
    previous = sum(r["previous"] for r in rows)
    out["previous"] = {"totals": {"deleted": previous, "runs": before.get("count", 0)}}
    out["deltas"] = {"deleted": _delta(deleted, previous)}
    return out


# --- the dashboards ---------------------------------------------------------------------------

OPEN_STATES = ["received", "verified", "in_progress"]


@dataclass(frozen=True)
class Widget:
    key: str
    title: str
    view: str  # number | bar | line | stacked_bar | pie | funnel | table
    spec: Callable[[Any, Period], dict] | None = None  # (tenant, period) -> query spec
    compute: Callable[[Any, Any, Period], dict] | None = None  # (tenant, membership, period) -> result
    help: str = ""
    period_bound: bool = True  # False: a state "now" (open pipeline, overdue tasks)
    size: str = "md"  # sm | md | lg (grid width)
    needs: tuple[str, ...] = ()  # datasets a computed widget reads

    def datasets(self) -> tuple[str, ...]:
        return self.needs or ((self.spec(None, resolve_period(None, DEFAULT_PERIOD))["dataset"],) if self.spec else ())


def _count(dataset_name, filters=None, period_field=None, compare=True, group_by=None, measures=None):
    def build_spec(tenant, period: Period) -> dict:
        resolved = [f(tenant) if callable(f) else f for f in (filters or [])]
        spec = {
            "dataset": dataset_name,
            "measures": measures or [{"agg": "count"}],
            "group_by": group_by or [],
            "filters": resolved,
            "period": period.spec(period_field) if period_field else None,
            "compare": "previous_period" if compare and period_field else None,
        }
        return spec

    return build_spec


def _now_iso(tenant) -> str:
    return timezone.now().astimezone(org_zone(tenant)).isoformat()


def _in_days_iso(days):
    return lambda tenant: (timezone.now() + timedelta(days=days)).astimezone(org_zone(tenant)).isoformat()


SALES = [
    Widget(
        "open_pipeline",
        "Open pipeline by stage",
        "bar",
        spec=_count(
            "deals",
            [{"field": "status", "op": "eq", "value": "open"}],
            group_by=[{"field": "stage"}],
            measures=[{"agg": "sum", "field": "value"}, {"agg": "count"}],
        ),
        period_bound=False,
        size="lg",
    ),
    Widget(
        "deals_won",
        "Deals won",
        "number",
        spec=_count("deals", [{"field": "status", "op": "eq", "value": "won"}], "closed_at"),
        size="sm",
    ),
    Widget(
        "win_rate",
        "Win rate",
        "number",
        compute=win_rate,
        needs=("deals",),
        help="Won ÷ (won + lost) closed in the period",
        size="sm",
    ),
    Widget(
        "sales_cycle",
        "Average sales cycle",
        "number",
        compute=sales_cycle,
        needs=("deals",),
        help="Days from creation to won",
        size="sm",
    ),
    Widget(
        "deals_created",
        "Deals created",
        "number",
        spec=_count("deals", period_field="created_at"),
        size="sm",
    ),
    Widget(
        "created_per_week",
        "Deals created per week",
        "line",
        spec=_count(
            "deals", period_field="created_at", group_by=[{"field": "created_at", "grain": "week"}], compare=False
        ),
    ),
    Widget(
        "won_per_week",
        "Deals won per week",
        "bar",
        spec=_count(
            "deals",
            [{"field": "status", "op": "eq", "value": "won"}],
            "closed_at",
            group_by=[{"field": "closed_at", "grain": "week"}],
            compare=False,
        ),
    ),
    Widget(
        "weighted_forecast",
        "Weighted forecast by close month",
        "stacked_bar",
        compute=weighted_forecast,
        needs=("deals",),
        help="Open deals' value × stage probability",
        period_bound=False,
    ),
    Widget(
        "time_in_stage",
        "Average time in stage",
        "bar",
        compute=time_in_stage,
        needs=("deals",),
        help="Days, for stays that ended in the period",
    ),
    Widget(
        "funnel_in_order",
        "Stage funnel: went through every stage in order",
        "funnel",
        compute=lambda t, m, p: funnel(t, m, p, in_order=True),
        needs=("deals",),
        help="Deals created in the period",
    ),
    Widget(
        "funnel_any",
        "Stage funnel: reached the stage at any point",
        "funnel",
        compute=lambda t, m, p: funnel(t, m, p, in_order=False),
        needs=("deals",),
        help="Deals created in the period",
    ),
    Widget(
        "stale_deals",
        f"Deals with no activity for {STALE_DAYS} days",
        "table",
        compute=stale_deals,
        needs=("deals", "notes", "tasks"),
        period_bound=False,
        size="lg",
    ),
]

ACTIVITY = [
    Widget(
        "tasks_created",
        "Tasks created per owner",
        "bar",
        spec=_count("tasks", period_field="created_at", group_by=[{"field": "assignee"}]),
    ),
    Widget(
        "tasks_completed",
        "Tasks completed per owner",
        "bar",
        spec=_count(
            "tasks",
            [{"field": "status", "op": "eq", "value": "done"}],
            "completed_at",
            group_by=[{"field": "assignee"}],
        ),
    ),
    Widget(
        "tasks_overdue",
        "Tasks overdue per owner",
        "bar",
        spec=_count(
            "tasks",
            [
                {"field": "status", "op": "eq", "value": "open"},
                lambda tenant: {"field": "due_at", "op": "lt", "value": _now_iso(tenant)},
            ],
            group_by=[{"field": "assignee"}],
        ),
        period_bound=False,
    ),
    Widget(
        "notes_per_week",
        "Notes per owner per week",
        "stacked_bar",
        spec=_count(
            "notes",
            period_field="created_at",
            group_by=[{"field": "created_at", "grain": "week"}, {"field": "author"}],
            compare=False,
        ),
    ),
    Widget(
        "calls_per_week",
        "Calls per agent per week",
        "stacked_bar",
        spec=_count(
            "calls",
            period_field="started_at",
            group_by=[{"field": "started_at", "grain": "week"}, {"field": "agent"}],
            compare=False,
        ),
    ),
]

COACHING = [
    Widget("calls", "Calls", "number", spec=_count("calls", period_field="started_at"), size="sm"),
    Widget(
        "avg_duration",
        "Average call duration (s)",
        "number",
        spec=_count("calls", period_field="started_at", measures=[{"agg": "avg", "field": "duration"}]),
        size="sm",
    ),
    Widget(
        "awaiting_review",
        "Calls awaiting review",
        "number",
        spec=_count("calls", [{"field": "review_state", "op": "eq", "value": "unreviewed"}]),
        period_bound=False,
        size="sm",
    ),
    Widget(
        "agents",
        "Agents against the team average",
        "table",
        compute=call_coaching,
        needs=("calls",),
        size="lg",
    ),
    Widget("keywords", "Top keywords", "bar", compute=top_keywords, needs=("calls",)),
    Widget(
        "qa_scores",
        "QA score per agent",
        "bar",
        spec=_count(
            "call_scores",
            period_field="submitted_at",
            group_by=[{"field": "agent"}],
            measures=[{"agg": "avg", "field": "percent"}, {"agg": "count"}],
        ),
        help="Average scorecard percentage of submitted reviews (drafts left out)",
    ),
]

COMPLIANCE = [
    Widget(
        "privacy_open",
        "Privacy requests open",
        "number",
        spec=_count("privacy_requests", [{"field": "state", "op": "in", "value": OPEN_STATES}]),
        period_bound=False,
        size="sm",
    ),
    Widget(
        "privacy_due_soon",
        "Due within 7 days",
        "number",
        spec=_count(
            "privacy_requests",
            [
                {"field": "state", "op": "in", "value": OPEN_STATES},
                lambda tenant: {"field": "due_at", "op": "gte", "value": _now_iso(tenant)},
                lambda tenant: {"field": "due_at", "op": "lt", "value": _in_days_iso(7)(tenant)},
            ],
        ),
        period_bound=False,
        size="sm",
    ),
    Widget(
        "privacy_overdue",
        "Overdue",
        "number",
        spec=_count(
            "privacy_requests",
            [{"field": "overdue", "op": "eq", "value": True}],  # open and past its due date, now
        ),
        period_bound=False,
        size="sm",
    ),
    Widget(
        "privacy_fulfil",
        "Average time to fulfil (days)",
        "number",
        compute=privacy_time_to_fulfil,
        needs=("privacy_requests",),
        size="sm",
    ),
    Widget(
        "privacy_by_kind",
        "Privacy requests received by kind",
        "pie",
        spec=_count("privacy_requests", period_field="created_at", group_by=[{"field": "kind"}], compare=False),
    ),
    Widget(
        "security_alerts",
        "Security alerts by kind",
        "pie",
        spec=_count("security_alerts", period_field="created_at", group_by=[{"field": "kind"}]),
        help="Raised in the period, acknowledged or not",
    ),
    Widget(
        "retention_purges",
        "Retention purges: records deleted by data class",
        "bar",
        compute=retention_purges,
        needs=("retention_purges",),
        help="Purge runs that finished in the period (dry runs left out)",
        size="lg",
    ),
]


@dataclass(frozen=True)
class Dashboard:
    slug: str
    title: str
    widgets: list[Widget] = field(default_factory=list)
    perm: Perm = Perm.READ


DASHBOARDS = {
    "sales": Dashboard("sales", "Sales", SALES),
    "activity": Dashboard("activity", "Activity", ACTIVITY),
    "coaching": Dashboard("coaching", "Call coaching", COACHING),
    "compliance": Dashboard("compliance", "Compliance", COMPLIANCE, Perm.AUDIT),
}


def can_see(membership, slug: str) -> bool:
    board = DASHBOARDS.get(slug)
    return bool(board and membership is not None and has_perm(membership.role, board.perm))


def visible_dashboards(membership) -> list[Dashboard]:
    return [d for d in DASHBOARDS.values() if can_see(membership, d.slug)]


def run_widget(tenant, membership, widget: Widget, period: Period) -> dict:
    missing = [name for name in widget.datasets() if datasets.get(name) is None]
    if missing:  # a product that is not installed (or registers no dataset) leaves its widgets empty
        return result([], [], {}, None, tenant, unavailable=f"No {', '.join(missing)} data to report on")
    if widget.compute is not None:
        return widget.compute(tenant, membership, period)
    return query.run(tenant, membership, widget.spec(tenant, period))


def _period_out(chosen: Period) -> dict:
    return {"key": chosen.key, "label": chosen.label, "from": chosen.start.isoformat(), "to": chosen.end.isoformat()}


NOW = {"key": "now", "label": "Now", "from": None, "to": None}
ALL_TIME = {"key": "all", "label": "All time", "from": None, "to": None}


def _widget_out(ready: Widget, chosen: Period, data: dict, **extra) -> dict:
    return {
        "key": ready.key,
        "title": ready.title,
        "view": ready.view,
        "help": ready.help,
        "size": ready.size,
        "period": _period_out(chosen) if ready.period_bound else dict(NOW),
        "data": data,
        "drilldown": data.get("drilldown"),
        **extra,
    }


def build(tenant, membership, slug: str, period: str | Period | None = None) -> dict:
    """A dashboard with every widget's data, for this member: ``slug`` is a ready dashboard's slug
    (sales, activity, coaching, compliance) or a custom dashboard's id. 403 when the role may not
    see a ready dashboard; 404 for a custom dashboard of another tenant or not shared with them."""
    chosen = period if isinstance(period, Period) else resolve_period(tenant, period)
    board = DASHBOARDS.get(slug)
    if board is None:
        from octopushx.reports import dashboard_services

        if not dashboard_services.is_dashboard_id(slug):
            raise Http404("No such dashboard")
        custom = dashboard_services.get_dashboard(tenant, membership, slug)
        return build_custom(tenant, membership, custom, chosen)
    if not can_see(membership, slug):
        raise PermissionDenied("Your role cannot see this dashboard")
    widgets = [_widget_out(widget, chosen, run_widget(tenant, membership, widget, chosen)) for widget in board.widgets]
    return {"slug": board.slug, "title": board.title, "period": _period_out(chosen), "widgets": widgets}


# --- custom dashboards ------------------------------------------------------------------------


def _unavailable(tenant, message: str) -> dict:
    return result([], [], {}, None, tenant, unavailable=message)


def report_spec_for(spec: dict, chosen: Period) -> tuple[dict, bool]:
    """A saved report's spec on a dashboard: a report with a period follows the dashboard's period
    (same date field, its comparison kept); one without stays all time. -> (spec, period bound)."""
    spec = dict(spec or {})
    if isinstance(spec.get("period"), dict):
        spec["period"] = {**spec["period"], "from": chosen.start.isoformat(), "to": chosen.end.isoformat()}
        return spec, True
    return spec, False


def run_report_widget(tenant, membership, report, chosen: Period) -> tuple[dict, bool]:
    """A saved report's numbers for the viewer; a message instead of data when it cannot run."""
    from django.core.exceptions import ValidationError

    spec, bound = report_spec_for(report.spec, chosen)
    try:
        return query.run(tenant, membership, spec), bound
    except PermissionDenied:
        found = datasets.get(str(spec.get("dataset")))
        label = found.label.lower() if found is not None else "this"
        return _unavailable(tenant, f"Your role cannot see {label} data"), bound
    except ValidationError as exc:
        reasons = "; ".join(" ".join(m).rstrip(".") for m in exc.message_dict.values())
        return _unavailable(tenant, f"This report can no longer run: {reasons}. Edit the report to fix it"), bound


def build_custom(tenant, membership, dashboard, chosen: Period) -> dict:
    """A custom dashboard in ``build``'s shape: each widget run for the viewer, in the saved order."""
    from octopushx.reports import dashboard_services
    from octopushx.reports.models import Report

    report_ids = [w["report_id"] for w in dashboard.widgets if w.get("report_id")]
    reports = {str(r.pk): r for r in Report.objects.filter(tenant=tenant, pk__in=report_ids)}
    widgets = []
    for position, entry in enumerate(dashboard.widgets):
        common = {"id": entry["id"], "position": position}
        if entry.get("report_id"):
            report = reports.get(entry["report_id"])
            if report is None:
                data, bound = _unavailable(tenant, "This report was deleted; remove the widget or add another"), False
                title, view = "Deleted report", "table"
            else:
                data, bound = run_report_widget(tenant, membership, report, chosen)
                title, view = report.name, report.view
            widgets.append(
                {
                    "key": entry["id"],
                    "title": title,
                    "view": view,
                    "help": "",
                    "size": entry.get("size", "md"),
                    "period": _period_out(chosen) if bound else dict(ALL_TIME),
                    "data": data,
                    "drilldown": data.get("drilldown"),
                    "report_id": entry["report_id"],
                    "source": "report",
                    **common,
                }
            )
            continue
        found = dashboard_services.ready_widget(entry.get("widget", ""))
        if found is None:
            data = _unavailable(tenant, "This ready widget no longer exists")
            widgets.append(
                {
                    "key": entry["id"],
                    "title": "Removed widget",
                    "view": "table",
                    "help": "",
                    "size": entry.get("size", "md"),
                    "period": dict(NOW),
                    "data": data,
                    "drilldown": None,
                    "ready_key": entry.get("widget"),
                    "source": "ready",
                    **common,
                }
            )
            continue
        ready_board, widget = found
        if not can_see(membership, ready_board.slug):
            data = _unavailable(tenant, f"Only owners, admins and auditors see {ready_board.title.lower()} figures")
        else:
            data = run_widget(tenant, membership, widget, chosen)
        out = _widget_out(widget, chosen, data, ready_key=widget.key, widget=entry["widget"], source="ready", **common)
        out["key"] = entry["id"]
        out["size"] = entry.get("size", widget.size)
        widgets.append(out)
    return {
        "slug": str(dashboard.pk),
        "id": str(dashboard.pk),
        "title": dashboard.name,
        "custom": True,
        "period": _period_out(chosen),
        "widgets": widgets,
    }
