"""The platform's one PDF renderer (ReportLab): the document frame every product's PDF shares.

A document is a header (brand and organisation, title, a block of facts such as filters, period,
time zone and generation time) and a story of ReportLab flowables. Every page carries the brand,
the title and "Page n of m". Tables repeat their header row when they continue on the next page,
and every cell wraps its text, so nothing runs off the page.

Fonts: DejaVu Sans when the system has it (wide Unicode coverage), else Bitstream Vera, which
ships inside ReportLab (the same design, fewer glyphs). A character the font cannot draw is
replaced by its closest ASCII form rather than printed as an empty box.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as pdf_canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

PAGE = A4
MARGIN = 16 * mm
WIDTH = PAGE[0] - 2 * MARGIN  # the story's width
INK = colors.HexColor("#1d273b")
MUTED = colors.HexColor("#667382")
RULE = colors.HexColor("#dce1e7")
SHADE = colors.HexColor("#f6f8fb")
GOOD = colors.HexColor("#2f9e44")
BAD = colors.HexColor("#d63939")
DEFAULT_ACCENT = "#0f766e"
# The charts' colours after the organisation's accent: the same order as the pages' charts.
PALETTE = ["#f59f00", "#4263eb", "#d6336c", "#2f9e44", "#7048e8", "#1098ad", "#e8590c", "#495057"]

_FONT_DIRS = [Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu")]
_fonts: tuple[str, str] | None = None
_glyphs: set[int] = set()

# What to print for characters the font lacks (Vera has no minus sign, for instance).
_ASCII = {"\u2212": "-", "\u2011": "-", "\u2009": " ", "\u202f": " ", "\u00a0": " ", "\u2026": "...", "\u2713": "v"}


def fonts() -> tuple[str, str]:
    """Register the regular and bold font once; returns their names."""
    global _fonts
    if _fonts is not None:
        return _fonts
    import reportlab

    candidates = [(d / "DejaVuSans.ttf", d / "DejaVuSans-Bold.ttf") for d in _FONT_DIRS]
    bundled = Path(reportlab.__file__).parent / "fonts"
    candidates.append((bundled / "Vera.ttf", bundled / "VeraBd.ttf"))
    for regular, bold in candidates:
        if regular.exists() and bold.exists():
            pdfmetrics.registerFont(TTFont("OX-Regular", str(regular)))
            pdfmetrics.registerFont(TTFont("OX-Bold", str(bold)))
            pdfmetrics.registerFontFamily("OX", normal="OX-Regular", bold="OX-Bold")
            face = pdfmetrics.getFont("OX-Regular").face
            _glyphs.update(face.charToGlyph)
            _fonts = ("OX-Regular", "OX-Bold")
            return _fonts
    _fonts = ("Helvetica", "Helvetica-Bold")  # ReportLab without its fonts folder: Latin-1 only
    _glyphs.update(range(32, 256))
    return _fonts


def clean(text: object) -> str:
    """``text`` as the font can print it: missing glyphs become their ASCII form (or ``?``)."""
    fonts()
    out = []
    for char in str(text if text is not None else ""):
        if ord(char) in _glyphs or char in "\n\t":
            out.append(char)
        elif char in _ASCII:
            out.append(_ASCII[char])
        else:
            plain = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
            out.append(plain or "?")
    return "".join(out)


def markup(text: object) -> str:
    """Plain text made safe for a Paragraph (which reads a little XML)."""
    return escape(clean(text))


def width_of(text: str, size: float, bold: bool = False) -> float:
    regular, heavy = fonts()
    return pdfmetrics.stringWidth(clean(text), heavy if bold else regular, size)


def shorten(text: str, size: float, room: float, bold: bool = False) -> str:
    """``text`` cut with an ellipsis to fit ``room`` points (chart labels cannot wrap)."""
    text = clean(text)
    if width_of(text, size, bold) <= room:
        return text
    while text and width_of(text + "...", size, bold) > room:
        text = text[:-1]
    return text.rstrip() + "..."


@dataclass
class Styles:
    """The paragraph styles of every document, built on the registered fonts."""

    accent: colors.Color
    title: ParagraphStyle = field(init=False)
    h2: ParagraphStyle = field(init=False)
    h3: ParagraphStyle = field(init=False)
    body: ParagraphStyle = field(init=False)
    small: ParagraphStyle = field(init=False)
    muted: ParagraphStyle = field(init=False)
    cell: ParagraphStyle = field(init=False)
    cell_right: ParagraphStyle = field(init=False)
    cell_head: ParagraphStyle = field(init=False)
    cell_head_right: ParagraphStyle = field(init=False)
    kpi: ParagraphStyle = field(init=False)

    def __post_init__(self) -> None:
        regular, bold = fonts()
        base = ParagraphStyle("body", fontName=regular, fontSize=9.5, leading=13, textColor=INK)
        self.body = base
        self.title = ParagraphStyle("title", parent=base, fontName=bold, fontSize=20, leading=24, spaceAfter=2)
        self.h2 = ParagraphStyle("h2", parent=base, fontName=bold, fontSize=12.5, leading=16, spaceBefore=6)
        self.h3 = ParagraphStyle("h3", parent=base, fontName=bold, fontSize=10.5, leading=13.5)
        self.small = ParagraphStyle("small", parent=base, fontSize=8, leading=10.5)
        self.muted = ParagraphStyle("muted", parent=self.small, textColor=MUTED)
        self.cell = ParagraphStyle("cell", parent=base, fontSize=8.5, leading=10.5, alignment=TA_LEFT)
        self.cell_right = ParagraphStyle("cell_right", parent=self.cell, alignment=TA_RIGHT)
        self.cell_head = ParagraphStyle("cell_head", parent=self.cell, fontName=bold, textColor=MUTED)
        self.cell_head_right = ParagraphStyle("cell_head_right", parent=self.cell_head, alignment=TA_RIGHT)
        self.kpi = ParagraphStyle("kpi", parent=base, fontName=bold, fontSize=19, leading=23)


def color(value: str | None, default: str = DEFAULT_ACCENT) -> colors.Color:
    try:
        return colors.HexColor(value or default)
    except (ValueError, TypeError):
        return colors.HexColor(default)


def palette(accent: str | None) -> list[colors.Color]:
    return [color(accent), *(colors.HexColor(c) for c in PALETTE)]


@dataclass
class Header:
    """What the first page says above the content, and every page in its running head."""

    title: str
    organisation: str
    brand: str = "OctopushX"
    accent: str | None = None
    subtitle: str = ""
    facts: Sequence[tuple[str, str]] = ()  # ("Period", "1 Dec 2026 – 6 Dec 2026"), ("Time zone", …)
    footer: str = ""  # e.g. "Generated 6 Dec 2026, 09:00 Europe/London"


def data_table(
    styles: Styles,
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    numeric: Iterable[int] = (),
    emphasis_last: bool = False,
) -> list[Flowable]:
    """Tables that wrap every cell and repeat their header row on each page they continue on.

    ``numeric``: column indexes aligned right. ``emphasis_last``: the last row (a total) in bold.
    Widths follow the text, and no word is ever broken: when the columns cannot all fit across
    the page, they are split into several tables, each starting with the first (label) column.
    """
    right = set(numeric)
    header = [clean(h) for h in header]
    rows = [[clean("" if v is None else v) for v in row] for row in rows]
    least, wanted = _column_widths(styles, header, rows)
    groups = _column_groups(least)
    out: list[Flowable] = []
    for number, group in enumerate(groups):
        if number:
            out.append(Spacer(1, 3 * mm))
        out.append(_table(styles, header, rows, group, least, wanted, right, emphasis_last))
    return out


def _words_width(text: str, font: str, size: float) -> float:
    return max((pdfmetrics.stringWidth(word, font, size) for word in text.split()), default=0)


def _column_widths(styles: Styles, header, rows) -> tuple[list[float], list[float]]:
    """Per column: the least width (its longest word) and the wished width (its longest text)."""
    pad = 9
    least, wanted = [], []
    sample = rows[:300]
    for index, title in enumerate(header):
        cells = [row[index] for row in sample if index < len(row)]
        least.append(
            max(
                [_words_width(title, styles.cell_head.fontName, styles.cell_head.fontSize)]
                + [_words_width(c, styles.cell.fontName, styles.cell.fontSize) for c in cells]
            )
            + pad
        )
        wanted.append(
            min(
                max(
                    [pdfmetrics.stringWidth(title, styles.cell_head.fontName, styles.cell_head.fontSize)]
                    + [pdfmetrics.stringWidth(c, styles.cell.fontName, styles.cell.fontSize) for c in cells]
                )
                + pad,
                WIDTH * 0.45,
            )
        )
    if least:  # the label column wraps only when it must
        least[0] = max(least[0], min(wanted[0], WIDTH * 0.2))
    return least, wanted


def _column_groups(least: list[float]) -> list[list[int]]:
    """Columns in tables that fit the width, the first column repeated in each."""
    if sum(least) <= WIDTH or len(least) < 3:
        return [list(range(len(least)))]
    groups, current, used = [], [0], least[0]
    for index in range(1, len(least)):
        if used + least[index] > WIDTH and len(current) > 1:
            groups.append(current)
            current, used = [0], least[0]
        current.append(index)
        used += least[index]
    groups.append(current)
    return groups


def _table(styles: Styles, header, rows, columns, least, wanted, right, emphasis_last) -> Table:
    floor = sum(least[i] for i in columns)
    extra = max(WIDTH - floor, 0)
    hunger = [max(wanted[i] - least[i], 0) for i in columns]
    if sum(hunger) >= extra and sum(hunger):
        widths = [least[i] + extra * h / sum(hunger) for i, h in zip(columns, hunger, strict=True)]
    else:  # everything fits as wished: the label columns take what is left
        spare = extra - sum(hunger)
        labels = [i for i in columns if i not in right] or columns
        widths = [wanted[i] + (spare / len(labels) if i in labels else 0) if wanted[i] >= least[i] else least[i] for i in columns]  # fmt: skip
    scale = min(1.0, WIDTH / sum(widths)) if sum(widths) else 1.0
    widths = [w * scale for w in widths]

    def cell(text, index, style_left, style_right):
        return Paragraph(escape(text), style_right if index in right else style_left)

    head = [cell(header[i], i, styles.cell_head, styles.cell_head_right) for i in columns]
    body = [[cell(row[i] if i < len(row) else "", i, styles.cell, styles.cell_right) for i in columns] for row in rows]
    if emphasis_last and body:
        _, bold = fonts()
        left = ParagraphStyle("total", parent=styles.cell, fontName=bold)
        right_bold = ParagraphStyle("total_right", parent=styles.cell_right, fontName=bold)
        body[-1] = [cell(rows[-1][i] if i < len(rows[-1]) else "", i, left, right_bold) for i in columns]
    table = Table([head, *body], colWidths=widths, repeatRows=1, hAlign="LEFT")
    commands = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("VALIGN", (0, 0), (-1, 0), "BOTTOM"),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, INK),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
    ]
    commands += [("BACKGROUND", (0, r), (-1, r), SHADE) for r in range(2, len(body) + 1, 2)]
    if emphasis_last and body:
        commands.append(("LINEABOVE", (0, -1), (-1, -1), 0.8, INK))
    table.setStyle(TableStyle(commands))
    return table


def facts_table(styles: Styles, facts: Sequence[tuple[str, str]]) -> Table:
    """Label/value pairs (filters, period, time zone, generated at) as a quiet two-column block."""
    rows = [
        [Paragraph(markup(label), styles.cell_head), Paragraph(markup(value), styles.cell)] for label, value in facts
    ]
    table = Table(rows, colWidths=[WIDTH * 0.2, WIDTH * 0.8], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, -1), SHADE),
                ("TOPPADDING", (0, 0), (-1, -1), 2.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
                ("LEFTPADDING", (0, 0), (-1, -1), 6),
                ("BOX", (0, 0), (-1, -1), 0.25, RULE),
            ]
        )
    )
    return table


def _numbered_canvas(header: Header):
    """A canvas that draws the running head and "Page n of m" once the page count is known."""
    regular, bold = fonts()
    accent = color(header.accent)

    class NumberedCanvas(pdf_canvas.Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self):  # noqa: N802 (ReportLab's name)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._frame(total)
                super().showPage()
            super().save()

        def _frame(self, total: int) -> None:
            width, height = PAGE
            self.saveState()
            self.setFillColor(accent)
            self.rect(0, height - 5, width, 5, stroke=0, fill=1)
            top = height - MARGIN + 5 * mm
            self.setFont(bold, 8)
            self.setFillColor(accent)
            brand = clean(header.brand)
            self.drawString(MARGIN, top, brand)
            self.setFont(regular, 8)
            self.setFillColor(MUTED)
            rest = f"  {clean(header.organisation)}"
            self.drawString(MARGIN + pdfmetrics.stringWidth(brand, bold, 8), top, rest)
            if self._pageNumber > 1:
                self.drawRightString(width - MARGIN, top, shorten(header.title, 8, WIDTH * 0.55))
            self.setStrokeColor(RULE)
            self.setLineWidth(0.5)
            self.line(MARGIN, MARGIN - 4 * mm, width - MARGIN, MARGIN - 4 * mm)
            self.setFont(regular, 7.5)
            if header.footer:
                self.drawString(MARGIN, MARGIN - 8 * mm, shorten(header.footer, 7.5, WIDTH * 0.75))
            self.drawRightString(width - MARGIN, MARGIN - 8 * mm, f"Page {self._pageNumber} of {total}")
            self.restoreState()

    return NumberedCanvas


def heading_block(styles: Styles, header: Header) -> list[Flowable]:
    """The first page's title, subtitle and facts block."""
    out: list[Flowable] = [Paragraph(markup(header.title), styles.title)]
    if header.subtitle:
        out.append(Paragraph(markup(header.subtitle), styles.muted))
    out.append(Spacer(1, 4 * mm))
    if header.facts:
        out += [facts_table(styles, header.facts), Spacer(1, 5 * mm)]
    return out


def render(header: Header, story: Sequence[Flowable] | None = None, *, build=None) -> bytes:
    """The PDF of ``header`` followed by ``story``; or ``build(styles)`` returning the story."""
    styles = Styles(color(header.accent))
    content = list(story or []) if build is None else list(build(styles))
    handle = io.BytesIO()
    document = BaseDocTemplate(
        handle,
        pagesize=PAGE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN + 4 * mm,
        bottomMargin=MARGIN,
        title=clean(header.title),
        author=clean(header.organisation),
        creator=clean(header.brand),
    )
    # No frame padding: the story lines up with the running head and the footer.
    frame = Frame(MARGIN, MARGIN, WIDTH, PAGE[1] - 2 * MARGIN - 4 * mm, 0, 0, 0, 0, id="body")
    document.addPageTemplates([PageTemplate(id="page", frames=[frame])])
    document.build([*heading_block(styles, header), *content], canvasmaker=_numbered_canvas(header))
    return handle.getvalue()


def text_document(header: Header, lines: Iterable[tuple[str, str]]) -> bytes:
    """A plain text document: ``lines`` are (``h2`` | ``p``, text), for registers and summaries."""

    def build(styles: Styles) -> list[Flowable]:
        out: list[Flowable] = []
        for style, text in lines:
            if style in ("h1", "h2"):
                out.append(Paragraph(markup(text), styles.h2))
            elif text:
                out.append(Paragraph(markup(text), styles.body))
            else:
                out.append(Spacer(1, 3 * mm))
        return out

    return render(header, build=build)


__all__ = [
    "Header",
    "KeepTogether",
    "Paragraph",
    "Spacer",
    "Styles",
    "clean",
    "data_table",
    "facts_table",
    "markup",
    "palette",
    "render",
    "shorten",
    "text_document",
    "width_of",
]
