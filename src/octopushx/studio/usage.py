"""Octopush Studio in billing's metering (autodiscovered): workflow runs, counted per day.

A run counts once it has run its steps, whether they succeeded or failed; test runs, runs skipped (restricted
records, nothing to do), cancelled or stopped as a loop are not counted.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import Count

from octopushx.core.metering import daily, day_bounds
from octopushx.studio.models import Run, RunStatus


@daily("workflow_runs")
def finished_runs(day: date) -> list[tuple]:
    start, end = day_bounds(day)
    rows = (
        Run.objects.filter(
            finished_at__gte=start,
            finished_at__lt=end,
            status__in=(RunStatus.SUCCEEDED, RunStatus.FAILED),
            test=False,  # a try-out from the builder is not billed
        )
        .values("tenant_id")
        .annotate(runs=Count("id"))
        .order_by()
    )
    return [(row["tenant_id"], Decimal(row["runs"])) for row in rows]
