"""`octopushx backup`: what it writes and where, that it is an online consistent snapshot, and
what it refuses (an existing file, a folder, the data folder, no master key, a full disk)."""

from __future__ import annotations

import sqlite3
import tarfile
import threading
import time
import uuid

import pytest

from octopushx import cli
from octopushx.core import backup
from octopushx.core.backup import archive as archive_module
from tests.core.backup_support import sqlite_only

pytestmark = [sqlite_only, pytest.mark.django_db(transaction=True)]


def _octopushx(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = cli.main(list(argv))
    except SystemExit as exc:  # argparse
        code = exc.code
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_backup_refuses_an_existing_file_without_force(made):
    archive, key_file, layout = made
    before = archive.read_bytes()
    with pytest.raises(backup.BackupError, match=r"already exists; choose another name or add --force"):
        backup.create(archive, layout)
    assert archive.read_bytes() == before


def test_backup_with_force_overwrites_both_files(made):
    archive, key_file, layout = made
    result = backup.create(archive, layout, force=True)
    assert result.archive == archive and key_file.exists()


def test_backup_refuses_an_existing_key_file_without_force(made, tmp_path):
    _archive, key_file, layout = made
    with pytest.raises(backup.BackupError, match=r"b.tar.key already exists"):
        backup.create(tmp_path / "other.tar", layout, key_file=key_file)
    assert not (tmp_path / "other.tar").exists()


def test_backup_key_out_writes_the_key_where_asked(layout, tmp_path):
    result = backup.create(tmp_path / "b.tar", layout, key_file=tmp_path / "k")
    assert result.key_file == tmp_path / "k"
    assert backup.read_key_file(tmp_path / "k").key_id == result.key_id
    assert not (tmp_path / "b.tar.key").exists()


def test_backup_refuses_the_key_file_in_place_of_the_backup(layout, tmp_path):
    with pytest.raises(backup.BackupError, match="another file than the backup"):
        backup.create(tmp_path / "b.tar", layout, key_file=tmp_path / "b.tar")


def test_backup_refuses_a_folder(layout, tmp_path):
    with pytest.raises(backup.BackupError, match=r"is a folder: give the backup a file name"):
        backup.create(tmp_path, layout)


def test_backup_refuses_a_missing_folder(layout, tmp_path):
    with pytest.raises(backup.BackupError, match=r"the folder .*nowhere does not exist"):
        backup.create(tmp_path / "nowhere" / "b.tar", layout)


def test_backup_refuses_to_write_into_the_data_folder(layout):
    with pytest.raises(backup.BackupError, match="Do not write the backup into the data folder"):
        backup.create(layout.data_dir / "b.tar", layout)
    assert not (layout.data_dir / "b.tar").exists()


def test_backup_refuses_without_the_master_key_file(layout, tmp_path):
    layout.master_key_file.unlink(missing_ok=True)
    with pytest.raises(backup.BackupError, match="There is no master key at"):
        backup.create(tmp_path / "b.tar", layout)
    assert not list(tmp_path.glob("b.tar*"))


def test_backup_on_the_command_line_names_a_bad_destination(data_dir, tmp_path, capsys):
    code, out, err = _octopushx(capsys, "backup", str(tmp_path / "nowhere" / "b.tar"))
    assert code == 1 and err.startswith("octopushx: error: Cannot write the backup to")
    code, _out, err = _octopushx(capsys, "backup")
    assert code == 2 and "DEST" in err


def test_backup_while_another_process_keeps_writing_is_a_consistent_snapshot(layout, tmp_path):
    """Writes land in pairs (one transaction each): a consistent copy never holds half a pair."""
    stop = threading.Event()
    written = []

    def write_pairs():
        writer = sqlite3.connect(layout.database, timeout=30, isolation_level=None)
        writer.execute("PRAGMA journal_mode=WAL")
        while not stop.is_set():
            writer.execute("BEGIN IMMEDIATE")
            for _ in range(2):
                writer.execute(
                    "INSERT INTO core_workerprocess (id, hostname, pid, started_at, heartbeat_at) "
                    "VALUES (?, 'pair-writer', 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
                    (uuid.uuid4().hex,),
                )
            writer.execute("COMMIT")
            written.append(2)
        writer.close()

    thread = threading.Thread(target=write_pairs)
    thread.start()
    try:
        while len(written) < 20:
            time.sleep(0.01)
        backup.create(tmp_path / "b.tar", layout)
    finally:
        stop.set()
        thread.join()
    with tarfile.open(tmp_path / "b.tar") as tar:
        (tmp_path / "db").write_bytes(tar.extractfile("database/octopushx.sqlite3").read())
    copy = sqlite3.connect(tmp_path / "db")
    copied = copy.execute("SELECT COUNT(*) FROM core_workerprocess WHERE hostname = 'pair-writer'").fetchone()[0]
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    copy.close()
    assert copied % 2 == 0 and 40 <= copied <= sum(written)


def test_backup_runs_beside_an_open_write_transaction_and_holds_only_committed_data(layout, tmp_path):
    writer = sqlite3.connect(layout.database, timeout=1)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute(
        "INSERT INTO core_workerprocess (id, hostname, pid, started_at, heartbeat_at) "
        "VALUES ('0123456789abcdef0123456789abcdef', 'elsewhere', 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
    )
    try:
        backup.create(tmp_path / "b.tar", layout)  # a server holding the write lock does not stop it
    finally:
        writer.rollback()
        writer.close()
    with tarfile.open(tmp_path / "b.tar") as tar:
        (tmp_path / "db").write_bytes(tar.extractfile("database/octopushx.sqlite3").read())
    copy = sqlite3.connect(tmp_path / "db")
    assert copy.execute("SELECT COUNT(*) FROM core_workerprocess WHERE hostname = 'elsewhere'").fetchone()[0] == 0
    assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    copy.close()


def test_backup_names_a_disk_that_fills_up_and_leaves_no_partial_file(layout, tmp_path, monkeypatch):
    real_add = archive_module._add

    def full(tar, source, name, mtime):
        if name.startswith("blobs/") or name.startswith("jobs/"):
            raise OSError(28, "No space left on device")
        return real_add(tar, source, name, mtime)

    monkeypatch.setattr(archive_module, "_add", full)
    layout.job_store.touch()
    with pytest.raises(backup.BackupError, match=r"Writing the backup to .*b.tar failed: No space left on device"):
        backup.create(tmp_path / "b.tar", layout)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["data"]


def test_backup_writes_the_key_to_another_folder(layout, tmp_path):
    (tmp_path / "vault").mkdir()
    result = backup.create(tmp_path / "b.tar", layout, key_file=tmp_path / "vault" / "octopushx.key")
    assert result.key_file.read_text().startswith("{") and list((tmp_path / "vault").iterdir()) == [result.key_file]
