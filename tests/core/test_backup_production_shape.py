"""`octopushx backup` and `restore` cover the embedded defaults only: on PostgreSQL or S3 they refuse
and point to the procedures in the README (on the PostgreSQL CI run the database is really PostgreSQL)."""

from __future__ import annotations

import pytest
from django.db import connection

from octopushx import cli
from octopushx.core import backup


def _octopushx(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


@pytest.fixture
def on_postgresql(monkeypatch):
    if connection.vendor != "postgresql":
        monkeypatch.setitem(connection.settings_dict, "ENGINE", "django.db.backends.postgresql")


def test_backup_refuses_postgresql_and_points_to_pg_dump(data_dir, on_postgresql):
    with pytest.raises(backup.BackupError) as refused:
        backup.layout_from_settings()
    assert "DATABASE_URL points to PostgreSQL" in str(refused.value)
    assert "pg_dump" in str(refused.value) and "README, Production → Backups" in str(refused.value)


def test_backup_refuses_s3_storage_and_points_to_versioning(data_dir, settings):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {}}}
    with pytest.raises(backup.BackupError) as refused:
        backup.layout_from_settings()
    assert "stored files are in S3Storage (OCTOPUSHX_STORAGE=s3)" in str(refused.value)
    assert "versioning" in str(refused.value)


def test_backup_command_refuses_postgresql_with_a_clear_message(data_dir, on_postgresql, tmp_path, capsys):
    code, _out, err = _octopushx(capsys, "backup", str(tmp_path / "b.tar"))
    assert code == 1 and "octopushx: error: `octopushx backup` and `restore` cover the embedded defaults" in err
    assert not (tmp_path / "b.tar").exists()


def test_restore_command_refuses_postgresql_too(data_dir, on_postgresql, tmp_path, capsys):
    (tmp_path / "b.tar").write_bytes(b"")
    code, _out, err = _octopushx(capsys, "restore", str(tmp_path / "b.tar"))
    assert code == 1 and "DATABASE_URL points to PostgreSQL" in err and "pg_dump" in err
