"""Shield: reading, filtering and exporting the audit trail."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone
from ninja import Schema

from octopushx.core import audit
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry


class AuditFilter(Schema):
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    actor: str | None = None
    since: date | None = None
    until: date | None = None
    q: str | None = None


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def filtered_entries(tenant, filters: AuditFilter) -> QuerySet[AuditEntry]:
    qs = AuditEntry.objects.filter(tenant=tenant).select_related("personal")
    if filters.action:
        qs = qs.filter(action__startswith=filters.action)
    if filters.object_type:
        qs = qs.filter(object_type=filters.object_type)
    if filters.object_id:
        qs = qs.filter(object_id=filters.object_id)
    if filters.actor:
        qs = qs.filter(personal__actor_label__icontains=filters.actor)
    # Whole days in the platform's time zone; bounds as aware datetimes so the index on ``at`` is used.
    if filters.since:
        qs = qs.filter(at__gte=_start_of(filters.since))
    if filters.until:
        qs = qs.filter(at__lt=_start_of(filters.until + timedelta(days=1)))
    if filters.q:
        qs = qs.filter(
            Q(action__icontains=filters.q)
            | Q(object_id__icontains=filters.q)
            | Q(personal__actor_label__icontains=filters.q)
        )
    return qs.order_by("-seq")


def _cell(value: str) -> str:
    """Text a spreadsheet will not run as a formula (CSV injection): a leading ' defuses it."""
    return f"'{value}" if value and value[0] in "=+-@\t\r" else value


CSV_COLUMNS = ["seq", "time", "actor", "action", "object_type", "object_id", "changes", "ip", "user_agent", "hash"]


def export_csv(tenant, filters: AuditFilter, actor: Actor) -> Iterator[str]:
    """Stream the filtered trail as CSV rows; the export itself is audited first."""
    audit.record(
        tenant,
        actor,
        "audit.exported",
        object_type="audit",
        changes={"filters": [None, filters.dict(exclude_none=True)]},
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        value = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return value

    writer.writerow(CSV_COLUMNS)
    yield flush()
    for entry in filtered_entries(tenant, filters).iterator(chunk_size=1000):
        p = entry.personal
        writer.writerow(
            [
                entry.seq,
                entry.at.isoformat(),
                _cell(p.actor_label),
                _cell(entry.action),
                _cell(entry.object_type),
                _cell(entry.object_id),
                _cell(audit.canonical(p.changes)),
                p.ip or "",
                _cell(p.user_agent),
                entry.hash,
            ]
        )
        yield flush()
