"""Migrations that can lock a large table on PostgreSQL, or break the version still serving, are listed
with what to expect in deploy/UPGRADING.md (its *Exceptions* table); a new one fails here until it is.

What counts (see the guide's *Rules for migrations*): on a large table, a new index or constraint, a
changed or removed column, a renamed column or table, a field added with an index;
and any data migration (``RunPython``/``RunSQL``), which may work through every row of one.
"""

from __future__ import annotations

from pathlib import Path

from django.db.migrations import operations as ops
from django.db.migrations.loader import MigrationLoader

GUIDE = Path(__file__).resolve().parents[1] / "deploy" / "UPGRADING.md"
LARGE = {
    ("calls", "call"),
    ("calls", "utterance"),
    ("core", "auditentry"),
    ("core", "auditpersonal"),
    ("core", "job"),
    ("crm", "company"),
    ("crm", "contact"),
    ("crm", "contactemail"),
    ("crm", "contactphone"),
    ("crm", "deal"),
    ("crm", "dealstagechange"),
    ("crm", "note"),
    ("crm", "task"),
    ("studio", "run"),
    ("studio", "steprun"),
}
RISKY_ON_LARGE = (
    ops.AddIndex,
    ops.AddConstraint,
    ops.AlterField,
    ops.RemoveField,
    ops.RenameField,
    ops.RenameModel,
    ops.AlterUniqueTogether,
    ops.RenameIndex,
)


def _risky(app: str, operation) -> bool:
    if isinstance(operation, (ops.RunPython, ops.RunSQL)):
        return True
    model = (getattr(operation, "model_name", None) or getattr(operation, "name", "") or "").lower()
    if (app, model) not in LARGE:
        return False
    if isinstance(operation, RISKY_ON_LARGE):
        return True
    if isinstance(operation, ops.AddField):
        return bool(operation.field.db_index or operation.field.unique)
    return False


def flagged() -> list[str]:
    loader = MigrationLoader(None, ignore_no_migrations=True)  # the files, not what a database applied
    found = []
    for (app, name), migration in sorted(loader.disk_migrations.items()):
        if not migration.__module__.startswith("octopushx.") or name.startswith("0001_"):
            continue  # a table's first migration creates it empty
        if any(_risky(app, operation) for operation in migration.operations):
            found.append(f"{app}.{name}")
    return found


def test_every_migration_that_can_lock_a_large_table_is_documented():
    guide = GUIDE.read_text()
    missing = [name for name in flagged() if f"`{name}`" not in guide]
    assert not missing, (
        f"{', '.join(missing)}: can lock a large table on PostgreSQL or break the version still serving; "
        "make it online (deploy/UPGRADING.md, Rules for migrations) or add it to the guide's Exceptions table"
    )


def test_the_check_sees_what_it_should():
    names = flagged()
    assert "crm.0021_deal_last_activity" in names  # a backfill and an index on deals
    assert "crm.0018_task_completed_index" in names  # an index on tasks
    assert "core.0002_worker_identity" not in names  # a nullable column: metadata only
