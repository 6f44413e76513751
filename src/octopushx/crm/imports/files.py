"""Reading an uploaded table: CSV in any common encoding and separator, or XLSX, within limits.

The limits (``OCTOPUSHX_IMPORT_*``) are checked while reading, so a file past one stops with a
clear message at the cap instead of being read to the end: a few hundred KB of XLSX can hold
millions of empty rows.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import zipfile
from collections.abc import Iterator

from django.conf import settings
from django.core.exceptions import ValidationError

MAX_BYTES = settings.CRM_IMPORT_MAX_BYTES
MAX_UNCOMPRESSED_BYTES = settings.CRM_IMPORT_MAX_UNCOMPRESSED_BYTES
MAX_ROWS = settings.CRM_IMPORT_MAX_ROWS
MAX_CELL_CHARS = settings.CRM_IMPORT_MAX_CELL_CHARS

# The csv module's own cell limit (131,072) ends the read with an error that names no cell; the
# file is in memory already, so let it read any cell and check the length here, with row and column.
csv.field_size_limit(max(csv.field_size_limit(), MAX_BYTES))

ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 (with BOM)",
    "utf-16": "UTF-16",
    "utf-16-le": "UTF-16",
    "utf-16-be": "UTF-16",
    "cp1252": "Windows-1252 (Western European)",
    "cp1250": "Windows-1250 (Central European)",
    "cp1251": "Windows-1251 (Cyrillic)",
    "cp932": "Shift-JIS (Japanese)",
    "shift_jis": "Shift-JIS (Japanese)",
    "euc_jp": "EUC-JP (Japanese)",
    "gb18030": "GB18030 (Chinese)",
    "big5": "Big5 (Chinese)",
    "euc_kr": "EUC-KR (Korean)",
    "cp949": "EUC-KR (Korean)",
    "koi8_r": "KOI8-R (Cyrillic)",
    "latin_1": "ISO-8859-1 (Latin-1)",
    "iso8859_15": "ISO-8859-15 (Latin-9)",
}
UNSURE = (
    "We cannot tell which character encoding this file uses, so its text could be imported garbled. "
    "Save it as \u201cCSV UTF-8\u201d (Excel: Save As \u2192 CSV UTF-8) and upload it again."
)
NOT_TEXT = "This is not a text file: upload a CSV or an XLSX workbook"


def encoding_label(encoding: str) -> str:
    return ENCODING_NAMES.get(encoding, encoding) if encoding else ""


def decode(data: bytes) -> tuple[str, str]:
    """The text and the encoding it was read with: a BOM, UTF-16 by its zero bytes, UTF-8, or the
    encoding ``charset-normalizer`` finds; a file it cannot tell is refused rather than garbled."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace"), "utf-16"
    head = data[:4096]
    if head and head.count(b"\x00") > len(head) // 4:
        for encoding in ("utf-16-le", "utf-16-be"):
            try:
                text = data.decode(encoding)
                if "\x00" not in text[:1000]:
                    return text, encoding
            except UnicodeDecodeError:
                continue
    if b"\x00" in head:
        raise ValidationError({"file": [NOT_TEXT]})
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    encoding = _detect(data)
    try:
        return data.decode(encoding), encoding
    except (UnicodeDecodeError, LookupError):
        raise ValidationError({"file": [UNSURE]})


def _detect(data: bytes) -> str:
    from charset_normalizer import from_bytes

    # A sample is enough to tell, and keeps a 100 MB file quick; the whole file must then decode.
    sample = data[:262144]
    results = list(from_bytes(sample))
    if not results:
        raise ValidationError({"file": [UNSURE]})
    best = min(results, key=lambda r: r.chaos)
    if best.chaos > 0.2:
        raise ValidationError({"file": [UNSURE]})
    # Western European text reads the same in several single-byte code pages; Windows-1252 is the
    # one spreadsheets write, so it wins a tie.
    for result in results:
        if result.encoding == "cp1252" and result.chaos <= best.chaos + 0.01:
            return "cp1252"
    return best.encoding


def _looks_binary(text: str) -> bool:
    sample = text[:4096]
    controls = sum(1 for c in sample if ord(c) < 32 and c not in "\r\n\t")
    return bool(sample) and controls > len(sample) // 50


class Table:
    """The header and the data rows of a file (stripped strings, blank rows dropped).

    Iterating checks the limits: at most ``MAX_ROWS`` rows read (blank ones count too, since they
    cost as much to read) and no cell over ``MAX_CELL_CHARS`` characters; either stops the read
    with a ``ValidationError`` that says where.
    """

    def __init__(self, headers: list[str], raw_rows: Iterator[list], encoding: str = "", line=None):
        self.headers = headers
        self.encoding = encoding
        self.rows_read = 0
        self.finished = False
        self.stop_after = 0  # when set, stop quietly after reading this many rows (a request's sample)
        self._raw = raw_rows
        self._line = line  # the csv reader's line counter, to place a broken CSV row

    def __iter__(self) -> Iterator[list[str]]:
        number = 1
        limit = MAX_ROWS
        try:
            for row in self._raw:
                if self.stop_after and self.rows_read >= self.stop_after:
                    return
                self.rows_read += 1
                if self.rows_read > limit:
                    raise ValidationError(
                        {"file": [f"The file has more than {limit:,} rows (empty rows count too); split it"]}
                    )
                cells = [str(cell).strip() for cell in row]
                if not any(cells):
                    continue
                number += 1
                longest = max(map(len, cells))
                if longest > MAX_CELL_CHARS:
                    index = next(i for i, cell in enumerate(cells) if len(cell) == longest)
                    column = self.headers[index] if index < len(self.headers) else f"#{index + 1}"
                    raise ValidationError(
                        {
                            "file": [
                                f"Row {number}, column {column!r}: a cell of {longest:,} characters; "
                                f"at most {MAX_CELL_CHARS:,} are accepted"
                            ]
                        }
                    )
                yield cells
        except csv.Error as exc:
            where = f"line {self._line()}" if self._line else f"row {number + 1}"
            raise ValidationError({"file": [f"The CSV cannot be read at {where}: {exc}"]})
        self.finished = True


def open_table(data: bytes, filename: str = "") -> Table:
    """The file's header and its rows, read lazily."""
    if data[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm")):
        return _open_xlsx(data)
    text, encoding = decode(data)
    if _looks_binary(text):
        raise ValidationError({"file": [NOT_TEXT]})
    sample = text[:20000]
    try:
        dialect = csv.Sniffer().sniff(sample.split("\n", 1)[0] if "\n" in sample else sample, delimiters=",;\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = _header(reader)
    except csv.Error as exc:
        raise ValidationError({"file": [f"The CSV's header cannot be read: {exc}"]})
    return Table(header, reader, encoding, line=lambda: reader.line_num)


def read_table(data: bytes, filename: str = "") -> tuple[list[str], Iterator[list[str]]]:
    """The header and an iterator of rows (lists of stripped strings), blank lines dropped."""
    table = open_table(data, filename)
    return table.headers, iter(table)


def _open_xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        expanded = sum(item.file_size for item in zipfile.ZipFile(io.BytesIO(data)).infolist())
    except (zipfile.BadZipFile, ValueError):
        raise ValidationError({"file": ["This XLSX workbook cannot be read; save it again or export it as CSV"]})
    if expanded > MAX_UNCOMPRESSED_BYTES:
        raise ValidationError(
            {
                "file": [
                    f"This workbook unpacks to {expanded // (1024 * 1024):,} MB, more than the "
                    f"{MAX_UNCOMPRESSED_BYTES // (1024 * 1024):,} MB accepted; delete its empty rows or export it as CSV"
                ]
            }
        )
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        raise ValidationError({"file": ["This XLSX workbook cannot be read; save it again or export it as CSV"]})
    sheet = workbook.worksheets[0]

    def cells() -> Iterator[list[str]]:
        for row in sheet.iter_rows(values_only=True):
            values = [_cell_text(v) for v in row]
            while values and values[-1] == "":
                values.pop()
            yield values

    rows = cells()
    return Table(_header(rows), rows)


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        # A date cell comes back as midnight of that day: write it as the date alone.
        if not (value.hour or value.minute or value.second):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return str(value)


def _header(rows: Iterator[list]) -> list[str]:
    header: list[str] = []
    for scanned, row in enumerate(rows):
        if any(str(cell).strip() for cell in row):
            header = [str(cell).strip().lstrip("\ufeff") for cell in row]
            break
        if scanned >= 10000:
            break
    if not header:
        raise ValidationError({"file": ["The file is empty"]})
    while header and not header[-1]:
        header.pop()
    return header
