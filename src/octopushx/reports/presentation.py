"""A widget's data (the metric layer's result shape) as a card reads it: a number with its delta,
chart data for ``static/reports/charts.js`` (each point with the URL of the records behind it) and
a table of the same numbers with the same links."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

MEASURE_KINDS = ("number", "money", "percent", "seconds")
# Neither good nor bad news either way: their delta stays grey.
NEUTRAL = {"avg_duration", "calls"}
# A rise in these is bad news: their delta reads red when it goes up.
LOWER_IS_BETTER = {
    "sales_cycle",
    "tasks_overdue",
    "privacy_open",
    "privacy_due_soon",
    "privacy_overdue",
    "privacy_fulfil",
}


def _number(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def fmt(value: Any, kind: str = "number") -> str:
    """``0.412`` → ``41 %`` for percentages, ``83.2`` → ``1:23`` for seconds, grouped thousands otherwise."""
    number = _number(value)
    if number is None:
        return "—" if value is None else str(value)
    if kind == "percent":
        return f"{number * 100:.0f} %"
    if kind == "seconds":
        if number < 60:
            return f"{number:.1f} s"
        whole = int(number)
        return f"{whole // 60}:{whole % 60:02d}"
    if kind == "money":
        return f"{number:,.2f}"
    if number == number.to_integral_value():
        return f"{number:,.0f}"
    if abs(number) < 10:  # 9.1 days, not 9.10; 2.25 keeps its second place
        return f"{number:,.2f}".rstrip("0").rstrip(".")
    return f"{number:,.1f}"


def _measures(data: dict) -> list[dict]:
    return [c for c in data.get("columns", []) if c["kind"] in MEASURE_KINDS and c["key"] != "currency"]


def _dimensions(data: dict) -> list[dict]:
    return [c for c in data.get("columns", []) if c["kind"] not in MEASURE_KINDS and c["key"] != "currency"]


def _label(row: dict, key: str) -> str:
    label = row.get(f"{key}_label", row.get(key))
    return "None" if label in (None, "") else str(label)


def _delta(widget_key: str, delta: dict | None, kind: str) -> dict | None:
    if not delta or delta.get("change") in (None, ""):
        return None
    change = _number(delta["change"])
    if change is None:
        return None
    sign = "+" if change > 0 else "−" if change < 0 else "±"
    good = (change < 0) if widget_key in LOWER_IS_BETTER else (change > 0)
    pct = delta.get("change_pct")
    shown_kind = kind if kind != "money" else "money"
    if kind == "percent":
        text = f"{sign}{abs(change) * 100:.0f} pts"
    else:
        text = f"{sign}{fmt(abs(change), shown_kind)}"
    if pct not in (None, "") and kind != "percent":
        text += f" ({sign}{abs(_number(pct)):.0f} %)"
    if change == 0:
        text = "no change"
    return {
        "text": text,
        "tone": "neutral" if change == 0 or widget_key in NEUTRAL else ("good" if good else "bad"),
        "icon": "ti-arrow-up-right" if change > 0 else "ti-arrow-down-right" if change < 0 else "ti-equal",
        "previous": fmt(delta.get("previous"), kind),
    }


def _tone_key(widget: dict) -> str:
    """The ready widget a card shows (its key on a ready dashboard; ``ready_key`` on a custom one)."""
    return widget.get("ready_key") or widget["key"]


def number_card(widget: dict) -> dict:
    data = widget["data"]
    measures = _measures(data)
    if not measures:
        return {"values": []}
    column = measures[0]
    total = data.get("totals", {}).get(column["key"])
    delta = (data.get("deltas") or {}).get(column["key"])
    if isinstance(total, dict):  # money per currency
        values = [
            {
                "text": fmt(amount, column["kind"]),
                "unit": currency,
                "delta": _delta(_tone_key(widget), (delta or {}).get(currency), column["kind"]),
            }
            for currency, amount in total.items()
        ] or [{"text": "0", "unit": "", "delta": None}]
    else:
        values = [
            {"text": fmt(total, column["kind"]), "unit": "", "delta": _delta(_tone_key(widget), delta, column["kind"])}
        ]
    return {"values": values, "measure": column["label"]}


def chart_data(widget: dict) -> dict | None:
    """Labels, series and one URL per point, for the chart script."""
    data = widget["data"]
    rows = data.get("rows") or []
    measures, dimensions = _measures(data), _dimensions(data)
    if not measures or not dimensions or not rows:
        return None
    measure = measures[0]
    x_key = dimensions[0]["key"]
    labels: list[str] = []
    for row in rows:
        label = _label(row, x_key)
        if label not in labels:
            labels.append(label)
    if len(dimensions) > 1:
        split = lambda row: _label(row, dimensions[1]["key"])  # noqa: E731
    elif "currency" in (rows[0] or {}):
        split = lambda row: row.get("currency") or ""  # noqa: E731
    else:
        split = lambda row: measure["label"]  # noqa: E731
    names: list[str] = []
    for row in rows:
        if split(row) not in names:
            names.append(split(row))
    series = []
    for name in names:
        values: list[float | None] = [None] * len(labels) if len(names) > 1 else [0] * len(labels)
        urls: list[str | None] = [None] * len(labels)
        for row in rows:
            if split(row) != name:
                continue
            index = labels.index(_label(row, x_key))
            number = _number(row.get(measure["key"]))
            values[index] = float(number) if number is not None else None
            urls[index] = row.get("drilldown")
        series.append({"name": name, "values": values, "urls": urls})
    if not any(value for line in series for value in line["values"]):
        return None  # nothing but zeros: the table says so without a chart of empty shapes
    chart = {
        "type": widget["view"],
        "title": widget["title"],
        "kind": measure["kind"],
        "measure": measure["label"],
        "labels": labels,
        "series": series,
        "dates": dimensions[0]["kind"] == "date",
    }
    return chart


def table(widget: dict) -> dict:
    """Every column and row of the result, numbers formatted, each row linked to its records."""
    data = widget["data"]
    columns = [c for c in data.get("columns", []) if c["key"] != "agent_id"]
    body = []
    for row in data.get("rows") or []:
        cells = []
        for column in columns:
            key = column["key"]
            if column["kind"] in MEASURE_KINDS:
                cells.append({"text": fmt(row.get(key), column["kind"]), "numeric": True, "key": key})
            else:
                cells.append({"text": _label(row, key), "numeric": False, "key": key})
        body.append({"cells": cells, "url": row.get("drilldown"), "raw": row})
    if not body and not _dimensions(data) and data.get("totals"):
        # no dimension: one row of totals (money per currency)
        cells = []
        for column in columns:
            total = data["totals"].get(column["key"])
            if isinstance(total, dict):
                text = "; ".join(f"{fmt(v, column['kind'])} {k}" for k, v in total.items()) or "0"
            else:
                text = fmt(total, column["kind"])
            cells.append({"text": text, "numeric": True, "key": column["key"]})
        body.append({"cells": cells, "url": data.get("drilldown"), "raw": data["totals"]})
    return {"columns": columns, "rows": body}


def coaching(widget: dict) -> dict:
    """The agents' table with the team average row and Gong's 43 % talk share marked."""
    data = widget["data"]
    base = table(widget)
    marker = (data.get("marker") or {}).get("talk_ratio")
    for row in base["rows"]:
        talk = _number(row["raw"].get("talk_ratio"))
        for cell in row["cells"]:
            if cell["key"] == "talk_ratio" and talk is not None and marker is not None:
                cell["flag"] = "above" if talk > Decimal(str(marker)) else "within"
    team = (data.get("totals") or {}).get("team_average") or {}
    team_cells = []
    for column in base["columns"]:
        if column["kind"] in MEASURE_KINDS:
            team_cells.append(
                {"text": fmt(team.get(column["key"]), column["kind"]), "numeric": True, "key": column["key"]}
            )
        else:
            team_cells.append({"text": "Team average", "numeric": False, "key": column["key"]})
    base["team"] = team_cells
    base["marker"] = fmt(marker, "percent") if marker is not None else None
    return base


def period_text(widget: dict, period) -> str:
    key = widget["period"]["key"]
    if key == "now":
        return "Now"
    if key == "all":
        return "All time"
    return f"{widget['period']['label']} ({period.text()})"


def card(widget: dict, period, as_of) -> dict:
    data = widget["data"]
    out = {
        "key": widget["key"],
        "title": widget["title"],
        "view": widget["view"],
        "help": " · ".join(part for part in (widget.get("help", ""), data.get("note", "")) if part),
        "size": widget.get("size", "md"),
        "period_text": period.text() if widget["period"]["key"] != "now" else "Now",
        "period_label": widget["period"]["label"],
        "period_line": period_text(widget, period),
        "as_of": as_of,
        "drilldown": widget.get("drilldown"),
        "chart_id": f"chart-{widget['key']}",
        "compared": period.previous().text() if (data.get("deltas")) else "",
    }
    if data.get("unavailable"):
        out["unavailable"] = data["unavailable"]
    elif widget["view"] == "number" or (widget["view"] != "table" and not _dimensions(data) and _measures(data)):
        # a report without a dimension is one number whatever view it was saved with
        out["number"] = number_card(widget)
    elif _tone_key(widget) == "agents":
        out["coaching"] = coaching(widget)
    else:
        out["table"] = table(widget)
        if widget["view"] != "table":
            out["chart"] = chart_data(widget)
        if widget.get("source") == "report" and data.get("deltas"):
            # a saved report compared with the period before: its total and change above the chart
            out["headline"] = number_card(widget)
    return out


def summary(widget: dict) -> list[dict]:
    """Every measure's total with its change against the previous period (the builder's headline)."""
    data = widget["data"]
    out = []
    for column in _measures(data):
        one = {**widget, "data": {**data, "columns": [column]}}
        card = number_card(one)
        out.append({"label": column["label"], "values": card["values"]})
    return out
