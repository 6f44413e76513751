"""Contact import from CSV or XLSX: decode, map columns, validate every row, write in chunks.

A row is validated completely before anything is written, and each chunk of rows is
written in one transaction together with the import's progress counters, so a retried
job resumes after the last committed row and never half-imports a row. Rejected rows go
to a downloadable error report (an encrypted blob).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from octopushx.core import audit, blobs, events, jobs, maintenance
from octopushx.core.context import Actor
from octopushx.crm.imports.files import MAX_BYTES, decode, encoding_label, open_table, read_table
from octopushx.crm.imports.mapping import SYNONYMS, TARGETS, auto_mapping, clean_mapping
from octopushx.crm.imports.rows import SKIP, Issue, Row, RowCleaner
from octopushx.crm.imports.values import options_for, suggest
from octopushx.crm.imports.writer import COMPANY_DEFAULTS, CONTACT_DEFAULTS, Writer, _error_report
from octopushx.crm.models import Import, ImportStatus, ObjectType

__all__ = [
    "COMPANY_DEFAULTS",
    "CONTACT_DEFAULTS",
    "MATCH_KEYS",
    "MAX_BYTES",
    "ON_MATCH",
    "SKIP",
    "SYNONYMS",
    "TARGETS",
    "Row",
    "RowCleaner",
    "Writer",
    "auto_mapping",
    "check_file",
    "clean_mapping",
    "clean_value_mapping",
    "add_options",
    "create",
    "decode",
    "encoding_label",
    "preview",
    "progress",
    "read_table",
    "recheck",
    "run",
    "run_import",
    "start",
    "value_tables",
]

CHUNK = 1000
MATCH_KEYS = ("email", "phone", "external_id")
ON_MATCH = ("update", "skip")
SAMPLE_ROWS = 10
SAMPLE_SCAN = 10000  # rows the request reads at most (blank ones too) to find the sample
DISTINCT_VALUES = 200  # distinct values kept per column by the whole-file check
EXAMPLES = 3
NO_ROWS = "The file has a header but no data rows"


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
    value_mapping: Any = None,
    start: bool = True,
) -> Import:
    """Check and store the upload; with ``start`` the job is queued at once (the API), otherwise
    the whole file is checked by a job and the import waits for the user to confirm the mapping
    (the web page). The request reads only the header and the first rows: counting and checking
    every row is the job's work, within the configured limits."""
    errors: dict[str, list[str]] = {}
    if object_type not in ("contacts", "contact"):
        errors["object"] = ["Only contacts can be imported"]
    if match_on not in MATCH_KEYS:
        errors["match_on"] = [f"One of {', '.join(MATCH_KEYS)}"]
    if on_match not in ON_MATCH:
        errors["on_match"] = ["update or skip"]
    mapping = _json_field(mapping, "mapping", errors)
    value_mapping = _json_field(value_mapping, "value_mapping", errors)
    if file is None:
        errors["file"] = ["Attach a CSV or XLSX file"]
    if errors:
        raise ValidationError(errors)
    limit = MAX_BYTES
    size = getattr(file, "size", None)
    if size is not None and size > limit:
        raise ValidationError({"file": [f"The file is larger than {limit // (1024 * 1024)} MB; split it"]})
    data = file.read(limit + 1) if hasattr(file, "read") else bytes(file)
    if len(data) > limit:
        raise ValidationError({"file": [f"The file is larger than {limit // (1024 * 1024)} MB; split it"]})
    table = open_table(data, filename)
    headers = table.headers
    if len(set(headers)) != len(headers) or any(not h for h in headers):
        raise ValidationError({"file": ["Every column needs a distinct name in the header row"]})
    sample = []
    table.stop_after = SAMPLE_SCAN
    for row in table:
        sample.append(row)
        if len(sample) >= SAMPLE_ROWS:
            break
    if not sample and table.finished:
        raise ValidationError({"file": [NO_ROWS]})
    # A short file is counted already; a longer one by the job.
    total = len(sample) if table.finished else 0
    clean = clean_mapping(tenant, headers, mapping)
    values = clean_value_mapping(tenant, headers, clean, value_mapping)
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
            value_mapping=values,
            headers=headers,
            sample=sample,
            encoding=table.encoding,
            total=total,
            status=ImportStatus.QUEUED if start else ImportStatus.PENDING,
            created_by=actor.user,
        )
        audit.record(
            tenant,
            actor,
            "import.created",
            obj=record,
            changes={"filename": [None, record.filename], "match_on": [None, match_on]},
        )
        if start:
            _submit(record)
        else:
            _submit_check(record)
    record.refresh_from_db()
    return record


def _json_field(value: Any, name: str, errors: dict) -> Any:
    if isinstance(value, str) and value.strip():
        try:
            return json.loads(value)
        except ValueError:
            errors[name] = ["Not valid JSON"]
            return None
    return None if isinstance(value, str) else value


def clean_value_mapping(
    tenant, headers: list[str], mapping: dict[str, str], value_mapping: Any, *, strict: bool = True
) -> dict[str, dict[str, str]]:
    """``{"column": {"value in the file": "option"}}`` for columns going to a choice field; an empty
    option leaves the value out on purpose. Not strict (the mapping page, whose mapping may just
    have changed), values of columns that no longer go to a choice field are dropped."""
    from octopushx.crm import services

    if value_mapping in (None, {}):
        return {}
    if not isinstance(value_mapping, dict) or not all(isinstance(v, dict) for v in value_mapping.values()):
        raise ValidationError({"value_mapping": ['An object {"column": {"value": "option"}}']})
    custom = services.custom_definitions(tenant, ObjectType.CONTACT)
    errors, cleaned = [], {}
    for header, values in value_mapping.items():
        if header not in headers:
            errors.append(f"No column named {header!r} in the file")
            continue
        options = options_for(mapping.get(header, ""), custom)
        if options is None:
            if strict and values:
                errors.append(f"The column {header!r} does not go to a field with options")
            continue
        allowed = {value for value, _label in options}
        for option in values.values():
            if option and option != SKIP and str(option) not in allowed:
                errors.append(f"{header!r}: {option!r} is not one of {', '.join(sorted(allowed))}")
        if values:
            cleaned[header] = {str(k): (str(v) if v else SKIP) for k, v in values.items()}
    if errors:
        raise ValidationError({"value_mapping": errors})
    return cleaned


def add_options(tenant, actor: Actor, record: Import, mapping: dict[str, str], new: list[tuple[str, str]]) -> None:
    """Add values found in the file as new options of the custom select fields they go to (admins)."""
    from octopushx.crm import services

    custom = services.custom_definitions(tenant, ObjectType.CONTACT)
    wanted: dict[str, list[str]] = {}
    for header, value in new:
        target = mapping.get(header, "")
        field = custom.get(target[3:]) if target.startswith("cf.") else None
        if field is None or field.field_type not in ("select", "multi_select"):
            raise ValidationError({"value_mapping": [f"Only a custom select field can get a new option ({header!r})"]})
        options = wanted.setdefault(field.key, list(field.options))
        if value.strip() and value.strip() not in options:
            options.append(value.strip())
    for key, options in wanted.items():
        if options != custom[key].options:
            services.update_custom_field(tenant, actor, custom[key], {"options": options})


def _submit(record: Import) -> None:
    job = jobs.submit(
        "crm.import", tenant=record.tenant, payload={"import_id": str(record.pk)}, dedupe_key=f"crm.import:{record.pk}"
    )
    Import.objects.filter(pk=record.pk).update(job=job, status=ImportStatus.QUEUED)


def _submit_check(record: Import) -> None:
    """Check the whole file with the current mapping; a newer check makes an older one's result void."""
    token = uuid.uuid4().hex
    Import.objects.filter(pk=record.pk).update(file_check={"pending": token})
    record.file_check = {"pending": token}
    jobs.submit("crm.import.check", tenant=record.tenant, payload={"import_id": str(record.pk), "token": token})


def recheck(tenant, actor: Actor, record: Import, *, mapping: dict, value_mapping: dict | None = None) -> Import:
    """Save a changed mapping of a pending import and check the whole file with it again."""
    if record.status != ImportStatus.PENDING:
        raise ValidationError({"__all__": ["This import has already started"]})
    clean = clean_mapping(tenant, record.headers, mapping)
    values = clean_value_mapping(tenant, record.headers, clean, value_mapping, strict=False)
    with transaction.atomic():
        record.mapping, record.value_mapping = clean, values
        record.save(update_fields=["mapping", "value_mapping", "updated_at"])
        _submit_check(record)
    return record


def start(
    tenant,
    actor: Actor,
    record: Import,
    *,
    mapping: dict,
    match_on: str,
    on_match: str,
    value_mapping: dict | None = None,
) -> Import:
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
    values = clean_value_mapping(
        tenant, record.headers, clean, record.value_mapping if value_mapping is None else value_mapping, strict=False
    )
    with transaction.atomic():
        record.mapping, record.match_on, record.on_match = clean, match_on, on_match
        record.value_mapping = values
        record.status = ImportStatus.QUEUED
        record.save(update_fields=["mapping", "value_mapping", "match_on", "on_match", "status", "updated_at"])
        audit.record(
            tenant, actor, "import.started", obj=record, changes={"mapping": [None, clean], "values": [None, values]}
        )
        _submit(record)
    return record


def _cleaner(record: Import, headers: list[str]) -> RowCleaner:
    return RowCleaner(record.tenant, headers, record.mapping, record.value_mapping, record.match_on)


def preview(record: Import) -> list[Row]:
    cleaner = _cleaner(record, record.headers)
    return [cleaner.clean(index + 2, raw) for index, raw in enumerate(record.sample)]


# --- the whole-file check ----------------------------------------------------------


def check_file(record: Import) -> dict:
    """Read every row once, as the import will: the row count, and per column how many values
    are invalid and why (with examples), and the distinct values with their counts."""
    table = open_table(blobs.read_bytes(record.file), record.filename)
    cleaner = _cleaner(record, table.headers)
    headers = table.headers
    distinct: list[dict[str, int]] = [{} for _h in headers]
    crowded = [False for _h in headers]
    filled = [0 for _h in headers]
    reasons: dict[str, dict[str, dict]] = {h: {} for h in headers}
    rows = failing = with_problems = 0
    row_reasons: dict[str, dict] = {}
    for index, raw in enumerate(table):
        rows += 1
        for column, cell in enumerate(raw[: len(headers)]):
            if not cell:
                continue
            filled[column] += 1
            seen = distinct[column]
            if cell in seen:
                seen[cell] += 1
            elif len(seen) < DISTINCT_VALUES and len(cell) <= 100:  # longer text is no option's name
                seen[cell] = 1
            else:
                crowded[column] = True
        row = cleaner.clean(index + 2, raw)
        if row.errors:
            failing += 1
        elif row.problems:
            with_problems += 1
        for issue in row.issues:
            bucket = reasons[issue.column] if issue.column in reasons else row_reasons
            entry = bucket.setdefault(_reason_key(issue.reason, issue.value), {"count": 0, "examples": []})
            entry["count"] += 1
            if len(entry["examples"]) < EXAMPLES:
                entry["examples"].append([row.number, issue.value])
    columns = []
    for column, header in enumerate(headers):
        found = reasons[header]
        columns.append(
            {
                "header": header,
                "target": record.mapping.get(header, ""),
                "filled": filled[column],
                "invalid": sum(entry["count"] for entry in found.values()),
                "reasons": sorted(
                    ({"reason": reason, **entry} for reason, entry in found.items()), key=lambda e: -e["count"]
                ),
                "values": sorted(distinct[column].items(), key=lambda item: (-item[1], item[0])),
                "more_values": crowded[column],
            }
        )
    return {
        "rows": rows,
        "failing": failing,
        "with_problems": with_problems,
        "columns": columns,
        "row_reasons": [{"reason": r, **e} for r, e in row_reasons.items()],
        "mapping": record.mapping,
        "value_mapping": record.value_mapping,
    }


def _reason_key(reason: str, value: str) -> str:
    # "'foo' is not one of …" for every distinct value would make one reason per value: group them.
    if value and reason.startswith(repr(value)):
        return "the value" + reason[len(repr(value)) :]
    return reason


@jobs.handler("crm.import.check")
def run_check(job) -> dict:
    record = Import.objects.get(pk=job.payload["import_id"])
    token = job.payload.get("token")
    try:
        result = check_file(record)
        update = {"file_check": result, "total": result["rows"]}
    except ValidationError as exc:
        result = {"error": " ".join(exc.messages)}
        update = {"file_check": result, "status": ImportStatus.FAILED, "error": result["error"][:2000]}
    except Exception as exc:
        if job.attempts < job.max_attempts:
            raise  # retried; the page keeps waiting
        # The import itself can still start: it checks every row as it writes.
        result = {"error": f"The file could not be checked ({exc}); you can still start the import"}
        update = {"file_check": result}
    with transaction.atomic():
        current = Import.objects.select_for_update().get(pk=record.pk)
        if current.status == ImportStatus.PENDING and current.file_check.get("pending") == token:
            Import.objects.filter(pk=record.pk).update(**update)
    return {"rows": result.get("rows", 0)}


def value_tables(record: Import) -> list[dict]:
    """For each column going to a choice field: its distinct values (with counts), the option each
    goes to (as mapped, or recognised), and the options to choose from."""
    from octopushx.crm import services

    custom = services.custom_definitions(record.tenant, ObjectType.CONTACT)
    check = record.file_check or {}
    found = {c["header"]: c for c in check.get("columns", [])}
    tables = []
    for index, header in enumerate(record.headers):
        target = record.mapping.get(header, "")
        options = options_for(target, custom) if target else None
        if options is None:
            continue
        column = found.get(header)
        if column is not None:
            values, more = column["values"], column["more_values"]
        else:  # not checked yet: the first rows show what is there
            counted: dict[str, int] = {}
            for row in record.sample:
                if index < len(row) and row[index]:
                    counted[row[index]] = counted.get(row[index], 0) + 1
            values, more = sorted(counted.items(), key=lambda item: -item[1]), False
        chosen = record.value_mapping.get(header, {})
        multi = target.startswith("cf.") and custom[target[3:]].field_type == "multi_select"
        entries = []
        for number, (value, count) in enumerate(values):
            parts = [p.strip() for p in value.split(";") if p.strip()] if multi else [value]
            if multi and len(parts) > 1:
                continue  # each part of a multi-select cell is mapped on its own line
            mapped = chosen.get(value)
            recognised = suggest(target, value, options)
            entries.append(
                {
                    "index": number,
                    "value": value,
                    "count": count,
                    "option": "" if mapped == SKIP else (mapped or recognised or ""),
                    "known": mapped is None and recognised is not None,
                    "unknown": mapped is None and recognised is None,
                }
            )
        tables.append(
            {
                "index": index,
                "header": header,
                "target": target,
                "custom": target.startswith("cf."),
                "options": options,
                "values": entries,
                "more": more,
            }
        )
    return tables


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
    if not record.total or not record.file_check.get("rows"):
        # Count (and check the limits) before writing anything: a file past a limit changes nothing.
        record.total = sum(1 for _row in open_table(data, record.filename))
        if not record.total:
            raise ValidationError({"file": [NO_ROWS]})
        Import.objects.filter(pk=record.pk).update(total=record.total)
    table = open_table(data, record.filename)
    cleaner = _cleaner(record, table.headers)
    writer = Writer(record, actor)
    already = record.processed
    counts = {
        "created": record.created,
        "updated": record.updated,
        "skipped": record.skipped,
        "failed": record.failed,
        "with_problems": record.with_problems,
    }
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
                    writer.failures.append((row.number, [Issue("", "", f"Could not be saved: {exc}", True)], row.raw))
            Import.objects.filter(pk=record.pk).update(processed=processed + len(batch), **chunk_counts)
        counts.update(chunk_counts)
        processed += len(batch)
        batch.clear()
        if job is not None:
            jobs.heartbeat(job, processed / max(record.total, 1))

    for index, raw in enumerate(table):
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
            changes={name: [None, counts[name]] for name in counts},
        )
        events.emit(record.tenant, "import.completed", {"import_id": str(record.pk), **counts})
    maintenance.refresh_statistics()  # the tables may have grown many times over
    return record


def _previous_failures(record: Import) -> list:
    # Rows of chunks committed before a crash are found again by re-validating those rows: the
    # rejected ones and those written without some values.
    if not record.processed or not (record.failed or record.with_problems):
        return []
    cleaner = _cleaner(record, record.headers)
    failures = []
    for index, raw in enumerate(open_table(blobs.read_bytes(record.file), record.filename)):
        if index >= record.processed:
            break
        row = cleaner.clean(index + 2, raw)
        if row.issues:
            failures.append((row.number, row.issues, row.raw))
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
