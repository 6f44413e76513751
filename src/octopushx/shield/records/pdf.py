"""Text documents as PDF (the records-of-processing register, a call's shared summary), drawn by the
platform's one PDF renderer (``core.pdf``, ReportLab): the same frame, fonts and page numbers as
every other PDF the platform makes."""

from __future__ import annotations

from octopushx.core import pdf


def render(title: str, lines: list[tuple[str, str]], *, organisation: str = "", brand: str = "OctopushX") -> bytes:
    """``lines`` are (style, text) with style ``h1``, ``h2`` or ``p``; returns the PDF bytes."""
    return pdf.text_document(pdf.Header(title=title, organisation=organisation, brand=brand), lines)
