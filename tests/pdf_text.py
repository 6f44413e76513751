"""The text of a PDF the platform renders (ReportLab subsets its fonts, so the bytes are not searchable)."""

from __future__ import annotations

import io


def pdf_text(body: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)
