"""Upkeep the embedded database needs: planner statistics and, for bulk work, a larger page cache.

PostgreSQL's autovacuum keeps its own statistics. SQLite keeps none until ``ANALYZE`` runs, and
without them its planner takes an equality on any indexed column to match about ten rows: it
read a whole tenant through the tenant index rather than the few contacts a search had found
(54 ms against 6 ms on 200,000 contacts). ``octopushx migrate`` and ``serve`` refresh them at
start, the job consumer every hour, and an import when it finishes.

The statistics are sampled (``PRAGMA analysis_limit``): milliseconds on any table. Exact ones
(0.7 s at 200,000 contacts) made matters worse: SQLite's planner does not weigh a page's LIMIT,
so knowing that a filter keeps a third of the rows, it read and sorted that third rather than
walking the newest-first index to the first fifty (12 ms became 90 ms).
"""

from __future__ import annotations

from django.db import connections

SAMPLE_ROWS = 1000  # index entries ANALYZE reads per index


def refresh_statistics(using: str = "default") -> None:
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA analysis_limit = {SAMPLE_ROWS}")
        cursor.execute("ANALYZE")


def large_page_cache(using: str = "default", megabytes: int = 64) -> None:
    """Let this SQLite connection cache up to ``megabytes`` of pages (the default is 2 MB), for bulk work.

    A 100,000-row import touches the same index pages again and again: 40 s became 35 s. Only
    for long jobs (a job's connection is closed within a minute of its end): filling a large cache
    cost a scanning list request 30 ms more.
    """
    connection = connections[using]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {-1024 * int(megabytes)}")
