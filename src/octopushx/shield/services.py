"""Shield: reading, filtering and exporting the audit trail."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, timedelta

from django.db.models import Q, QuerySet
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
    if filters.since:
        qs = qs.filter(at__date__gte=filters.since)
    if filters.until:
        qs = qs.filter(at__lt=filters.until + timedelta(days=1))
    if filters.q:
        qs = qs.filter(
            Q(action__icontains=filters.q)
            | Q(object_id__icontains=filters.q)
            | Q(personal__actor_label__icontains=filters.q)
        )
    return qs.order_by("-seq")


CSV_COLUMNS = ["seq", "time", "actor", "action", "object_type", "object_id", "changes", "ip", "user_agent", "hash"]


def export_csv(tenant, filters: AuditFilter, actor: Actor) -> Iterator[str]:
    """Stream the filtered trail as CSV rows; the export itself is audited first."""
    audit.record(tenant, actor, "audit.exported", object_type="audit", changes={"filters": [None, filters.dict(exclude_none=True)]})
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
            [entry.seq, entry.at.isoformat(), p.actor_label, entry.action, entry.object_type, entry.object_id,
             audit.canonical(p.changes), p.ip or "", p.user_agent, entry.hash]
        )
        yield flush()
