"""The whole organisation as one streamed ZIP: a CSV per table, every stored file decrypted, a manifest.

Nothing is held in memory beyond one chunk: the archive is written to a sink the generator
empties after every piece (``zipfile`` writes data descriptors when it cannot seek back), so
the web process streams it straight to the client and the CLI straight to a file. The
manifest comes last, once every file's row count, size and sha256 are known.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import hashlib
import io
import json
import re
import uuid
import zipfile
from collections.abc import Iterable, Iterator

from django.utils import timezone

from octopushx.core import blobs, crypto
from octopushx.core.models import Blob
from octopushx.shield.offboarding.tables import Table, tenant_tables

FORMAT = "octopushx-organization-export/1"
ROWS_PER_CHUNK = 500

README = """Export of the organisation {name} ({id}), made {at} by {by}.

tables/<app>.<model>.csv   one file per table: every row of the organisation, one column per field
                           (UTF-8, a header row; lists and objects as JSON, times in ISO 8601 UTC)
tables/accounts.user.csv   the members' accounts (no password hashes)
files/<id>/<name>          every stored file (recordings, imports, exports, logos), decrypted;
                           the row of the same id in tables/core.blob.csv describes it
manifest.json              every file of this archive with its row count, size and sha256

Left out on purpose: secrets (hashes of API tokens, invitation and download links, workflow
signing secrets, sealed telephony credentials) and the organisation's encryption key.
"""


class _Sink(io.RawIOBase):
    """A write-only, unseekable file whose contents the generator takes after each write."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        data = bytes(data)
        self._parts.append(data)
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat() if timezone.is_aware(value) else value.isoformat()
    if isinstance(value, (dt.date, dt.time, uuid.UUID, decimal.Decimal)):
        return str(value) if not isinstance(value, (dt.date, dt.time)) else value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    if isinstance(value, (bytes, memoryview)):
        return ""
    return str(value)


def _safe_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name or "").strip("._")
    return cleaned[:100] or "file"


def _csv_lines(header: list[str], rows: Iterable[tuple]) -> Iterator[tuple[bytes, int]]:
    """Encoded CSV in pieces of up to ROWS_PER_CHUNK rows, with the number of rows in each."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    count = 0
    for row in rows:
        writer.writerow([_cell(value) for value in row])
        count += 1
        if count == ROWS_PER_CHUNK:
            yield buffer.getvalue().encode(), count
            buffer.seek(0)
            buffer.truncate()
            count = 0
    yield buffer.getvalue().encode(), count


class _Archive:
    def __init__(self) -> None:
        self.sink = _Sink()
        self.zip = zipfile.ZipFile(self.sink, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True)
        self.entries: list[dict] = []

    def add(
        self, path: str, pieces: Iterable[bytes | tuple[bytes, int]], *, stored: bool = False, **info
    ) -> Iterator[bytes]:
        """Write one member from ``pieces`` (bytes, or (bytes, rows) for tables), yielding output."""
        digest = hashlib.sha256()
        size = rows = 0
        item = zipfile.ZipInfo(path, date_time=timezone.now().timetuple()[:6])
        item.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
        entry = {"path": path, **info}
        with self.zip.open(item, "w", force_zip64=True) as handle:
            try:
                for piece in pieces:
                    if isinstance(piece, tuple):
                        piece, counted = piece
                        rows += counted
                    digest.update(piece)
                    size += len(piece)
                    handle.write(piece)
                    yield self.sink.take()
            except (OSError, crypto.IntegrityError) as exc:
                # A missing or damaged stored file must not end the whole export; the manifest says so.
                entry["error"] = f"could not be read: {type(exc).__name__}"
        if "rows" in info or rows:
            entry["rows"] = rows
        entry.update({"bytes": size, "sha256": digest.hexdigest()})
        self.entries.append(entry)
        yield self.sink.take()

    def close(self) -> Iterator[bytes]:
        self.zip.close()
        yield self.sink.take()


def _table_rows(table: Table, org) -> tuple[list[str], Iterable[tuple]]:
    fields = table.exported_fields()
    header = [f.attname for f in fields]
    queryset = table.rows(org).order_by(*([table.model._meta.pk.attname] if table.model._meta.pk else []))
    return header, queryset.values_list(*header).iterator(chunk_size=2000)


def _user_rows(org) -> tuple[list[str], Iterable[tuple]]:
    from django.contrib.auth import get_user_model

    header = ["id", "email", "full_name", "is_active", "date_joined", "last_login", "time_zone"]
    users = get_user_model().objects.filter(memberships__tenant_id=org.pk).distinct().order_by("email")
    return header, users.values_list(*header).iterator(chunk_size=2000)


def _organization_rows(org) -> tuple[list[str], Iterable[tuple]]:
    fields = [f.attname for f in org._meta.concrete_fields]
    return fields, [tuple(getattr(org, name) for name in fields)]


def stream(org, *, generated_by: str) -> Iterator[bytes]:
    """The bytes of the organisation's export ZIP, piece by piece."""
    archive = _Archive()
    now = timezone.now()
    readme = README.format(name=org.name, id=org.pk, at=now.isoformat(), by=generated_by).encode()
    yield from archive.add("README.txt", [readme], kind="readme")
    omitted: dict[str, list[str]] = {}
    yield from archive.add(
        "tables/tenancy.organization.csv",
        _csv_lines(*_organization_rows(org)),
        kind="table",
        table="tenancy.organization",
        rows=0,
    )
    yield from archive.add(
        "tables/accounts.user.csv", _csv_lines(*_user_rows(org)), kind="table", table="accounts.user", rows=0
    )
    for table in tenant_tables():
        if table.omitted_fields():
            omitted[table.label] = table.omitted_fields()
        header, rows = _table_rows(table, org)
        yield from archive.add(
            f"tables/{table.label}.csv", _csv_lines(header, rows), kind="table", table=table.label, rows=0
        )
    for blob in Blob.objects.filter(tenant_id=org.pk).order_by("created_at", "id").iterator(chunk_size=200):
        yield from archive.add(
            f"files/{blob.pk}/{_safe_name(blob.filename)}",
            blobs.read(blob),
            stored=True,
            kind="file",
            blob_id=str(blob.pk),
            purpose=blob.purpose,
            content_type=blob.content_type,
        )
    manifest = {
        "format": FORMAT,
        "organization": {"id": str(org.pk), "name": org.name, "kind": org.kind},
        "generated_at": now.isoformat(),
        "generated_by": generated_by,
        "files": archive.entries,
        "omitted_fields": omitted,
    }
    yield from archive.add(
        "manifest.json", [json.dumps(manifest, indent=2, ensure_ascii=False).encode()], kind="manifest"
    )
    yield from archive.close()


def filename(org) -> str:
    return f"{_safe_name(org.name)}-export-{timezone.now():%Y%m%d-%H%M}.zip"
