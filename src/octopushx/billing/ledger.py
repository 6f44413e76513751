"""The usage ledger: metered quantities from the products' ``usage.py``, counted once per key.

Recording happens on the event bus, in the emitter's transaction (``events.listen``): a usage
event is never lost and never counted for a change that rolled back. ``UsageDay`` keeps daily
totals for charts and is rebuilt from the events by ``rebuild_days``; invoices read the events.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Sum
from django.db.models.functions import TruncDate

from octopushx.billing import clock, services
from octopushx.billing.models import Metric, UsageDay, UsageEvent
from octopushx.core import events, metering
from octopushx.tenancy.models import Organization, OrgKind

MAX_DAYS = 366  # the longest range the usage API answers


def record(tenant: Organization, metric: str, key: str, quantity: Decimal, occurred_at: datetime | None = None) -> bool:
    """Add one usage event (idempotent by ``key``); True when it was new."""
    if metric not in Metric.values:
        raise ValueError(f"Unknown metric {metric!r}")
    at = occurred_at or clock.now()
    try:
        with transaction.atomic():
            UsageEvent.objects.create(tenant=tenant, metric=metric, key=key[:200], quantity=quantity, occurred_at=at)
    except IntegrityError:
        return False  # measured before: counts once
    day = at.astimezone(UTC).date()
    updated = UsageDay.objects.filter(tenant=tenant, metric=metric, day=day).update(
        quantity=F("quantity") + quantity, events=F("events") + 1
    )
    if not updated:
        UsageDay.objects.create(tenant=tenant, metric=metric, day=day, quantity=quantity, events=1)
    return True


def record_many(rows: Iterable[tuple], chunk: int = 5000) -> int:
    """Add usage events in bulk (an import of usage measured elsewhere); returns how many were new.

    ``rows`` yields ``(tenant_id, metric, key, quantity, occurred_at)``. Idempotent as ``record``
    is: a key already in the ledger (or twice in ``rows``) counts once, in any order. Written in
    batches of ``chunk`` (each its own transaction, so a long import never holds the database);
    an unknown metric stops the import at its batch, and running it again is safe. The daily
    totals of the tenants touched are rebuilt from their events afterwards.
    """
    added, touched, batch = 0, set(), []

    def flush() -> int:
        fresh: dict[tuple, UsageEvent] = {}
        for tenant_id, metric, key, quantity, at in batch:
            if metric not in Metric.values:
                raise ValueError(f"Unknown metric {metric!r}")
            fresh.setdefault(
                (tenant_id, metric, key[:200]),
                UsageEvent(tenant_id=tenant_id, metric=metric, key=key[:200], quantity=quantity, occurred_at=at),
            )
        tenants = {tenant_id for tenant_id, _, _ in fresh}
        counted = UsageEvent.objects.filter(tenant_id__in=tenants)
        with transaction.atomic():
            before = counted.count()
            # A key already in the ledger is skipped by the database itself: counted once, in any order.
            UsageEvent.objects.bulk_create(fresh.values(), ignore_conflicts=True, batch_size=1000)
            new = counted.count() - before
        if new:
            touched.update(tenants)
        batch.clear()
        return new

    for row in rows:
        batch.append(row)
        if len(batch) >= chunk:
            added += flush()
    if batch:
        added += flush()
    if touched:
        rebuild_days_of(touched)
    return added


@events.listen
def on_events(tenant, batch: list[events.Event]) -> None:
    """Measure the bus events a product meters (only customers, only with billing on)."""
    if not services.enabled() or not services.is_billed(tenant):
        return
    names = {event.name for event in batch}
    wanted = [m for m in metering.meters() if m.event in names]
    for meter in wanted:
        for event in batch:
            if event.name != meter.event:
                continue
            reading = meter.measure(tenant, event.payload)
            if reading is not None and reading.quantity > 0:
                record(tenant, meter.metric, reading.key, reading.quantity, reading.occurred_at)


def measure_days(days: Iterable[date]) -> int:
    """Record the daily meters (stored GB-days, workflow runs) of ``days`` for billed customers.

    Keyed ``<metric>:<day>``, so measuring a day again (every billing run looks back over its grace
    days) counts it once. Returns the usage events added.
    """
    if not services.enabled():
        return 0
    billed = set(
        Organization.objects.filter(kind=OrgKind.CUSTOMER, deleted_at__isnull=True).values_list("pk", flat=True)
    )
    rows = []
    for day in days:
        noon = datetime.combine(day, time(12), tzinfo=UTC)
        for metric, measure in metering.daily_meters().items():
            rows += [
                (tenant_id, metric, f"{metric}:{day.isoformat()}", quantity, noon)
                for tenant_id, quantity in measure(day)
                if tenant_id in billed and quantity > 0
            ]
    return record_many(rows)


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return datetime.combine(start, time.min, tzinfo=UTC), datetime.combine(
        end + timedelta(days=1), time.min, tzinfo=UTC
    )


def totals(tenant: Organization, start: date, end: date) -> dict[str, Decimal]:
    """Each metric's total from the events that occurred from ``start`` to ``end`` (both days included)."""
    low, high = _bounds(start, end)
    rows = (
        UsageEvent.objects.for_tenant(tenant)
        .filter(occurred_at__gte=low, occurred_at__lt=high)
        .values("metric")
        .annotate(total=Sum("quantity"))
    )
    found = {row["metric"]: row["total"] for row in rows}
    return {metric: Decimal(found.get(metric) or 0) for metric in Metric.values}


def totals_of(tenant_ids: list, start: date, end: date) -> dict[Any, dict[str, Decimal]]:
    """``totals`` for many tenants in one query (the billing run's bulk read)."""
    low, high = _bounds(start, end)
    rows = (
        UsageEvent.objects.filter(tenant_id__in=tenant_ids, occurred_at__gte=low, occurred_at__lt=high)
        .values("tenant_id", "metric")
        .annotate(total=Sum("quantity"))
        .order_by()
    )
    found: dict[Any, dict[str, Decimal]] = {tenant_id: {} for tenant_id in tenant_ids}
    for row in rows:
        found.setdefault(row["tenant_id"], {})[row["metric"]] = row["total"]
    return {
        tenant_id: {metric: Decimal(sums.get(metric) or 0) for metric in Metric.values}
        for tenant_id, sums in found.items()
    }


def daily(tenant: Organization, start: date, end: date) -> dict[str, list[tuple[date, Decimal]]]:
    """Per metric, every day from ``start`` to ``end`` with its total (0 on quiet days)."""
    found: dict[tuple[str, date], Decimal] = {
        (row.metric, row.day): row.quantity
        for row in UsageDay.objects.for_tenant(tenant).filter(day__gte=start, day__lte=end)
    }
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    return {metric: [(day, Decimal(found.get((metric, day), 0))) for day in days] for metric in Metric.values}


def rebuild_days(tenant: Organization) -> int:
    """Recompute the tenant's daily totals from its usage events; returns the days written."""
    return rebuild_days_of([tenant.pk])


@transaction.atomic
def rebuild_days_of(tenant_ids: Iterable) -> int:
    """Recompute the daily totals of these tenants from their usage events; returns the days written."""
    tenant_ids = list(tenant_ids)
    written = 0
    for start in range(0, len(tenant_ids), 500):
        some = tenant_ids[start : start + 500]
        UsageDay.objects.filter(tenant_id__in=some).delete()
        sums: dict[tuple, list] = defaultdict(lambda: [Decimal(0), 0])
        rows = (
            UsageEvent.objects.filter(tenant_id__in=some)
            .annotate(day=TruncDate("occurred_at", tzinfo=UTC))
            .values("tenant_id", "metric", "day")
            .annotate(total=Sum("quantity"), count=Count("id"))
        )
        for row in rows:
            sums[(str(row["tenant_id"]), row["metric"], row["day"])] = [row["total"], row["count"]]
        UsageDay.objects.bulk_create(
            [
                UsageDay(tenant_id=tenant_id, metric=metric, day=day, quantity=total, events=count)
                for (tenant_id, metric, day), (total, count) in sorted(sums.items())
            ],
            batch_size=2000,
        )
        written += len(sums)
    return written


def _parse_day(value: str | None, field: str, errors: dict[str, list[str]]) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        errors.setdefault(field, []).append(f"{value!r} is not a date; write YYYY-MM-DD")
        return None


def current_period(subscription) -> tuple[date, date]:
    """The subscription's period as of the billing clock: the trial's days, or the paid period."""
    from octopushx.billing import invoices, invoicing

    anchor, today = invoices.anchor_of(subscription), clock.today()
    if today < anchor:  # on trial: from its first day
        return subscription.started_on, anchor - timedelta(days=1)
    return invoicing.period_containing(anchor, subscription.interval, today)


def usage_report(tenant: Organization, start_text: str | None = None, end_text: str | None = None) -> dict:
    """Per-metric totals and a per-day series from ``start`` to ``end`` (default: the current period).

    Raises ``ValidationError`` naming the problem (a malformed date, an empty or too long range).
    """
    from django.core.exceptions import ValidationError

    errors: dict[str, list[str]] = {}
    start, end = _parse_day(start_text, "from", errors), _parse_day(end_text, "to", errors)
    if errors:
        raise ValidationError(errors)
    if start is None or end is None:
        period = current_period(services.current_subscription(tenant))
        start, end = start or period[0], end or period[1]
    if end < start:
        raise ValidationError({"to": ["The end comes before the start"]})
    if (end - start).days + 1 > MAX_DAYS:
        raise ValidationError({"to": [f"At most {MAX_DAYS} days at a time"]})
    totals_found = totals(tenant, start, end)
    series = daily(tenant, start, end)
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "metrics": [
            {
                "metric": metric,
                "name": label,
                "total": format(totals_found[metric].normalize(), "f"),
                "days": [
                    {"date": day.isoformat(), "quantity": format(q.normalize(), "f")} for day, q in series[metric]
                ],
            }
            for metric, label in Metric.choices
        ],
    }
