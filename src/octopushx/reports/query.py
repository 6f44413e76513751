"""The report query: a spec (the body of ``POST /api/v1/reports/query``) in, a table of numbers out.

``validate(tenant, spec)`` checks a spec against the dataset registry (``core.datasets``) and returns
its normal form, or raises ``ValidationError`` keyed by the field path (``measures.0.field``,
``group_by.1.grain``, ``period.from``): the API's 422. ``run(tenant, membership, spec)`` answers it
over the dataset's rows for that member: the tenant and role scoping live in the dataset's ``rows``,
so every report, dashboard, export and schedule counts exactly what the member may see.

Rules:
- Date buckets (day, week, month, quarter) are in the organisation's time zone; weeks start on
  the organisation's first day of the week (``Organization.week_start``: Monday, Sunday or
  Saturday). Monday weeks are the database's ISO weeks; other starts bucket by the exact local
  week boundaries (a CASE over the weeks the rows span), so a daylight-saving change never moves
  a record into the neighbouring week.
- A period is a range of whole days ``from``..``to`` (both included) in that time zone; the previous
  period is the same number of days just before it.
- Money (``kind == "money"``) is never added across currencies: when a measure sums, averages or
  takes the min/max of a money field, the rows are also grouped by the dataset's currency field
  (a ``currency`` column), and totals and deltas of that measure are given per currency
  (``{"GBP": "1200.00", "EUR": "300.00"}``). Money values are strings (exact decimals, 2 places,
  half-up); counts are integers; other numbers floats.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.db.models import Avg, Case, Count, DateField, DateTimeField, F, Max, Min, Q, Sum, Value, When
from django.db.models.functions import TruncDay, TruncMonth, TruncQuarter, TruncWeek
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from octopushx.core import datasets
from octopushx.core.datasets import DATES, NUMERIC, Dataset, Field

AGGS = {"count": Count, "count_distinct": Count, "sum": Sum, "avg": Avg, "min": Min, "max": Max}
AGG_LABELS = {
    "count": "Count",
    "count_distinct": "Distinct",
    "sum": "Sum",
    "avg": "Average",
    "min": "Minimum",
    "max": "Maximum",
}
COUNTS = ("count", "count_distinct")
GRAINS = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth, "quarter": TruncQuarter}
OPS = ("eq", "ne", "contains", "gt", "gte", "lt", "lte", "in", "is_empty", "is_not_empty")
ORDERED_OPS = ("gt", "gte", "lt", "lte")
MAX_GROUPS = 2
MAX_MEASURES = 10
MAX_FILTERS = 30
MAX_WEEKS = 1500  # weeks a non-Monday week bucket may span (about 29 years)
WEEKDAYS = {"monday": 0, "saturday": 5, "sunday": 6}
CENT = Decimal("0.01")


# --- validation -----------------------------------------------------------------------------


def time_zone(tenant) -> ZoneInfo:
    try:
        return ZoneInfo(getattr(tenant, "time_zone", "") or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def week_start(tenant) -> int:
    """The organisation's first day of the week as a Python weekday (Monday 0 … Sunday 6)."""
    return WEEKDAYS.get(getattr(tenant, "week_start", "") or "monday", 0)


def start_of_week(day: dt.date, first_weekday: int) -> dt.date:
    return day - dt.timedelta(days=(day.weekday() - first_weekday) % 7)


def _date(value: Any, path: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            parsed = parse_date(text)
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed
        try:
            moment = parse_datetime(text)
        except ValueError:
            moment = None
        if moment is not None:
            return moment.date()
    raise ValidationError({path: ["A date such as 2026-01-31"]})


def _scalar(f: Field, value: Any, path: str) -> Any:
    """One filter value, parsed for the field's kind."""
    if value is None or isinstance(value, dict | list):
        raise ValidationError({path: ["A single value is needed"]})
    if f.kind in NUMERIC:
        try:
            if isinstance(value, bool):
                raise InvalidOperation
            number = Decimal(str(value).strip())
            if not number.is_finite():
                raise InvalidOperation
            return number
        except (InvalidOperation, ValueError):
            raise ValidationError({path: ["A number"]})
    if f.kind in DATES:
        return _date(value, path)
    if f.kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1", "yes"):
            return True
        if text in ("false", "0", "no"):
            return False
        raise ValidationError({path: ["true or false"]})
    if f.kind in ("user", "team", "fk"):
        try:
            return uuid.UUID(str(value).strip())
        except ValueError:
            raise ValidationError({path: ["Not a valid id"]})
    text = str(value).strip()
    if f.kind == "choice" and f.choices and text not in {c for c, _ in f.choices}:
        raise ValidationError({path: [f"One of: {', '.join(c for c, _ in f.choices)}"]})
    return text


def _object(value: Any, path: str) -> dict:
    if not isinstance(value, dict):
        raise ValidationError({path: ["An object ({...}) is needed"]})
    return value


def _list(value: Any, path: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValidationError({path: ["A list ([...]) is needed"]})
    return value


def _field(fields: dict[str, Field], name: Any, path: str) -> Field:
    if not isinstance(name, str) or not name:
        raise ValidationError({path: ["A field name is needed"]})
    found = fields.get(name)
    if found is None:
        if name.startswith("cf."):
            raise ValidationError({path: [f"The custom field {name[3:]!r} was removed or never existed"]})
        raise ValidationError({path: [f"Unknown field {name!r}; one of: {', '.join(sorted(fields))}"]})
    return found


def measure_key(agg: str, field: str | None) -> str:
    return "count" if agg == "count" and not field else f"{agg}_{re.sub(r'[^A-Za-z0-9_]', '_', field or '')}"


def validate(tenant, spec: Any) -> dict:
    """The spec's normal form; ``ValidationError`` keyed by field path when it does not hold."""
    spec = _object(spec, "body")
    known = {"dataset", "measures", "group_by", "filters", "period", "compare"}
    unknown = sorted(set(spec) - known)
    if unknown:
        raise ValidationError({unknown[0]: [f"Unknown key; the spec has: {', '.join(sorted(known))}"]})
    name = spec.get("dataset")
    dataset = datasets.get(name) if isinstance(name, str) else None
    if dataset is None:
        raise ValidationError({"dataset": [f"Unknown dataset; one of: {', '.join(sorted(datasets.all_datasets()))}"]})
    fields = dataset.all_fields(tenant)

    measures = []
    raw_measures = _list(spec.get("measures"), "measures") or [{"agg": "count"}]
    if len(raw_measures) > MAX_MEASURES:
        raise ValidationError({"measures": [f"At most {MAX_MEASURES} measures"]})
    seen: set[str] = set()
    for i, raw in enumerate(raw_measures):
        raw = _object(raw, f"measures.{i}")
        agg = raw.get("agg")
        if agg not in AGGS:
            raise ValidationError({f"measures.{i}.agg": [f"One of: {', '.join(AGGS)}"]})
        field_name = raw.get("field") or None
        f = None
        if field_name is not None or agg != "count":
            f = _field(fields, field_name, f"measures.{i}.field")
            if agg not in COUNTS and f.kind not in NUMERIC:
                raise ValidationError({f"measures.{i}.field": [f"{AGG_LABELS[agg]} needs a numeric field"]})
        key = measure_key(agg, field_name)
        if key in seen:
            raise ValidationError({f"measures.{i}": ["The same measure twice"]})
        seen.add(key)
        label = "Count" if f is None else f"{AGG_LABELS[agg]} of {f.label.lower()}"
        money = f is not None and f.kind == "money" and agg not in COUNTS
        measures.append({"key": key, "agg": agg, "field": field_name, "label": label, "money": money})

    group_by = []
    raw_groups = _list(spec.get("group_by"), "group_by")
    if len(raw_groups) > MAX_GROUPS:
        raise ValidationError({"group_by": [f"At most {MAX_GROUPS} dimensions"]})
    for i, raw in enumerate(raw_groups):
        raw = _object(raw, f"group_by.{i}")
        f = _field(fields, raw.get("field"), f"group_by.{i}.field")
        if not f.groupable:
            raise ValidationError({f"group_by.{i}.field": ["This field cannot be grouped by"]})
        grain = raw.get("grain") or None
        if f.kind in DATES:
            grain = grain or "day"
            if grain not in GRAINS:
                raise ValidationError({f"group_by.{i}.grain": [f"One of: {', '.join(GRAINS)}"]})
        elif grain is not None:
            raise ValidationError({f"group_by.{i}.grain": ["Only date fields have a grain"]})
        if any(g["field"] == raw["field"] for g in group_by):
            raise ValidationError({f"group_by.{i}.field": ["Already grouped by this field"]})
        group_by.append({"field": raw["field"], "grain": grain})

    filters = []
    raw_filters = _list(spec.get("filters"), "filters")
    if len(raw_filters) > MAX_FILTERS:
        raise ValidationError({"filters": [f"At most {MAX_FILTERS} filters"]})
    for i, raw in enumerate(raw_filters):
        raw = _object(raw, f"filters.{i}")
        f = _field(fields, raw.get("field"), f"filters.{i}.field")
        if not f.filterable:
            raise ValidationError({f"filters.{i}.field": ["This field cannot be filtered on"]})
        op = raw.get("op") or "eq"
        if op not in OPS:
            raise ValidationError({f"filters.{i}.op": [f"One of: {', '.join(OPS)}"]})
        if op in ORDERED_OPS and f.kind not in NUMERIC + DATES:
            raise ValidationError({f"filters.{i}.op": [f"{op} needs a number or date field"]})
        if op == "contains" and f.kind not in ("text", "choice", "tag"):
            raise ValidationError({f"filters.{i}.op": ["contains needs a text field"]})
        value: Any = None
        if op == "in":
            items = raw.get("value")
            if not isinstance(items, list) or not items:
                raise ValidationError({f"filters.{i}.value": ["A non-empty list of values"]})
            value = [_scalar(f, item, f"filters.{i}.value.{j}") for j, item in enumerate(items)]
        elif op not in ("is_empty", "is_not_empty"):
            value = _scalar(f, raw.get("value"), f"filters.{i}.value")
        filters.append({"field": raw["field"], "op": op, "value": value})

    period = None
    if spec.get("period") is not None:
        raw = _object(spec["period"], "period")
        field_name = raw.get("field") or dataset.default_date_field
        f = _field(fields, field_name, "period.field")
        if f.kind not in DATES:
            raise ValidationError({"period.field": ["A period needs a date field"]})
        start = _date(raw.get("from"), "period.from")
        end = _date(raw.get("to"), "period.to")
        if end < start:
            raise ValidationError({"period.to": ["The period ends before it starts"]})
        period = {"field": field_name, "from": start, "to": end}

    compare = spec.get("compare") or None
    if compare not in (None, "previous_period"):
        raise ValidationError({"compare": ["previous_period or null"]})
    if compare and period is None:
        raise ValidationError({"compare": ["A comparison needs a period"]})

    return {
        "dataset": dataset.name,
        "measures": measures,
        "group_by": group_by,
        "filters": filters,
        "period": period,
        "compare": compare,
    }


# --- running ----------------------------------------------------------------------------------


def _alias(name: str) -> str:
    return "r_" + re.sub(r"[^A-Za-z0-9_]", "_", name)


class _Plan:
    """How each field of the spec reaches the database for one tenant."""

    def __init__(self, tenant, dataset: Dataset, normal: dict):
        self.tenant = tenant
        self.dataset = dataset
        self.fields = dataset.all_fields(tenant)
        self.tz = time_zone(tenant)
        self.first_weekday = week_start(tenant)
        self.week_spans: dict[str, tuple[dt.date, dt.date]] = {}  # field -> (first, last) local day of its rows
        used = {m["field"] for m in normal["measures"] if m["field"]}
        used |= {g["field"] for g in normal["group_by"]} | {f["field"] for f in normal["filters"]}
        if normal["period"]:
            used.add(normal["period"]["field"])
        self.annotations = {
            _alias(name): self.fields[name].annotate(tenant) for name in used if self.fields[name].annotate
        }

    def path(self, name: str) -> str:
        f = self.fields[name]
        return _alias(name) if f.annotate else f.path(name)

    def prepare(self, qs):
        return qs.annotate(**self.annotations) if self.annotations else qs

    # filters

    def _start_of(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time.min, tzinfo=self.tz)

    def condition(self, name: str, op: str, value: Any, base_qs) -> Q:
        f = self.fields[name]
        path = self.path(name)
        if f.kind == "tag":
            # by subquery: a join on tags would repeat a record once per matching tag
            inner = self._tag_condition(path, op, value)
            return Q(pk__in=base_qs.filter(inner).values("pk"))
        if op == "is_empty":
            return Q(**{f"{path}__isnull": True}) | (Q(**{path: ""}) if f.kind in ("text", "choice") else Q(pk__in=[]))
        if op == "is_not_empty":
            return ~self.condition(name, "is_empty", None, base_qs)
        if f.kind == "datetime":
            return self._datetime_condition(path, op, value)
        if op == "eq":
            return Q(**{path: value})
        if op == "ne":
            return ~Q(**{path: value}) | Q(**{f"{path}__isnull": True})
        if op == "contains":
            return Q(**{f"{path}__icontains": value})
        if op == "in":
            return Q(**{f"{path}__in": value})
        return Q(**{f"{path}__{op}": value})

    def _tag_condition(self, path: str, op: str, value: Any) -> Q:
        if op == "eq":
            return Q(**{f"{path}__iexact": value})
        if op == "contains":
            return Q(**{f"{path}__icontains": value})
        if op == "in":
            q = Q(pk__in=[])
            for item in value:
                q |= Q(**{f"{path}__iexact": item})
            return q
        if op == "ne":
            return ~Q(**{f"{path}__iexact": value})
        if op == "is_not_empty":
            return Q(**{f"{path}__isnull": False})
        return Q(**{f"{path}__isnull": True})  # is_empty

    def _datetime_condition(self, path: str, op: str, day: Any) -> Q:
        """A datetime field compared with a day of the organisation's calendar."""
        if op == "in":
            q = Q(pk__in=[])
            for item in day:
                q |= self._datetime_condition(path, "eq", item)
            return q
        start, end = self._start_of(day), self._start_of(day + dt.timedelta(days=1))
        if op == "eq":
            return Q(**{f"{path}__gte": start, f"{path}__lt": end})
        if op == "ne":
            return ~Q(**{f"{path}__gte": start, f"{path}__lt": end}) | Q(**{f"{path}__isnull": True})
        if op == "gt":
            return Q(**{f"{path}__gte": end})
        if op == "gte":
            return Q(**{f"{path}__gte": start})
        if op == "lt":
            return Q(**{f"{path}__lt": start})
        return Q(**{f"{path}__lt": end})  # lte

    def period_condition(self, field: str, start: dt.date, end: dt.date) -> Q:
        f = self.fields[field]
        path = self.path(field)
        if f.kind == "datetime":
            return Q(
                **{f"{path}__gte": self._start_of(start), f"{path}__lt": self._start_of(end + dt.timedelta(days=1))}
            )
        return Q(**{f"{path}__gte": start, f"{path}__lte": end})

    # groups and measures

    def needs_week_span(self, group: dict) -> bool:
        return group["grain"] == "week" and self.first_weekday != 0

    def find_week_span(self, name: str, qs) -> None:
        """The local days of the earliest and latest value of ``name`` among ``qs`` (for week buckets)."""
        path = self.path(name)
        found = qs.aggregate(low=Min(path), high=Max(path))
        if found["low"] is None:
            return
        days = [_local_day(found[k], self.tz) for k in ("low", "high")]
        self.week_spans[name] = (days[0], days[1])

    def _week_case(self, name: str, f: Field, path: str):
        """Each row's week (starting on the organisation's day) by exact local week boundaries."""
        span = self.week_spans.get(name)
        if span is None:
            return Value(None, output_field=DateField())
        first = start_of_week(span[0], self.first_weekday)
        weeks = (span[1] - first).days // 7 + 1
        if weeks > MAX_WEEKS:
            raise ValidationError({"group_by": [f"Week buckets over more than {MAX_WEEKS} weeks: choose a period"]})
        whens = []
        for index in range(weeks):
            start = first + dt.timedelta(days=7 * index)
            end = start + dt.timedelta(days=7)
            low, high = (self._start_of(start), self._start_of(end)) if f.kind == "datetime" else (start, end)
            whens.append(When(**{f"{path}__gte": low, f"{path}__lt": high}, then=Value(start)))
        return Case(*whens, default=Value(None), output_field=DateField())

    def group_expression(self, group: dict):
        f = self.fields[group["field"]]
        path = self.path(group["field"])
        if self.needs_week_span(group):
            return self._week_case(group["field"], f, path)
        if group["grain"]:
            trunc = GRAINS[group["grain"]]
            if f.kind == "datetime":
                return trunc(path, output_field=DateTimeField(), tzinfo=self.tz)
            return trunc(path)
        return F(path)

    def aggregate(self, measure: dict):
        agg = AGGS[measure["agg"]]
        if measure["field"] is None:
            return Count("pk")
        if measure["agg"] == "count_distinct":
            return Count(self.path(measure["field"]), distinct=True)
        return agg(self.path(measure["field"]))


def _local_day(value: Any, tz: ZoneInfo) -> dt.date:
    if isinstance(value, dt.datetime):
        return (value.astimezone(tz) if timezone.is_aware(value) else value).date()
    return value


def _bucket(value: Any, tz: ZoneInfo) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = value.astimezone(tz)
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _bucket_end(start: dt.date, grain: str) -> dt.date:
    """The first day after the bucket starting at ``start``."""
    if grain == "day":
        return start + dt.timedelta(days=1)
    if grain == "week":
        return start + dt.timedelta(days=7)
    months = 1 if grain == "month" else 3
    month = start.month - 1 + months
    return dt.date(start.year + month // 12, month % 12 + 1, 1)


def _number(measure: dict, value: Any) -> Any:
    if measure["agg"] in COUNTS:
        return int(value or 0)
    if value is None:
        return None
    if measure["money"]:
        return str(Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP))
    number = float(value)
    return round(number, 4)


def _as_decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value))


def _delta(value: Any, previous: Any, money: bool) -> dict:
    current, before = _as_decimal(value), _as_decimal(previous)
    change = None if current is None or before is None else current - before
    pct = None
    if change is not None and before:
        pct = float((change / abs(before) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))

    def shown(number):
        if number is None:
            return None
        if money:
            return str(number.quantize(CENT, rounding=ROUND_HALF_UP))
        return int(number) if number == number.to_integral_value() else float(number)

    return {"value": value, "previous": previous, "change": shown(change), "change_pct": pct}


def _labels(plan: _Plan, name: str, values: set) -> dict:
    """Readable names for group values: members' names, team names, choice labels."""
    f = plan.fields[name]
    values = {v for v in values if v is not None}
    if not values:
        return {}
    if f.kind == "user":
        from octopushx.accounts.models import User

        return {u.pk: (u.full_name or u.email) for u in User.objects.filter(pk__in=values)}
    if f.kind == "team":
        from octopushx.tenancy.models import Team

        return dict(Team.objects.filter(tenant=plan.tenant, pk__in=values).values_list("pk", "name"))
    if f.kind == "choice" and f.choices:
        return {k: v for k, v in f.choices if k in values}
    if f.kind == "bool":
        return {True: "Yes", False: "No"}
    return {}


def _jsonable(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _totals(plan: _Plan, qs, normal: dict, currency: str | None) -> dict:
    totals: dict[str, Any] = {}
    plain = [m for m in normal["measures"] if not (m["money"] and currency)]
    money = [m for m in normal["measures"] if m["money"] and currency]
    if plain:
        found = qs.aggregate(**{m["key"]: plan.aggregate(m) for m in plain})
        for m in plain:
            totals[m["key"]] = _number(m, found[m["key"]])
    if money:
        per_currency = qs.order_by().values(cur=F(currency)).annotate(**{m["key"]: plan.aggregate(m) for m in money})
        for m in money:
            totals[m["key"]] = {
                row["cur"]: _number(m, row[m["key"]]) for row in sorted(per_currency, key=lambda r: r["cur"])
            }
    return totals


def _scoped(tenant, membership, dataset: Dataset, plan: _Plan, normal: dict):
    base = dataset.rows(tenant, membership)  # PermissionDenied for roles that may not read it
    qs = plan.prepare(base)
    for f in normal["filters"]:
        qs = qs.filter(plan.condition(f["field"], f["op"], f["value"], plan.prepare(base)))
    return qs


def previous_period(period: dict) -> dict:
    days = (period["to"] - period["from"]).days + 1
    end = period["from"] - dt.timedelta(days=1)
    return {"field": period["field"], "from": end - dt.timedelta(days=days - 1), "to": end}


def _period_out(period: dict | None) -> dict | None:
    if period is None:
        return None
    return {"field": period["field"], "from": period["from"].isoformat(), "to": period["to"].isoformat()}


def _drilldown(plan: _Plan, filters: list[dict], period: dict | None) -> str | None:
    dataset = plan.dataset
    if dataset.list_url is None:
        return None
    all_filters = list(filters)
    if period is not None:
        all_filters += [
            {"field": period["field"], "op": "gte", "value": period["from"]},
            {"field": period["field"], "op": "lte", "value": period["to"]},
        ]
    shown = []
    for f in all_filters:  # a list that cannot express a filter (an "in", say) answers None itself
        field = plan.fields.get(f["field"])
        value = f["value"]
        if field is not None and field.kind == "datetime" and isinstance(value, dt.date):
            # days of the organisation's calendar, as instants the list compares with
            day = value.date() if isinstance(value, dt.datetime) else value
            if f["op"] in ("gte", "lt"):
                f = {**f, "value": plan._start_of(day)}
            elif f["op"] in ("lte", "gt"):
                f = {
                    **f,
                    "op": "lt" if f["op"] == "lte" else "gte",
                    "value": plan._start_of(day + dt.timedelta(days=1)),
                }
            else:
                return None
        shown.append(f)
    return dataset.list_url(shown)


def run(tenant, membership, spec: dict) -> dict:
    """Answer ``spec`` over the rows ``membership`` may see; see the module docstring for the shape."""
    normal = validate(tenant, spec)
    dataset = datasets.get(normal["dataset"])
    plan = _Plan(tenant, dataset, normal)
    currency = None
    if dataset.currency_field and any(m["money"] for m in normal["measures"]):
        currency = dataset.currency_field
    qs = _scoped(tenant, membership, dataset, plan, normal)
    current = qs.filter(plan.period_condition(**_period_args(normal["period"]))) if normal["period"] else qs

    for g in normal["group_by"]:
        if plan.needs_week_span(g):
            plan.find_week_span(g["field"], current)
    group_keys = [f"g{i}" for i in range(len(normal["group_by"]))]
    values = {key: plan.group_expression(g) for key, g in zip(group_keys, normal["group_by"], strict=True)}
    extra_keys: list[str] = []
    for key, g in zip(group_keys, normal["group_by"], strict=True):
        f = plan.fields[g["field"]]
        if not g["grain"] and f.label_expr:
            values[f"{key}_label"] = F(f.label_expr)
            extra_keys.append(f"{key}_label")
        if not g["grain"] and f.order_expr:
            values[f"{key}_order"] = F(f.order_expr)
            extra_keys.append(f"{key}_order")
    grouped_by_currency = currency and any(g["field"] == currency for g in normal["group_by"])
    if currency and not grouped_by_currency:
        values["cur"] = F(currency)

    rows: list[dict] = []
    if values:
        found = list(
            current.order_by().values(**values).annotate(**{m["key"]: plan.aggregate(m) for m in normal["measures"]})
        )
        labels = {
            key: _labels(plan, g["field"], {r[key] for r in found})
            for key, g in zip(group_keys, normal["group_by"], strict=True)
        }
        for r in found:
            row: dict[str, Any] = {}
            group_filters = []
            for key, g in zip(group_keys, normal["group_by"], strict=True):
                name = g["field"]
                raw = r[key]
                if g["grain"]:
                    shown = _bucket(raw, plan.tz)
                    row[name] = shown
                    row[f"{name}_label"] = shown
                    if shown is not None:
                        start = dt.date.fromisoformat(shown)
                        group_filters += [
                            {"field": name, "op": "gte", "value": start},
                            {"field": name, "op": "lt", "value": _bucket_end(start, g["grain"])},
                        ]
                else:
                    row[name] = _jsonable(raw)
                    label = r.get(f"{key}_label") if f"{key}_label" in r else labels[key].get(raw, raw)
                    row[f"{name}_label"] = _jsonable(label) if label is not None else None
                    if raw is not None:
                        group_filters.append({"field": name, "op": "eq", "value": raw})
                    else:
                        group_filters.append({"field": name, "op": "is_empty", "value": None})
                if f"{key}_order" in r:
                    row["_order_" + name] = r[f"{key}_order"]
            if "cur" in values:
                row["currency"] = r["cur"]
                group_filters.append({"field": currency, "op": "eq", "value": r["cur"]})
            for m in normal["measures"]:
                row[m["key"]] = _number(m, r[m["key"]])
            row["drilldown"] = _drilldown(plan, normal["filters"] + group_filters, normal["period"])
            rows.append(row)
        rows.sort(key=lambda row: _sort_key(row, normal))
        for row in rows:
            for g in normal["group_by"]:
                row.pop("_order_" + g["field"], None)
    totals = _totals(plan, current, normal, currency)

    previous = None
    deltas: dict[str, Any] = {}
    if normal["compare"] == "previous_period":
        before = previous_period(normal["period"])
        previous_totals = _totals(plan, qs.filter(plan.period_condition(**_period_args(before))), normal, currency)
        previous = {"period": _period_out(before), "totals": previous_totals}
        for m in normal["measures"]:
            now, then = totals[m["key"]], previous_totals[m["key"]]
            if isinstance(now, dict):
                missing = "0.00" if m["agg"] == "sum" else None  # no deals in a currency: a sum of nothing
                deltas[m["key"]] = {
                    cur: _delta(now.get(cur, missing), then.get(cur, missing), True)
                    for cur in sorted(set(now) | set(then))
                }
            else:
                deltas[m["key"]] = _delta(now, then, m["money"])

    columns = []
    for g in normal["group_by"]:
        f = plan.fields[g["field"]]
        label = f.label if not g["grain"] else f"{f.label} ({g['grain']})"
        columns.append({"key": g["field"], "label": label, "kind": "date" if g["grain"] else f.kind})
    if currency and not grouped_by_currency and values:
        columns.append({"key": "currency", "label": "Currency", "kind": "text"})
    for m in normal["measures"]:
        columns.append({"key": m["key"], "label": m["label"], "kind": "money" if m["money"] else "number"})

    return {
        "dataset": dataset.name,
        "columns": columns,
        "rows": rows,
        "totals": totals,
        "previous": previous,
        "deltas": deltas,
        "drilldown": _drilldown(plan, normal["filters"], normal["period"]),
        "filters": [{**f, "value": _jsonable_value(f["value"])} for f in normal["filters"]],
        "period": _period_out(normal["period"]),
        "generated_at": timezone.now().isoformat(),
        "time_zone": str(plan.tz),
    }


def _jsonable_value(value: Any) -> Any:
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return _jsonable(value)


def _period_args(period: dict) -> dict:
    return {"field": period["field"], "start": period["from"], "end": period["to"]}


def _sort_key(row: dict, normal: dict) -> tuple:
    key: list = []
    for g in normal["group_by"]:
        name = g["field"]
        value = row.get(name)
        order = row.get("_order_" + name)
        label = row.get(f"{name}_label")
        key.append((value is None, order if order is not None else 0, str(label if label is not None else "")))
    key.append(row.get("currency") or "")
    return tuple(key)
