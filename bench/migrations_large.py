"""The index-building migrations of deploy/UPGRADING.md's exceptions, timed on a large tenant (PostgreSQL):
how long each index takes to build, and how long a write to its table waits behind it meanwhile.

    createdb -h 127.0.0.1 -U postgres bench_migrations
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_migrations .venv/bin/python bench/migrations_large.py
    ... bench/migrations_large.py 1000000 --reuse      # measure again on the tenant an earlier run loaded

Loads CONTACTS contacts (default 1,000,000; bench/crm_data.py, with COPY) at the newest schema. Then for
each listed migration it collects the SQL the migration runs (its Python operations included), and for
every index that SQL creates it drops the index and builds it again exactly as the migration does, while
another connection writes to the same table every 50 ms and keeps the longest wait. An index a later
migration replaced is built, timed and dropped again, so the schema ends as it began. Other statements
(added columns, data backfills) are listed, not timed.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

MIGRATIONS = [
    ("calls", "0002_transcript_search"),
    ("crm", "0005_search_indexes"),
    ("crm", "0007_postgres_filter_indexes"),
    ("crm", "0008_contact_owner_name_index"),
    ("crm", "0009_contact_company_created_index"),
    ("crm", "0010_accent_insensitive_search"),
    ("crm", "0013_search_primary_email_index"),
    ("crm", "0014_search_page_indexes"),
    ("crm", "0017_dealstagechange_when_index"),
    ("crm", "0018_task_completed_index"),
    ("crm", "0020_contact_owner_ids_index"),
    ("crm", "0021_deal_last_activity"),
]
CREATE_INDEX = re.compile(
    r'^CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?P<concurrently>CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?"?(?P<name>\w+)"?',
    re.IGNORECASE,
)
ON_TABLE = re.compile(r'\bON\s+"?(?P<table>\w+)"?', re.IGNORECASE)


def _setup() -> None:
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a scratch PostgreSQL database (see the docstring).")
    os.environ.setdefault("OCTOPUSHX_DATA_DIR", tempfile.mkdtemp(prefix="opx-migrations-"))
    os.environ.setdefault("OCTOPUSHX_LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "octopushx.settings")
    sys.path.insert(0, str(Path(__file__).parent))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def _statements(app: str, name: str) -> list[str]:
    """The SQL the migration runs, its Python operations included: each operation is run against a
    schema editor that collects statements instead of executing them (as ``sqlmigrate`` does, which
    stops at Python operations). A data step inside a Python operation runs for real: a scratch database."""
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(connection)
    migration = loader.get_migration(app, name)
    state = loader.project_state((app, name), at_end=False)
    collected: list[str] = []
    for operation in migration.operations:
        after = state.clone()
        operation.state_forwards(app, after)
        with connection.schema_editor(collect_sql=True, atomic=False) as editor:
            operation.database_forwards(app, editor, state, after)
        collected += editor.collected_sql
        state = after
    return [s.strip().rstrip(";").strip() for s in collected if s.strip()]


class Writer(threading.Thread):
    """Writes to one row of ``table`` every 50 ms on its own connection; ``longest`` is the slowest write (s).

    ``UPDATE … SET id = id`` takes the same table lock as any insert or update, which a plain
    ``CREATE INDEX`` holds off until it is built; a ``CONCURRENTLY`` build lets it through."""

    def __init__(self, table: str):
        super().__init__(daemon=True)
        self.table, self.longest, self.stop = table, 0.0, threading.Event()

    def run(self) -> None:
        from django.db import connection

        sql = f'UPDATE "{self.table}" SET id = id WHERE id = (SELECT id FROM "{self.table}" LIMIT 1)'  # nosec B608
        with connection.cursor() as cursor:
            while not self.stop.is_set():
                started = time.perf_counter()
                cursor.execute(sql)
                self.longest = max(self.longest, time.perf_counter() - started)
                self.stop.wait(0.05)
        connection.close()


def _exists(cursor, index: str) -> bool:
    cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [index])
    return cursor.fetchone() is not None


def measure(app: str, name: str) -> list[tuple[str, str, str, float, float]]:
    """(index, how it is built, seconds, longest write wait) for each index the migration creates."""
    from django.db import connection

    rows = []
    for statement in _statements(app, name):
        match = CREATE_INDEX.match(statement)
        if not match:
            print(f"  {app}.{name}: not timed: {statement.splitlines()[0][:90]}", flush=True)
            continue
        index = match["name"]
        with connection.cursor() as cursor:
            existed = _exists(cursor, index)
            cursor.execute(f'DROP INDEX IF EXISTS "{index}"')  # nosec B608 (a name from our own migrations)
            writer = Writer(ON_TABLE.search(statement)["table"])
            writer.start()
            time.sleep(0.2)
            started = time.perf_counter()
            cursor.execute(statement)
            took = time.perf_counter() - started
            writer.stop.set()
            writer.join()
            if not existed:  # a later migration replaced it: leave the schema as it was
                cursor.execute(f'DROP INDEX IF EXISTS "{index}"')  # nosec B608
        how = "concurrently" if match["concurrently"] else "plain (blocks writes)"
        rows.append((f"{app}.{name}", index, how, took, writer.longest))
        print(f"  {app}.{name} {index}: {took:.1f} s, longest write {writer.longest:.2f} s", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("contacts", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="measure the tenant an earlier run loaded")
    args = parser.parse_args()
    _setup()
    from crm_data import populate
    from django.db import connection

    from octopushx.crm.models import Contact
    from octopushx.tenancy.models import Organization

    tenant = Organization.objects.filter(name="Big Ltd").order_by("-created_at").first() if args.reuse else None
    if tenant is None:
        tenant = populate(args.contacts).tenant
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    total = Contact.objects.for_tenant(tenant).count()
    print(f"PostgreSQL {connection.pg_version // 10000}, {total:,} contacts in the tenant\n", flush=True)
    rows = []
    for app, name in MIGRATIONS:
        rows += measure(app, name)
    print(f"\n{'migration':42} {'index':44} {'built':22} {'seconds':>8} {'write waited':>12}")
    for migration, index, how, took, waited in rows:
        print(f"{migration:42} {index:44} {how:22} {took:8.1f} {waited:11.2f}s")


if __name__ == "__main__":
    main()
