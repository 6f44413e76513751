"""Reading the SQLite files: online snapshots and what a snapshot holds."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from octopushx.core.backup.layout import BackupError


def snapshot(source: Path, target: Path) -> None:
    """An online copy: one backup step is one read transaction (WAL: writers carry on meanwhile)."""
    if not source.is_file():
        raise BackupError(f"There is no database at {source}: nothing to back up (run `octopushx migrate` first?)")
    # Read-write open (never writes): a read-only connection cannot open a WAL database whose
    # -shm file is missing; the source is not created when missing because that was checked above.
    origin = sqlite3.connect(source, timeout=30)
    copy = sqlite3.connect(target)
    try:
        origin.backup(copy)
        # One self-contained file: no -wal beside it. The server turns WAL on again when it opens it.
        copy.execute("PRAGMA journal_mode=DELETE")
        verdict = copy.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"Cannot copy the database {source}: {exc}")
    finally:
        copy.close()
        origin.close()
    if verdict != "ok":
        raise BackupError(f"The database {source} is damaged ({verdict}); repair it before backing it up")


def migrations(database: Path) -> dict[str, list[str]]:
    """The migrations applied to ``database``, by app, in the order they ran."""
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        rows = connection.execute("SELECT app, name FROM django_migrations ORDER BY app, id").fetchall()
    except sqlite3.OperationalError:
        rows = []
    finally:
        connection.close()
    applied: dict[str, list[str]] = {}
    for app, name in rows:
        applied.setdefault(app, []).append(name)
    return applied


def table_counts(database: Path) -> dict[str, int]:
    """Rows in every table (the manifest records them; the reports print the main ones)."""
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        # Table names come from the database's own catalogue, quoted.
        return {name: connection.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0] for name in tables}  # noqa: S608  # nosec B608
    finally:
        connection.close()


def blob_paths(database: Path) -> list[str]:
    """The storage path of every stored file the database refers to."""
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return [row[0] for row in connection.execute("SELECT path FROM core_blob ORDER BY path")]
    except sqlite3.OperationalError:
        return []
    finally:
        connection.close()


def scalar(database: Path, query: str) -> int | None:
    """The single number ``query`` answers on ``database``; None when it cannot be read."""
    try:
        connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)
        try:
            return int(connection.execute(query).fetchone()[0])
        finally:
            connection.close()
    except sqlite3.DatabaseError:
        return None
