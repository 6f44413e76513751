"""Reading an uploaded table: CSV in any of the usual encodings and separators, or XLSX."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator

from django.conf import settings
from django.core.exceptions import ValidationError

MAX_BYTES = getattr(settings, "CRM_IMPORT_MAX_BYTES", 100 * 1024 * 1024)


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 (BOM or obvious zero bytes) or Windows-1252."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    head = data[:4096]
    if head and head.count(b"\x00") > len(head) // 4:
        for encoding in ("utf-16-le", "utf-16-be"):
            try:
                text = data.decode(encoding)
                if "\x00" not in text[:1000]:
                    return text
            except UnicodeDecodeError:
                continue
    if b"\x00" in head:
        raise ValidationError({"file": ["This is not a text file: upload a CSV or an XLSX workbook"]})
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _looks_binary(text: str) -> bool:
    sample = text[:4096]
    controls = sum(1 for c in sample if ord(c) < 32 and c not in "\r\n\t")
    return bool(sample) and controls > len(sample) // 50


def read_table(data: bytes, filename: str = "") -> tuple[list[str], Iterator[list[str]]]:
    """The header and an iterator of rows (lists of stripped strings), blank lines dropped."""
    if data[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm")):
        return _read_xlsx(data)
    text = decode(data)
    if _looks_binary(text):
        raise ValidationError({"file": ["This is not a text file: upload a CSV or an XLSX workbook"]})
    sample = text[:20000]
    try:
        dialect = csv.Sniffer().sniff(sample.split("\n", 1)[0] if "\n" in sample else sample, delimiters=",;\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = (row for row in reader)
    return _header_and_rows(rows)


def _read_xlsx(data: bytes) -> tuple[list[str], Iterator[list[str]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        raise ValidationError({"file": ["This XLSX workbook cannot be read; save it again or export it as CSV"]})
    sheet = workbook.worksheets[0]

    def cells() -> Iterator[list[str]]:
        for row in sheet.iter_rows(values_only=True):
            values = [
                ""
                if v is None
                else (
                    v.isoformat()[:10]
                    if hasattr(v, "isoformat")
                    else str(int(v))
                    if isinstance(v, float) and v.is_integer()
                    else str(v)
                )
                for v in row
            ]
            while values and values[-1] == "":
                values.pop()
            yield values

    return _header_and_rows(cells())


def _header_and_rows(rows: Iterator[list[str]]) -> tuple[list[str], Iterator[list[str]]]:
    iterator = iter(rows)
    header: list[str] = []
    for row in iterator:
        if any(cell.strip() for cell in row):
            header = [cell.strip().lstrip("\ufeff") for cell in row]
            break
    if not header:
        raise ValidationError({"file": ["The file is empty"]})
    while header and not header[-1]:
        header.pop()

    def data_rows() -> Iterator[list[str]]:
        for row in iterator:
            if any(str(cell).strip() for cell in row):
                yield [str(cell).strip() for cell in row]

    return header, data_rows()
