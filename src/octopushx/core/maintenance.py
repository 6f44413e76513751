"""Upkeep the embedded database needs: planner statistics for SQLite.

PostgreSQL's autovacuum keeps its own statistics. SQLite keeps none until ``ANALYZE`` runs, and
without them its planner takes an equality on any indexed column to match about ten rows: it
read a whole tenant through the tenant index rather than the few contacts a search had found
(54 ms against 6 ms on 200,000 contacts). ``octopushx migrate`` and ``serve`` refresh them at
start, the job consumer every hour, and an import when it finishes.

The whole tables are read (0.7 s at 200,000 contacts): sampled statistics
(``PRAGMA analysis_limit``) read the first entries of each index only, and took a company filter
to match a thousand contacts because those entries were the contacts without a company.
"""

from __future__ import annotations

from django.db import connections


def refresh_statistics(using: str = "default") -> None:
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
