"""Stored spreadsheet files (CSV or XLSX) searched and rewritten for a data-subject request.

``person_rows`` lists the rows of a file that name the person (for the access archive);
``rewrite`` returns the file without them: ``drop`` removes the rows (a row about the
person), ``overwrite`` keeps each row in its place with every filled cell replaced by
``[erased]`` (so row numbers quoted elsewhere, such as an import's error report or a paused
import's progress, stay true), ``scrub`` keeps the row and replaces only the cells' mentions
of the person (a company or a deal that names them).
"""

from __future__ import annotations

import codecs
import csv
import io

from octopushx.shield.privacy.subjects import ERASED, Markers

XLSX_MAGIC = b"PK\x03\x04"
MODES = ("drop", "overwrite", "scrub")


def is_xlsx(data: bytes, filename: str = "") -> bool:
    return data[:4] == XLSX_MAGIC or filename.lower().endswith((".xlsx", ".xlsm"))


def _decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(first, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _csv_rows(data: bytes) -> tuple[list[list[str]], str]:
    text = _decode(data)
    delimiter = _delimiter(text)
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)), delimiter


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def person_rows(data: bytes, filename: str, markers: Markers) -> list[dict]:
    """The rows naming the person: ``{"row": number, "values": {header: value}}`` (header is row 1)."""
    found = []
    for sheet, rows in _sheets(data, filename):
        header = [_cell(v) for v in rows[0]] if rows else []
        for number, row in enumerate(rows[1:], start=2):
            cells = [_cell(v) for v in row]
            if markers.row_matches(cells):
                values = {(header[i] if i < len(header) and header[i] else f"column {i + 1}"): cell
                          for i, cell in enumerate(cells) if cell}  # fmt: skip
                found.append({"row": number, **({"sheet": sheet} if sheet else {}), "values": values})
    return found


def names_person(data: bytes, filename: str, markers: Markers) -> bool:
    return any(markers.row_matches([_cell(v) for v in row]) for _s, rows in _sheets(data, filename) for row in rows)


def _sheets(data: bytes, filename: str) -> list[tuple[str, list[list]]]:
    if is_xlsx(data, filename):
        from openpyxl import load_workbook

        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        many = len(workbook.worksheets) > 1
        sheets = [(sheet.title if many else "", [list(r) for r in sheet.iter_rows(values_only=True)])
                  for sheet in workbook.worksheets]  # fmt: skip
        workbook.close()
        return sheets
    rows, _delimiter = _csv_rows(data)
    return [("", rows)]


def _erased_cell(cell: str, markers: Markers, mode: str) -> str:
    if not cell.strip():
        return cell
    if mode == "overwrite":
        return ERASED
    scrubbed = markers.scrub(cell)
    # A name split over two columns: each part alone names nobody, together they do.
    parts = {part for name in markers.names for part in name.split(" ", 1)}
    return ERASED if " ".join(scrubbed.lower().split()) in parts else scrubbed


def rewrite(data: bytes, filename: str, markers: Markers, *, mode: str = "drop") -> tuple[bytes, int]:
    """The file without the person's rows, and how many rows changed (0: ``data`` unchanged)."""
    if mode not in MODES:
        raise ValueError(f"mode is one of {', '.join(MODES)}")
    if is_xlsx(data, filename):
        return _rewrite_xlsx(data, markers, mode)
    rows, delimiter = _csv_rows(data)
    kept, changed = rows[:1], 0
    for row in rows[1:]:
        if markers.row_matches(row):
            changed += 1
            if mode != "drop":
                kept.append([_erased_cell(cell, markers, mode) for cell in row])
            continue
        kept.append(row)
    if not changed:
        return data, 0
    buffer = io.StringIO()
    buffer.write("\ufeff")
    csv.writer(buffer, delimiter=delimiter).writerows(kept)
    return buffer.getvalue().encode("utf-8"), changed


def _rewrite_xlsx(data: bytes, markers: Markers, mode: str) -> tuple[bytes, int]:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data))
    changed = 0
    for sheet in workbook.worksheets:
        matching = [
            index
            for index, row in enumerate(sheet.iter_rows(min_row=2), start=2)
            if markers.row_matches([_cell(c.value) for c in row])
        ]
        for index in reversed(matching):
            if mode == "drop":
                sheet.delete_rows(index)
            else:
                for cell in sheet[index]:
                    if cell.value not in (None, ""):
                        erased = _erased_cell(_cell(cell.value), markers, mode)
                        if erased != _cell(cell.value):
                            cell.value = erased
        changed += len(matching)
    if not changed:
        return data, 0
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), changed
