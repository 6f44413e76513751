"""Contact import from CSV or XLSX: decode, map columns, validate every row, write in chunks.

A row is validated completely before anything is written, and each chunk of rows is
written in one transaction together with the import's progress counters, so a retried
job resumes after the last committed row and never half-imports a row. Rejected rows go
to a downloadable error report (an encrypted blob).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from octopushx.core import audit, blobs, events, jobs, maintenance
from octopushx.core.context import Actor
from octopushx.crm.imports.files import MAX_BYTES, decode, read_table
from octopushx.crm.imports.mapping import SYNONYMS, TARGETS, auto_mapping, clean_mapping
from octopushx.crm.imports.rows import Row, RowCleaner
from octopushx.crm.imports.writer import COMPANY_DEFAULTS, CONTACT_DEFAULTS, Writer, _error_report
from octopushx.crm.models import Import, ImportStatus, ObjectType

__all__ = [
    "COMPANY_DEFAULTS",
    "CONTACT_DEFAULTS",
    "MATCH_KEYS",
    "MAX_BYTES",
    "ON_MATCH",
    "SYNONYMS",
    "TARGETS",
    "Row",
    "RowCleaner",
    "Writer",
    "auto_mapping",
    "clean_mapping",
    "create",
    "decode",
    "preview",
    "progress",
    "read_table",
    "run",
    "run_import",
    "start",
]

CHUNK = 1000
MATCH_KEYS = ("email", "phone", "external_id")
ON_MATCH = ("update", "skip")
SAMPLE_ROWS = 10


# --- creating an import ------------------------------------------------------------


def create(
    tenant,
    actor: Actor,
    *,
    file,
    filename: str = "",
    object_type: str = "contacts",
    match_on: str = "email",
    on_match: str = "update",
    mapping: Any = None,
    start: bool = True,
) -> Import:
    """Check and store the upload; with ``start`` the job is queued at once (the API), otherwise
    the import waits for the user to confirm the mapping (the web page)."""
    errors: dict[str, list[str]] = {}
    if object_type not in ("contacts", "contact"):
        errors["object"] = ["Only contacts can be imported"]
    if match_on not in MATCH_KEYS:
        errors["match_on"] = [f"One of {', '.join(MATCH_KEYS)}"]
    if on_match not in ON_MATCH:
        errors["on_match"] = ["update or skip"]
    if isinstance(mapping, str) and mapping.strip():
        try:
            mapping = json.loads(mapping)
        except ValueError:
            errors["mapping"] = ["Not valid JSON"]
    elif isinstance(mapping, str):
        mapping = None
    if file is None:
        errors["file"] = ["Attach a CSV or XLSX file"]
    if errors:
        raise ValidationError(errors)
    size = getattr(file, "size", None)
    if size is not None and size > MAX_BYTES:
        raise ValidationError({"file": [f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it"]})
    data = file.read(MAX_BYTES + 1) if hasattr(file, "read") else bytes(file)
    if len(data) > MAX_BYTES:
        raise ValidationError({"file": [f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it"]})
    headers, rows = read_table(data, filename)
    if len(set(headers)) != len(headers) or any(not h for h in headers):
        raise ValidationError({"file": ["Every column needs a distinct name in the header row"]})
    sample = []
    total = 0
    for row in rows:
        if len(sample) < SAMPLE_ROWS:
            sample.append(row)
        total += 1
    if total == 0:
        raise ValidationError({"file": ["The file has a header but no data rows"]})
    clean = clean_mapping(tenant, headers, mapping)
    blob = blobs.store(tenant, data, filename=filename or "import.csv", content_type="text/csv", purpose="crm-import")
    with transaction.atomic():
        record = Import.objects.create(
            tenant=tenant,
            object_type=ObjectType.CONTACT,
            filename=(filename or "")[:255],
            file=blob,
            match_on=match_on,
            on_match=on_match,
            mapping=clean,
            headers=headers,
            sample=sample,
            total=total,
            status=ImportStatus.QUEUED if start else ImportStatus.PENDING,
            created_by=actor.user,
        )
        audit.record(
            tenant,
            actor,
            "import.created",
            obj=record,
            changes={"filename": [None, record.filename], "rows": [None, total], "match_on": [None, match_on]},
        )
        if start:
            _submit(record)
    record.refresh_from_db()
    return record


def _submit(record: Import) -> None:
    job = jobs.submit(
        "crm.import", tenant=record.tenant, payload={"import_id": str(record.pk)}, dedupe_key=f"crm.import:{record.pk}"
    )
    Import.objects.filter(pk=record.pk).update(job=job, status=ImportStatus.QUEUED)


def start(tenant, actor: Actor, record: Import, *, mapping: dict, match_on: str, on_match: str) -> Import:
    """Confirm the mapping of a pending import and queue it."""
    if record.status != ImportStatus.PENDING:
        raise ValidationError({"__all__": ["This import has already started"]})
    errors = {}
    if match_on not in MATCH_KEYS:
        errors["match_on"] = [f"One of {', '.join(MATCH_KEYS)}"]
    if on_match not in ON_MATCH:
        errors["on_match"] = ["update or skip"]
    if errors:
        raise ValidationError(errors)
    clean = clean_mapping(tenant, record.headers, mapping)
    with transaction.atomic():
        record.mapping, record.match_on, record.on_match = clean, match_on, on_match
        record.status = ImportStatus.QUEUED
        record.save(update_fields=["mapping", "match_on", "on_match", "status", "updated_at"])
        audit.record(tenant, actor, "import.started", obj=record, changes={"mapping": [None, clean]})
        _submit(record)
    return record


def preview(record: Import) -> list[Row]:
    cleaner = RowCleaner(record.tenant, record.headers, record.mapping)
    return [cleaner.clean(index + 2, raw) for index, raw in enumerate(record.sample)]


# --- running -----------------------------------------------------------------------


def run(record: Import, job=None) -> Import:
    """Process the file from the first uncommitted row; safe to call again after a crash."""
    record.refresh_from_db()
    if record.status in (ImportStatus.DONE, ImportStatus.FAILED):
        return record
    Import.objects.filter(pk=record.pk).update(status=ImportStatus.RUNNING)
    maintenance.large_page_cache()
    actor = (
        Actor(user=record.created_by, label_override=f"import {record.filename}"[:200])
        if record.created_by
        else Actor.system("import")
    )
    data = blobs.read_bytes(record.file)
    headers, rows = read_table(data, record.filename)
    cleaner = RowCleaner(record.tenant, headers, record.mapping)
    writer = Writer(record, actor)
    already = record.processed
    counts = {"created": record.created, "updated": record.updated, "skipped": record.skipped, "failed": record.failed}
    previous_failures = _previous_failures(record)
    writer.failures.extend(previous_failures)
    batch: list[Row] = []
    processed = 0

    def flush() -> None:
        nonlocal processed
        chunk_counts = dict(counts)
        failures_before = len(writer.failures)
        try:
            with transaction.atomic():
                writer.write_chunk(batch, chunk_counts)
                Import.objects.filter(pk=record.pk).update(processed=processed + len(batch), **chunk_counts)
        except IntegrityError:
            # Something in the chunk clashed (a concurrent edit): write row by row instead.
            del writer.failures[failures_before:]
            chunk_counts = dict(counts)
            for row in batch:
                try:
                    with transaction.atomic():
                        writer.write_chunk([row], chunk_counts)
                except IntegrityError as exc:
                    chunk_counts["failed"] += 1
                    writer.failures.append((row.number, f"Could not be saved: {exc}", row.raw))
            Import.objects.filter(pk=record.pk).update(processed=processed + len(batch), **chunk_counts)
        counts.update(chunk_counts)
        processed += len(batch)
        batch.clear()
        if job is not None:
            jobs.heartbeat(job, processed / max(record.total, 1))

    for index, raw in enumerate(rows):
        if index < already:
            processed = index + 1
            continue
        batch.append(cleaner.clean(index + 2, raw))
        if len(batch) >= CHUNK:
            flush()
    if batch:
        flush()
    report = _error_report(record, writer.failures) if writer.failures else None
    duplicates = writer.possible_duplicates()
    with transaction.atomic():
        Import.objects.filter(pk=record.pk).update(
            status=ImportStatus.DONE,
            finished_at=timezone.now(),
            error_report=report,
            processed=processed,
            total=processed,
            possible_duplicates=duplicates,
            **counts,
        )
        record.refresh_from_db()
        audit.record(
            record.tenant,
            actor,
            "contact.imported",
            obj=record,
            changes={name: [None, counts[name]] for name in ("created", "updated", "skipped", "failed")},
        )
        events.emit(record.tenant, "import.completed", {"import_id": str(record.pk), **counts})
    maintenance.refresh_statistics()  # the tables may have grown many times over
    return record


def _previous_failures(record: Import) -> list[tuple[int, str, list[str]]]:
    # Failures of chunks committed before a crash are found again by re-validating those rows.
    if not record.processed or not record.failed:
        return []
    data = blobs.read_bytes(record.file)
    headers, rows = read_table(data, record.filename)
    cleaner = RowCleaner(record.tenant, headers, record.mapping)
    failures = []
    for index, raw in enumerate(rows):
        if index >= record.processed:
            break
        row = cleaner.clean(index + 2, raw)
        if row.errors:
            failures.append((row.number, "; ".join(row.errors), row.raw))
    return failures


@jobs.handler("crm.import")
def run_import(job) -> dict:
    record = Import.objects.get(pk=job.payload["import_id"])
    try:
        record = run(record, job)
    except ValidationError as exc:
        Import.objects.filter(pk=record.pk).update(
            status=ImportStatus.FAILED, error=" ".join(exc.messages)[:2000], finished_at=timezone.now()
        )
        raise jobs.PermanentError(" ".join(exc.messages))
    except Exception as exc:
        if job.attempts >= job.max_attempts:
            Import.objects.filter(pk=record.pk).update(status=ImportStatus.FAILED, error=str(exc)[:2000])
        raise
    return {"created": record.created, "updated": record.updated, "skipped": record.skipped, "failed": record.failed}


def progress(record: Import) -> float:
    if record.status == ImportStatus.DONE:
        return 1.0
    return min(1.0, record.processed / record.total) if record.total else 0.0
