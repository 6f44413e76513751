"""A small, dependency-free PDF writer for text documents (the records-of-processing export).

Plain PDF 1.4 with the standard Helvetica fonts: one text object per page, lines wrapped
by character count. Enough for a register; not a general layout engine.
"""

from __future__ import annotations

import textwrap

PAGE_WIDTH, PAGE_HEIGHT = 595, 842  # A4 in points
MARGIN = 56
LEADING = 14
WRAP = 95  # characters per line at 10 pt Helvetica within the margins


def _escape(text: str) -> str:
    text = text.encode("latin-1", "replace").decode("latin-1")
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def render(title: str, lines: list[tuple[str, str]]) -> bytes:
    """``lines`` are (style, text) with style ``h1``, ``h2`` or ``p``; returns the PDF bytes."""
    wrapped: list[tuple[str, str]] = [("h1", title), ("p", "")]
    for style, text in lines:
        width = WRAP if style == "p" else 60
        for part in textwrap.wrap(text, width) or [""]:
            wrapped.append((style, part))
    per_page = (PAGE_HEIGHT - 2 * MARGIN) // LEADING
    pages = [wrapped[i : i + per_page] for i in range(0, len(wrapped), per_page)] or [[]]

    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in below
    pages_id = add(b"")
    regular = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    bold = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")
    page_ids = []
    for number, page in enumerate(pages, start=1):
        ops = ["BT", f"{MARGIN} {PAGE_HEIGHT - MARGIN} Td", f"{LEADING} TL"]
        for style, text in page:
            font, size = {"h1": ("F2", 16), "h2": ("F2", 12)}.get(style, ("F1", 10))
            ops.append(f"/{font} {size} Tf ({_escape(text)}) Tj T*")
        ops.append(f"/F1 8 Tf 0 -{LEADING} Td (Page {number} of {len(pages)}) Tj")
        ops.append("ET")
        stream = "\n".join(ops).encode("latin-1")
        content = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        page_ids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %d %d] /Contents %d 0 R "
                b"/Resources << /Font << /F1 %d 0 R /F2 %d 0 R >> >> >>"
                % (pages_id, PAGE_WIDTH, PAGE_HEIGHT, content, regular, bold)
            )
        )
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id
    kids = b" ".join(b"%d 0 R" % p for p in page_ids)
    objects[pages_id - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(page_ids))

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for index, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % index + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, catalog, xref)
    return bytes(out)
