"""Exports: any list (with its filters or a selection) to CSV or XLSX, written by a job into an
encrypted blob, audited. Restricted contacts are never exported (GDPR restriction of processing)."""

from __future__ import annotations

import csv
import io
import logging
import tempfile
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from octopushx.core import audit, blobs, events, jobs, text
from octopushx.core.context import Actor
from octopushx.crm import queries, timeline
from octopushx.crm.models import Contact, CustomField, Export, ImportStatus, ObjectType
from octopushx.crm.visibility import visible
from octopushx.tenancy.models import Membership

log = logging.getLogger(__name__)

FORMATS = ("csv", "xlsx")
INLINE_LIMIT = 2000  # at most this many rows are written during the request; more go to a worker
CSV_INJECTION = ("=", "+", "-", "@", "\t", "\r")

COLUMNS: dict[str, list[tuple[str, str]]] = {
    ObjectType.CONTACT: [
        ("id", "id"),
        ("first_name", "first_name"),
        ("last_name", "last_name"),
        ("email", "email"),
        ("emails", "emails"),
        ("phone", "phone"),
        ("phones", "phones"),
        ("company", "company"),
        ("job_title", "job_title"),
        ("owner", "owner"),
        ("tags", "tags"),
        ("lifecycle_stage", "lifecycle_stage"),
        ("lead_status", "lead_status"),
        ("street", "street"),
        ("city", "city"),
        ("region", "region"),
        ("postal_code", "postal_code"),
        ("country", "country"),
        ("preferred_language", "preferred_language"),
        ("consent", "consent"),
        ("lawful_basis", "lawful_basis"),
        ("external_id", "external_id"),
        ("created_at", "created_at"),
    ],
    ObjectType.COMPANY: [
        ("id", "id"),
        ("name", "name"),
        ("domain", "domain"),
        ("industry", "industry"),
        ("size", "size"),
        ("phone", "phone"),
        ("owner", "owner"),
        ("tags", "tags"),
        ("street", "street"),
        ("city", "city"),
        ("region", "region"),
        ("postal_code", "postal_code"),
        ("country", "country"),
        ("external_id", "external_id"),
        ("created_at", "created_at"),
    ],
    ObjectType.DEAL: [
        ("id", "id"),
        ("name", "name"),
        ("value", "value"),
        ("currency", "currency"),
        ("pipeline", "pipeline"),
        ("stage", "stage"),
        ("status", "status"),
        ("expected_close", "expected_close"),
        ("close_reason", "close_reason"),
        ("owner", "owner"),
        ("company", "company"),
        ("tags", "tags"),
        ("created_at", "created_at"),
    ],
}


def _membership(export: Export) -> Membership | None:
    if export.created_by_id is None:
        return None
    return Membership.objects.filter(tenant=export.tenant, user_id=export.created_by_id).first()


def queryset(export: Export):
    """The rows the export covers: the requester's visible rows, filtered or selected, never restricted."""
    model = queries.MODELS[export.object_type]
    membership = _membership(export)
    if export.created_by_id is not None and membership is None:
        return model.objects.none()
    qs = visible(model, export.tenant, membership) if membership else model.objects.for_tenant(export.tenant)
    if export.ids:
        qs = qs.filter(pk__in=export.ids)
    else:
        qs = queries.listing(export.object_type, qs, export.tenant, export.filters or {})
    if export.object_type == ObjectType.CONTACT:
        qs = qs.filter(restricted=False)
    elif export.object_type == ObjectType.DEAL:
        qs = qs.select_related("pipeline", "stage")
    related = ["owner"] + (["company"] if export.object_type != ObjectType.COMPANY else [])
    qs = qs.select_related(*related).prefetch_related("tags")
    if export.object_type == ObjectType.CONTACT:
        qs = qs.prefetch_related("emails", "phones")
    return qs.order_by("created_at", "pk")


def _restricted_count(export: Export) -> int:
    if export.object_type != ObjectType.CONTACT:
        return 0
    membership = _membership(export)
    qs = visible(Contact, export.tenant, membership) if membership else Contact.objects.for_tenant(export.tenant)
    qs = (
        qs.filter(pk__in=export.ids)
        if export.ids
        else queries.listing(ObjectType.CONTACT, qs, export.tenant, export.filters or {})
    )
    return qs.filter(restricted=True).count()


def _value(row, key: str) -> Any:
    if key == "id":
        return str(row.pk)
    if key == "emails":
        return "; ".join(e.email for e in row.emails.all())
    if key == "phones":
        return "; ".join(p.number for p in row.phones.all())
    if key == "tags":
        return "; ".join(sorted(t.name for t in row.tags.all()))
    if key in ("owner",):
        return row.owner.email if row.owner else ""
    if key in ("company", "pipeline", "stage"):
        related = getattr(row, key)
        return str(related) if related else ""
    value = getattr(row, key)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return "" if value is None else str(value)


def safe_cell(value: Any) -> str:
    """Spreadsheet apps run cells that start with = + - @ as formulas: quote them. The one guard for
    every table we hand out: exports and imports' error reports."""
    text = "" if value is None else str(value)
    if text.startswith(CSV_INJECTION) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def rows(export: Export) -> tuple[list[str], Iterator[list[str]]]:
    columns = COLUMNS[export.object_type]
    definitions = list(CustomField.objects.for_tenant(export.tenant).filter(object_type=export.object_type))
    header = [label for label, _k in columns] + [f"cf.{d.key}" for d in definitions]

    def generate() -> Iterator[list[str]]:
        for row in queryset(export).iterator(chunk_size=1000):
            values = [safe_cell(_value(row, key)) for _l, key in columns]
            for definition in definitions:
                value = row.custom.get(definition.key, "")
                values.append(safe_cell("; ".join(value) if isinstance(value, list) else value))
            yield values

    return header, generate()


def _csv_bytes(header: list[str], data: Iterator[list[str]]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    yield ("\ufeff" + buffer.getvalue()).encode()
    count = 0
    for row in data:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(row)
        count += 1
        yield buffer.getvalue().encode()


def write(export: Export, job=None) -> Export:
    """Write the file (idempotent: a finished export is left as it is).

    Whatever goes wrong, the export ends as failed with a message (never left running); the
    error is raised again so a job can retry it.
    """
    export.refresh_from_db()
    if export.status == ImportStatus.DONE:
        return export
    Export.objects.filter(pk=export.pk).update(status=ImportStatus.RUNNING, error="")
    try:
        if transaction.get_connection().in_atomic_block:
            with transaction.atomic():  # a savepoint: after a database error the failure can still be recorded
                return _write(export, job)
        return _write(export, job)
    except Exception as exc:
        log.exception("export %s failed", export.pk)
        Export.objects.filter(pk=export.pk).update(
            status=ImportStatus.FAILED,
            error=f"The export could not be written: {exc}"[:2000],
            finished_at=timezone.now(),
        )
        raise


def _write(export: Export, job) -> Export:
    header, data = rows(export)
    counted = {"rows": 0}

    def counting() -> Iterator[list[str]]:
        for row in data:
            counted["rows"] += 1
            if job is not None and counted["rows"] % 5000 == 0:
                jobs.heartbeat(job)
            yield row

    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    filename = f"{export.object_type}s-{stamp}.{export.format}"
    if export.format == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(export.object_type)
        sheet.append(header)
        for row in counting():
            # An XLSX cell cannot hold control characters (openpyxl refuses them): leave them out.
            sheet.append([text.strip(value) for value in row])
        with tempfile.TemporaryFile() as handle:
            workbook.save(handle)
            handle.seek(0)
            blob = blobs.store(
                export.tenant,
                handle,
                filename=filename,
                purpose="crm-export",
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
    else:
        blob = blobs.store(
            export.tenant,
            _csv_bytes(header, counting()),
            filename=filename,
            content_type="text/csv; charset=utf-8",
            purpose="crm-export",
        )
    skipped = _restricted_count(export)
    with transaction.atomic():
        Export.objects.filter(pk=export.pk).update(
            status=ImportStatus.DONE,
            file=blob,
            rows=counted["rows"],
            skipped_restricted=skipped,
            finished_at=timezone.now(),
        )
        actor = Actor(user=export.created_by) if export.created_by else Actor.system("export")
        audit.record(
            export.tenant,
            actor,
            f"{export.object_type}.exported",
            obj=export,
            changes={
                "rows": [None, counted["rows"]],
                "format": [None, export.format],
                "skipped_restricted": [None, skipped],
            },
        )
        events.emit(export.tenant, "export.completed", {"export_id": str(export.pk)})
    export.refresh_from_db()
    return export


def _job_failed(job) -> None:
    """The job gave up (its worker died during the last attempt, say): the export must say so too."""
    Export.objects.filter(pk=job.payload.get("export_id")).exclude(
        status__in=(ImportStatus.DONE, ImportStatus.FAILED)
    ).update(
        status=ImportStatus.FAILED,
        error=f"The export could not be written: {job.last_error}"[:2000],
        finished_at=timezone.now(),
    )


@jobs.handler("crm.export", on_failure=_job_failed)
def run_export(job) -> dict:
    export = Export.objects.get(pk=job.payload["export_id"])
    return {"rows": write(export, job).rows}  # on an error the export is marked failed, the job retries


def start(
    tenant,
    actor: Actor,
    object_type: str,
    *,
    filters: dict | None = None,
    ids: list[str] | None = None,
    fmt: str = "csv",
    membership: Membership | None = None,
) -> Export:
    """Record an export and write it: small ones at once, large ones in the background."""
    errors = {}
    if object_type not in ObjectType.values:
        errors["object"] = ["One of contact, company, deal"]
    if fmt not in FORMATS:
        errors["format"] = ["csv or xlsx"]
    if errors:
        raise ValidationError(errors)
    if membership is not None:
        from octopushx.tenancy.roles import Perm, has_perm

        if not has_perm(membership.role, Perm.EXPORT):
            raise PermissionDenied("Your role cannot export data")
    clean_filters = {k: v for k, v in (filters or {}).items() if v not in (None, "") and k not in ("page", "cols")}
    if clean_filters:
        # Bad filters fail here, with field errors, rather than inside the job.
        model = queries.MODELS[object_type]
        queries.listing(object_type, model.objects.none(), tenant, clean_filters)
    with transaction.atomic():
        export = Export.objects.create(
            tenant=tenant,
            object_type=object_type,
            format=fmt,
            filters=clean_filters,
            ids=[str(i) for i in ids or []],
            created_by=actor.user,
        )
        audit.record(
            tenant,
            actor,
            "export.requested",
            obj=export,
            changes={"object": [None, object_type], "format": [None, fmt]},
        )
    count = queryset(export).count()
    if count <= INLINE_LIMIT:
        try:
            write(export)
        except Exception:  # noqa: S110 - recorded on the export (failed, with the message) and logged
            pass
    else:
        job = jobs.submit(
            "crm.export", tenant=tenant, payload={"export_id": str(export.pk)}, dedupe_key=f"crm.export:{export.pk}"
        )
        Export.objects.filter(pk=export.pk).update(job=job)
    export.refresh_from_db()
    return export


def contact_record(tenant, actor: Actor, contact: Contact) -> dict:
    """A contact's full record with its timeline, for download; audited."""
    if contact.restricted:
        raise PermissionDenied("This contact's processing is restricted; it is not exported")
    from octopushx.crm.services import contact_snapshot

    data = {
        "id": str(contact.pk),
        **contact_snapshot(contact),
        "created_at": contact.created_at.isoformat(),
        "updated_at": contact.updated_at.isoformat(),
        "deals": [
            {
                "id": str(d.pk),
                "name": d.name,
                "value": str(d.value),
                "currency": d.currency,
                "stage": d.stage.name,
                "status": d.status,
            }
            for d in contact.deals.select_related("stage")
        ],
        "timeline": [entry.as_dict() for entry in timeline.build(contact)],
    }
    audit.record(tenant, actor, "contact.exported", obj=contact, changes={"format": [None, "json"]})
    return data
