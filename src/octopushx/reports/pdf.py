"""Dashboards and saved reports as PDF, drawn server-side from the numbers the pages show.

A dashboard's PDF is ``dashboards.build`` (ready slugs and custom dashboards alike) turned into
cards by ``presentation.card``, exactly as the page does, then drawn: numbers with their delta
against the previous period, charts (``reportlab.graphics``) with the table of the same numbers
under them, tables that continue across pages. A saved report's PDF runs its spec for the
viewer (``services.report_data``) and shows its chart and every row.

The header states what the numbers are: period (and the period compared with), filters, whose
view they are (the viewer's role scoping), the time zone of dates and weeks, and when the file
was generated. Nothing is cached: every call renders from the database as it is now.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.charts.piecharts import Pie
from reportlab.graphics.shapes import Drawing, Line, String
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, KeepTogether, Paragraph, Spacer, Table, TableStyle

from octopushx.core import pdf
from octopushx.reports import dashboards, presentation, services
from octopushx.tenancy.roles import Role, Scope, scope_of

MAX_BARS = 25  # categories drawn in one chart; the table under it lists them all
MAX_POINTS = 120  # points of a chart over time (weeks of two years)
SCOPE_TEXT = {
    Scope.OWN: "only their own records",
    Scope.TEAM: "their team's records",
    Scope.ALL: "the whole organisation's records",
}


# --- the header -------------------------------------------------------------------------------


def _zone(name: str | None) -> zoneinfo.ZoneInfo | None:
    try:
        return zoneinfo.ZoneInfo(name) if name else None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def generated_text(moment: datetime, data_zone: zoneinfo.ZoneInfo, viewer_zone: str | None = None) -> str:
    """``6 Dec 2026, 09:00 Europe/London`` (and the viewer's own clock when it differs)."""
    local = moment.astimezone(data_zone)
    text = f"{local:%-d %b %Y, %H:%M} {data_zone}"
    other = _zone(viewer_zone)
    if other is not None and str(other) != str(data_zone):
        theirs = moment.astimezone(other)
        text += f" ({theirs:%-d %b %Y, %H:%M} {other})"
    return text


def prepared_for(membership) -> str:
    """Whose numbers these are: the viewer and what their role counts."""
    user = membership.user
    role = Role(membership.role)
    return f"{user.full_name or user.email} ({role.label}): counts {SCOPE_TEXT[scope_of(role)]}"


def week_start(tenant) -> str:
    """The organisation's first day of the week, as a word (Monday when it has no such setting)."""
    return str(getattr(tenant, "week_start", "") or "monday").capitalize()


def _brand(tenant) -> tuple[str, str]:
    return getattr(tenant, "brand", "OctopushX"), getattr(tenant, "accent", pdf.DEFAULT_ACCENT)


# --- numbers and charts -----------------------------------------------------------------------


def _number(value) -> float:
    try:
        return float(Decimal(str(value))) if value not in (None, "") else 0.0
    except (InvalidOperation, ValueError):
        return 0.0


def _axis_label(kind: str):
    return lambda value: pdf.clean(presentation.fmt(value, kind if kind != "money" else "number"))


def _date_labels(texts: list[str]) -> list[str]:
    """``7 Dec`` for days and weeks; ``Dec 2026`` when every bucket starts a month (months, quarters)."""
    try:
        days = [date.fromisoformat(text) for text in texts]
    except ValueError:
        return texts
    if len(days) > 1 and all(d.day == 1 for d in days) and all((b - a).days >= 28 for a, b in zip(days, days[1:], strict=False)):  # fmt: skip
        return [f"{d:%b %Y}" for d in days]
    return [f"{d:%-d %b}" for d in days]


class _Chart(Flowable):
    """A ReportLab drawing as a flowable that keeps its aspect inside the story's width."""

    def __init__(self, drawing: Drawing):
        super().__init__()
        self.drawing = drawing
        self.width, self.height = drawing.width, drawing.height

    def wrap(self, available_width, available_height):
        return self.width, self.height

    def draw(self):
        self.drawing.drawOn(self.canv, 0, 0)


def chart_drawing(chart: dict, accent: str | None) -> Drawing | None:
    """The chart of ``presentation.chart_data`` (bar, line, stacked bar, pie, funnel) as a drawing."""
    labels, series = list(chart["labels"]), chart["series"]
    if not labels or not series:
        return None
    limit = MAX_POINTS if chart.get("dates") else MAX_BARS
    if len(labels) > limit:
        labels = labels[:limit]
        series = [{**s, "values": s["values"][:limit]} for s in series]
    if chart.get("dates"):
        labels = _date_labels(labels)
    colours = pdf.palette(accent)
    kind = chart.get("kind", "number")
    view = chart.get("type")
    if view == "pie":
        if len(series) > 1:  # two groupings: the first one's totals (the page's inner ring)
            totals = [sum(_number(s["values"][i]) for s in series) for i in range(len(labels))]
            return _pie(labels, {"name": "", "values": totals}, colours, kind)
        return _pie(labels, series[0], colours, kind)
    if view in ("line",) and chart.get("dates"):
        return _vertical(labels, series, colours, kind, line=True)
    if chart.get("dates"):
        return _vertical(labels, series, colours, kind, stacked=view == "stacked_bar")
    return _horizontal(labels, series, colours, kind, stacked=view == "stacked_bar", ordered=view == "funnel")


def _integer_steps(axis, series) -> None:
    """Counts get whole-number ticks (no "0.50 deals")."""
    values = [_number(v) for s in series for v in s["values"]]
    if values and all(float(v).is_integer() for v in values):
        top = max(values + [1])
        if top <= 10:
            axis.valueStep = 1 if top <= 6 else 2
            axis.valueMax = top if top <= 6 else top + top % 2


def _legend(drawing: Drawing, names: Sequence[str], colours, x: float, y: float, columns: int) -> float:
    """A legend under a chart; returns the height it takes."""
    if len(names) < 2:
        return 0
    regular, _ = pdf.fonts()
    legend = Legend()
    legend.x, legend.y = x, y
    legend.fontName, legend.fontSize = regular, 7.5
    legend.alignment = "right"
    legend.boxAnchor = "nw"
    legend.columnMaximum = max(1, -(-len(names) // columns))
    legend.dx, legend.dy = 7, 7
    legend.deltax = (pdf.WIDTH - x) / columns
    legend.dxTextSpace = 4
    legend.strokeWidth = 0
    room = legend.deltax - 20
    legend.colorNamePairs = [(colours[i % len(colours)], pdf.shorten(name, 7.5, room)) for i, name in enumerate(names)]
    drawing.add(legend)
    return legend.columnMaximum * 10 + 4


def _horizontal(labels, series, colours, kind, *, stacked=False, ordered=False) -> Drawing:
    """Bars across: room for long category names (owners, stages), the first category on top."""
    regular, _ = pdf.fonts()
    rows = len(labels)
    per_row = 13 if stacked or len(series) == 1 else 6 + 7 * len(series)
    plot_height = max(rows * per_row, 40)
    longest = max(pdf.width_of(label, 7.5) for label in labels)
    label_room = min(max(longest + 6, 50), pdf.WIDTH * 0.32)
    names = [s["name"] for s in series]
    legend_rows = -(-len(names) // 3) if len(names) > 1 else 0
    legend_height = legend_rows * 10 + (8 if legend_rows else 0)
    height = plot_height + 22 + legend_height
    drawing = Drawing(pdf.WIDTH, height)
    bars = HorizontalBarChart()
    bars.x, bars.y = label_room, 14 + legend_height
    bars.width = pdf.WIDTH - label_room - (48 if not stacked and len(series) == 1 else 12)
    bars.height = plot_height
    # ReportLab draws the first category at the bottom: reverse, so the list reads top-down.
    bars.data = [[_number(v) for v in reversed(s["values"])] for s in series]
    bars.categoryAxis.categoryNames = [pdf.shorten(label, 7.5, label_room - 6) for label in reversed(labels)]
    bars.categoryAxis.labels.fontName, bars.categoryAxis.labels.fontSize = regular, 7.5
    bars.categoryAxis.labels.boxAnchor = "e"
    bars.categoryAxis.labels.dx = -3
    bars.categoryAxis.visibleTicks = False
    bars.categoryAxis.strokeColor = pdf.RULE
    if stacked:
        bars.categoryAxis.style = "stacked"
    bars.valueAxis.valueMin = 0
    bars.valueAxis.labels.fontName, bars.valueAxis.labels.fontSize = regular, 7
    bars.valueAxis.labelTextFormat = _axis_label(kind)
    bars.valueAxis.visibleGrid = True
    bars.valueAxis.gridStrokeColor = pdf.RULE
    bars.valueAxis.gridStrokeWidth = 0.4
    bars.valueAxis.strokeColor = pdf.RULE
    bars.valueAxis.maximumTicks = 6
    if not stacked:
        _integer_steps(bars.valueAxis, series)
    bars.barSpacing, bars.groupSpacing = 1, 4
    bars.bars.strokeWidth = 0
    bars.bars.strokeColor = None
    for index in range(len(series)):
        bars.bars[index].fillColor = colours[index % len(colours)]
    if not stacked and len(series) == 1:
        bars.barLabelFormat = _axis_label(kind)
        bars.barLabels.fontName, bars.barLabels.fontSize = regular, 7
        bars.barLabels.boxAnchor = "w"
        bars.barLabels.dx = 3
        bars.barLabels.fillColor = pdf.INK
    drawing.add(bars)
    _legend(drawing, names, colours, label_room, legend_height, 3)
    return drawing


def _vertical(labels, series, colours, kind, *, stacked=False, line=False) -> Drawing:
    """Columns or a line over time (weeks, months): dates under the axis, thinned when crowded."""
    regular, _ = pdf.fonts()
    names = [s["name"] for s in series]
    legend_rows = -(-len(names) // 3) if len(names) > 1 else 0
    legend_height = legend_rows * 10 + (8 if legend_rows else 0)
    rotate = len(labels) > 10
    axis_room = 30 if rotate else 16
    plot_height = 62 * mm
    drawing = Drawing(pdf.WIDTH, plot_height + axis_room + legend_height + 8)
    plot = HorizontalLineChart() if line else VerticalBarChart()
    plot.x, plot.y = 40, axis_room + legend_height
    plot.width, plot.height = pdf.WIDTH - 48, plot_height
    plot.data = [[_number(v) for v in s["values"]] for s in series]
    every = max(1, -(-len(labels) // 16))
    plot.categoryAxis.categoryNames = [label if i % every == 0 else "" for i, label in enumerate(labels)]
    plot.categoryAxis.labels.fontName, plot.categoryAxis.labels.fontSize = regular, 7
    if rotate:
        plot.categoryAxis.labels.angle = 45
        plot.categoryAxis.labels.boxAnchor = "ne"
    else:
        plot.categoryAxis.labels.boxAnchor = "n"
    plot.categoryAxis.labels.dy = -2
    plot.categoryAxis.strokeColor = pdf.RULE
    plot.categoryAxis.visibleTicks = False
    plot.valueAxis.valueMin = 0
    plot.valueAxis.labels.fontName, plot.valueAxis.labels.fontSize = regular, 7
    plot.valueAxis.labelTextFormat = _axis_label(kind)
    plot.valueAxis.visibleGrid = True
    plot.valueAxis.gridStrokeColor = pdf.RULE
    plot.valueAxis.gridStrokeWidth = 0.4
    plot.valueAxis.strokeColor = pdf.RULE
    plot.valueAxis.maximumTicks = 6
    if not stacked:
        _integer_steps(plot.valueAxis, series)
    if line:
        plot.joinedLines = 1
        for index in range(len(series)):
            plot.lines[index].strokeColor = colours[index % len(colours)]
            plot.lines[index].strokeWidth = 1.6
    else:
        if stacked:
            plot.categoryAxis.style = "stacked"
        plot.bars.strokeWidth = 0
        plot.bars.strokeColor = None
        plot.barSpacing, plot.groupSpacing = 1, max(2, 40 // max(len(labels), 1))
        for index in range(len(series)):
            plot.bars[index].fillColor = colours[index % len(colours)]
    drawing.add(plot)
    _legend(drawing, names, colours, 40, legend_height, 3)
    return drawing


def _pie(labels, series, colours, kind) -> Drawing:
    """A donut with a legend of names, values and shares beside it (no labels over the slices)."""
    values = [_number(v) for v in series["values"]]
    total = sum(values) or 1
    size = 46 * mm
    rows = max(len(labels), 1)
    height = max(size + 8, rows * 12 + 8)
    drawing = Drawing(pdf.WIDTH, height)
    pie = Pie()
    pie.x, pie.y = 4, height - size - 4
    pie.width = pie.height = size
    pie.data = values
    pie.labels = None
    pie.innerRadiusFraction = 0.55
    pie.slices.strokeColor = colors.white
    pie.slices.strokeWidth = 1
    for index in range(len(values)):
        pie.slices[index].fillColor = colours[index % len(colours)]
    drawing.add(pie)
    regular, _ = pdf.fonts()
    legend = Legend()
    legend.x, legend.y = size + 18, height - 6
    legend.boxAnchor = "nw"
    legend.fontName, legend.fontSize = regular, 8
    legend.alignment = "right"
    legend.columnMaximum = rows
    legend.dx, legend.dy, legend.deltay = 8, 8, 12
    legend.strokeWidth = 0
    room = pdf.WIDTH - size - 60
    legend.colorNamePairs = [
        (
            colours[i % len(colours)],
            pdf.shorten(f"{label}: {presentation.fmt(value, kind)} ({value / total * 100:.0f} %)", 8, room),
        )
        for i, (label, value) in enumerate(zip(labels, values, strict=False))
    ]
    drawing.add(legend)
    return drawing


def talk_ratio_drawing(coaching: dict, accent: str | None) -> Drawing | None:
    """Each agent's talk ratio as a bar, with the top sellers' share (Gong's 43 %) as a dashed line."""
    rows = [(row["raw"].get("agent") or "", row["raw"].get("talk_ratio")) for row in coaching["rows"]]
    rows = [(name, value) for name, value in rows if value is not None][:MAX_BARS]
    if not rows:
        return None
    drawing = _horizontal(
        [name for name, _ in rows],
        [{"name": "Talk ratio", "values": [value for _, value in rows]}],
        pdf.palette(accent),
        "percent",
    )
    bars = next(item for item in drawing.contents if isinstance(item, HorizontalBarChart))
    bars.valueAxis.valueMax = max(1.0, max(_number(v) for _, v in rows))
    bars.valueAxis.valueMin = 0
    marker = 0.43
    x = bars.x + bars.width * marker / bars.valueAxis.valueMax
    drawing.add(Line(x, bars.y, x, bars.y + bars.height, strokeColor=pdf.BAD, strokeDashArray=[3, 2], strokeWidth=0.8))
    regular, _ = pdf.fonts()
    drawing.add(
        String(x + 2, bars.y + bars.height + 3, "Top sellers 43 %", fontName=regular, fontSize=7, fillColor=pdf.BAD)
    )
    drawing.height += 8
    return drawing


# --- cards ------------------------------------------------------------------------------------

NUMERIC_KINDS = presentation.MEASURE_KINDS


def _meta(card: dict) -> str:
    when = "Now" if card["period_text"] == "Now" else f"{card['period_label']} ({card['period_text']})"
    parts = [when]
    if card.get("compared"):
        parts.append(f"compared with {card['compared']}")
    if card.get("help"):
        parts.append(card["help"])
    return " · ".join(parts)


def _hex(colour) -> str:
    return "#" + colour.hexval()[2:]


def _delta_markup(delta: dict | None) -> str:
    if not delta:
        return ""
    tone = {"good": pdf.GOOD, "bad": pdf.BAD}.get(delta["tone"], pdf.MUTED)
    return (
        f'<font color="{_hex(tone)}">{pdf.markup(delta["text"])}</font> '
        f'<font color="{_hex(pdf.MUTED)}">was {pdf.markup(delta["previous"])}</font>'
    )


def _kpi_tile(styles: pdf.Styles, card: dict) -> list[Flowable]:
    """A number with its delta; the period is the document's (stated in its header) unless "Now"."""
    meta = " · ".join(part for part in ("Now" if card["period_text"] == "Now" else "", card.get("help", "")) if part)
    out: list[Flowable] = [Paragraph(pdf.markup(card["title"]), styles.h3)]
    if meta:
        out.append(Paragraph(pdf.markup(meta), styles.muted))
    if card.get("unavailable"):
        out.append(Paragraph(pdf.markup(card["unavailable"]), styles.muted))
        return out
    for value in card["number"]["values"]:
        unit = f' <font size="10">{pdf.markup(value["unit"])}</font>' if value.get("unit") else ""
        out.append(Spacer(1, 2))
        out.append(Paragraph(pdf.markup(value["text"]) + unit, styles.kpi))
        if value.get("delta"):
            out.append(Paragraph(_delta_markup(value["delta"]), styles.small))
    return out


def _kpi_row(styles: pdf.Styles, cards: list[dict]) -> list[Flowable]:
    """Number widgets side by side, three to a row."""
    out: list[Flowable] = []
    for start in range(0, len(cards), 3):
        chunk = cards[start : start + 3]
        cells = [_kpi_tile(styles, card) for card in chunk]
        cells += [[] for _ in range(3 - len(cells))]
        table = Table([cells], colWidths=[pdf.WIDTH / 3] * 3, hAlign="LEFT")
        commands = [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 7),
            ("RIGHTPADDING", (0, 0), (-1, -1), 7),
            ("TOPPADDING", (0, 0), (-1, -1), 6),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
        ]
        commands += [("BOX", (i, 0), (i, 0), 0.5, pdf.RULE) for i in range(len(chunk))]
        table.setStyle(TableStyle(commands))
        out += [table, Spacer(1, 4 * mm)]
    return out


def _card_table(styles: pdf.Styles, card: dict) -> list[Flowable]:
    """The numbers under a chart: a grid (first dimension down, second across) when the widget is
    split by a second dimension with few values, else the rows as the page's table lists them."""
    table = card.get("table")
    if not table or not table["rows"]:
        return []
    chart = card.get("chart")
    if chart and len(chart["series"]) > 1 and len(chart["series"]) <= 6 and chart.get("dates") is not None:
        dimensions = [c for c in table["columns"] if c["kind"] not in NUMERIC_KINDS and c["key"] != "currency"]
        if len(dimensions) == 2:
            return _pivot(styles, dimensions[0]["label"], chart)
    columns = table["columns"]
    numeric = [i for i, c in enumerate(columns) if c["kind"] in NUMERIC_KINDS]
    rows = [[cell["text"] for cell in row["cells"]] for row in table["rows"]]
    return pdf.data_table(styles, [c["label"] for c in columns], rows, numeric=numeric)


def _pivot(styles: pdf.Styles, first: str, chart: dict) -> list[Flowable]:
    kind = chart["kind"]
    names = [s["name"] for s in chart["series"]]
    rows = []
    for index, label in enumerate(chart["labels"]):
        values = [s["values"][index] for s in chart["series"]]
        total = sum(_number(v) for v in values)
        rows.append([label, *(presentation.fmt(v, kind) if v is not None else "" for v in values), presentation.fmt(total, kind)])  # fmt: skip
    totals = [sum(_number(s["values"][i]) for i in range(len(chart["labels"]))) for s in chart["series"]]
    rows.append(["Total", *(presentation.fmt(t, kind) for t in totals), presentation.fmt(sum(totals), kind)])
    header = [first, *names, "Total"]
    return pdf.data_table(styles, header, rows, numeric=range(1, len(header)), emphasis_last=True)


def _coaching_table(styles: pdf.Styles, coaching: dict) -> list[Flowable]:
    columns = coaching["columns"]
    numeric = [i for i, c in enumerate(columns) if c["kind"] in NUMERIC_KINDS]
    rows = []
    for row in coaching["rows"]:
        rows.append([cell["text"] + (" *" if cell.get("flag") == "above" else "") for cell in row["cells"]])
    rows.append([cell["text"] for cell in coaching["team"]])
    small = pdf.Styles(styles.accent)
    for name in ("cell", "cell_right", "cell_head", "cell_head_right"):
        style = getattr(small, name)
        style.fontSize, style.leading = 7.5, 9.5
    return pdf.data_table(small, [c["label"] for c in columns], rows, numeric=numeric, emphasis_last=True)


def card_flowables(styles: pdf.Styles, card: dict, accent: str | None) -> list[Flowable]:
    """One widget: its title and period, then its chart and numbers."""
    head = [Paragraph(pdf.markup(card["title"]), styles.h2), Paragraph(pdf.markup(_meta(card)), styles.muted), Spacer(1, 2 * mm)]  # fmt: skip
    if card.get("unavailable"):
        return [KeepTogether([*head, Paragraph(pdf.markup(card["unavailable"] + "."), styles.body)]), Spacer(1, 5 * mm)]
    if card.get("coaching"):
        coaching = card["coaching"]
        if not coaching["rows"]:
            return [KeepTogether([*head, Paragraph("No calls in this period.", styles.body)]), Spacer(1, 5 * mm)]
        note = Paragraph(
            pdf.markup(f"* talk ratio above {coaching['marker']}, the share Gong publishes for top sellers."),
            styles.muted,
        )
        drawing = talk_ratio_drawing(coaching, accent)
        first = [*head, _Chart(drawing), Spacer(1, 3 * mm)] if drawing else head
        return [KeepTogether(first), *_coaching_table(styles, coaching), note, Spacer(1, 6 * mm)]
    drawing = chart_drawing(card["chart"], accent) if card.get("chart") else None
    table = _card_table(styles, card)
    if not table:
        empty = "None right now." if card["period_text"] == "Now" else "Nothing in this period."
        return [KeepTogether([*head, Paragraph(empty, styles.body)]), Spacer(1, 5 * mm)]
    out: list[Flowable] = []
    if drawing is not None:
        out.append(KeepTogether([*head, _Chart(drawing), Spacer(1, 3 * mm)]))
        limit = MAX_POINTS if card["chart"].get("dates") else MAX_BARS
        if len(card["chart"]["labels"]) > limit:
            out.append(Paragraph(f"The chart shows the first {limit}; the table lists all.", styles.muted))
    else:
        out.append(CondPageBreak(40 * mm))
        out += head
    out += [*table, Spacer(1, 6 * mm)]
    return out


# --- documents --------------------------------------------------------------------------------


def dashboard_header(tenant, membership, board: dict, period: dashboards.Period, moment, viewer_zone=None):
    zone = dashboards.org_zone(tenant)
    brand, accent = _brand(tenant)
    previous = period.previous()
    return pdf.Header(
        title=f"{board['title']} dashboard",
        organisation=tenant.name,
        brand=brand,
        accent=accent,
        subtitle=f"{period.label}: {period.text()}",
        facts=[
            (
                "Period",
                f"{period.label}, {period.text()}; changes are against {previous.text()}. Widgets marked Now show the state when generated.",
            ),  # fmt: skip
            ("Filters", "Each widget's own, stated under its title; no other filter."),
            ("Prepared for", prepared_for(membership)),
            ("Time zone", f"{zone}: dates, days and weeks (weeks start on {week_start(tenant)})"),
            ("Generated", generated_text(moment, zone, viewer_zone)),
        ],
        footer=f"{board['title']} dashboard · {period.text()} · generated {generated_text(moment, zone)}",
    )


def dashboard_pdf(tenant, membership, key: str, period=None, *, viewer_zone: str | None = None) -> bytes:
    """The dashboard ``key`` (a ready slug or a custom dashboard's id) for ``membership``, as PDF.

    Raises ``Http404`` / ``PermissionDenied`` exactly as ``dashboards.build`` does.
    """
    chosen = period if isinstance(period, dashboards.Period) else dashboards.resolve_period(tenant, period)
    board = dashboards.build(tenant, membership, key, chosen)
    moment = timezone.now()
    as_of = moment.astimezone(dashboards.org_zone(tenant))
    cards = [presentation.card(widget, chosen, as_of) for widget in board["widgets"]]
    header = dashboard_header(tenant, membership, board, chosen, moment, viewer_zone)

    def build(styles: pdf.Styles) -> list[Flowable]:
        story: list[Flowable] = []
        numbers: list[dict] = []
        for card in cards:
            if card["view"] == "number":
                numbers.append(card)
                continue
            if numbers:
                story += _kpi_row(styles, numbers)
                numbers = []
            story += card_flowables(styles, card, header.accent)
        if numbers:
            story += _kpi_row(styles, numbers)
        if not cards:
            story.append(Paragraph("This dashboard has no widgets yet.", styles.body))
        return story

    return pdf.render(header, build=build)


def report_header(tenant, membership, report, result: dict, moment, viewer_zone=None) -> pdf.Header:
    zone = dashboards.org_zone(tenant)
    brand, accent = _brand(tenant)
    block = {line[0]: line[1] for line in services.header_block(report.name, result) if line}
    return pdf.Header(
        title=report.name,
        organisation=tenant.name,
        brand=brand,
        accent=accent,
        subtitle=f"Saved report · {block['Dataset']}",
        facts=[
            ("Dataset", block["Dataset"]),
            ("Filters", block["Filters"]),
            ("Period", block["Period"]),
            ("Prepared for", prepared_for(membership)),
            ("Time zone", block["Time zone"]),
            ("Generated", generated_text(moment, zone, viewer_zone)),
        ],
        footer=f"{report.name} · generated {generated_text(moment, zone)}",
    )


def report_pdf(tenant, membership, report, *, viewer_zone: str | None = None) -> bytes:
    """A saved report run for ``membership``: its chart (or number) and every row, as PDF."""
    result = services.report_data(tenant, membership, report)
    moment = timezone.now()
    header = report_header(tenant, membership, report, result, moment, viewer_zone)
    widget = {"key": "report", "title": report.name, "view": report.view, "data": result}

    def build(styles: pdf.Styles) -> list[Flowable]:
        story: list[Flowable] = []
        if report.view == "number":
            period = result.get("period")
            when = f"{period['from']} to {period['to']}" if period else "All time"
            card = {"title": report.name, "period_text": when, "period_label": "Period", "help": ""}
            story += _kpi_row(styles, [{**card, "number": presentation.number_card(widget)}])
        chart = presentation.chart_data(widget) if report.view != "number" else None
        if chart and report.view != "table":
            drawing = chart_drawing(chart, header.accent)
            if drawing is not None:
                story += [_Chart(drawing), Spacer(1, 4 * mm)]
        dimensions = [c for c in result["columns"] if c["kind"] not in NUMERIC_KINDS and c["key"] != "currency"]
        if chart and len(dimensions) == 2 and 1 < len(chart["series"]) <= 6:
            story += _pivot(styles, dimensions[0]["label"], chart)
            return story
        head, rows = services.table(result)
        numeric = [i for i, c in enumerate(result["columns"]) if c["kind"] in NUMERIC_KINDS]
        shown = [[_cell(value, result["columns"][i]["kind"]) for i, value in enumerate(row)] for row in rows]
        story += pdf.data_table(styles, head, shown, numeric=numeric)
        if not result["rows"]:
            story.append(Paragraph("Totals over every matching record.", styles.muted))
        return story

    return pdf.render(header, build=build)


def _cell(value, kind: str) -> str:
    if isinstance(value, dict):  # money per currency
        return "; ".join(f"{presentation.fmt(amount, 'money')} {currency}" for currency, amount in value.items())
    if kind in NUMERIC_KINDS:
        return presentation.fmt(value, kind)
    return "None" if value in (None, "") else str(value)
