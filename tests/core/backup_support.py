"""Helpers of the backup tests (their fixtures, ``data_dir`` and ``layout``, are in tests/core/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection
from huey import SqliteHuey

from octopushx.core import backup

sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="octopushx backup covers the embedded SQLite defaults only"
)


def job_store(path: Path) -> SqliteHuey:
    """A Huey SQLite store like the one `serve` uses, with one task to enqueue."""
    huey = SqliteHuey("octopushx", filename=str(path))

    @huey.task(name="backup_test_noop")
    def noop(value):
        return value

    huey.noop = noop
    return huey


def target_layout(folder: Path) -> backup.Layout:
    """A second, empty installation to restore into (the refusal tests never touch the test database)."""
    return backup.Layout(
        data_dir=folder,
        database=folder / "octopushx.sqlite3",
        blobs=folder / "blobs",
        job_store=folder / "jobs.sqlite3",
        master_key_file=folder / "master.key",
        secret_key_file=folder / "secret_key",
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its content: to prove that nothing changed."""
    if not folder.exists():
        return {}
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}
