"""`octopushx restore`: a healthy backup into an empty or a full data folder, and every refusal
(damaged, foreign, mismatched key, newer version, running server) with nothing changed."""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tarfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from octopushx import cli
from octopushx.core import backup, crypto
from octopushx.core.backup import restoring
from tests.core.backup_support import snapshot, sqlite_only, target_layout

pytestmark = [sqlite_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def target(tmp_path) -> backup.Layout:
    return target_layout(tmp_path / "restored")


def _octopushx(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = cli.main(list(argv))
    except SystemExit as exc:  # argparse
        code = exc.code
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def _rewrite(archive: Path, change) -> None:
    """Rebuild ``archive`` with ``change(name, data) -> (name, data) | None`` applied to each member."""
    with tarfile.open(archive) as tar:
        members = [(member.name, tar.extractfile(member).read()) for member in tar.getmembers()]
    with tarfile.open(archive, "w") as tar:
        for name, data in members:
            changed = change(name, data)
            if changed is None:
                continue
            info = tarfile.TarInfo(changed[0])
            info.size = len(changed[1])
            tar.addfile(info, io.BytesIO(changed[1]))


def test_restore_into_an_empty_folder_puts_every_part_in_place(made, target):
    archive, key_file, layout = made
    result = backup.restore(archive, target)
    assert (target.database).read_bytes()[:16] == b"SQLite format 3\x00"
    assert snapshot(target.blobs) == snapshot(layout.blobs)
    assert target.master_key_file.read_bytes() == layout.master_key_file.read_bytes()
    assert oct(target.master_key_file.stat().st_mode & 0o777) == "0o600"
    assert target.secret_key_file.read_text() == layout.secret_key_file.read_text()
    assert result.replaced == [] and result.key_source == str(key_file)
    assert "1 organisation key(s) opened" in result.report()


def test_restore_into_a_folder_with_data_says_what_it_would_replace(made, target):
    archive, _key, _layout = made
    backup.restore(archive, target)
    before = snapshot(target.data_dir)
    with pytest.raises(backup.BackupError) as refused:
        backup.restore(archive, target)
    message = str(refused.value)
    assert "already holds data, which restoring would replace" in message
    assert f"the database {target.database}" in message and "1 stored file(s)" in message
    assert f"the master key file {target.master_key_file}" in message and "--force" in message
    assert snapshot(target.data_dir) == before


def test_restore_with_force_replaces_what_was_there(made, target):
    archive, _key, _layout = made
    target.blobs.mkdir(parents=True)
    (target.blobs / "stale").write_bytes(b"old")
    result = backup.restore(archive, target, force=True)
    assert not (target.blobs / "stale").exists()
    assert any("1 stored file(s)" in line for line in result.replaced)
    assert "Replaced what was there" in result.report()


def test_restore_finds_no_key_and_says_how_to_give_it(made, target):
    archive, key_file, _layout = made
    key_file.rename(key_file.with_name("elsewhere.key"))
    with pytest.raises(backup.BackupError, match=r"No master key for this backup: .*--key FILE"):
        backup.restore(archive, target)
    assert snapshot(target.data_dir) == {}
    backup.restore(archive, target, key_file=key_file.with_name("elsewhere.key"))
    assert target.database.exists()


def test_restore_refuses_a_flipped_byte_and_changes_nothing(made, target):
    archive, _key, _layout = made
    target.data_dir.mkdir()
    with tarfile.open(archive) as tar:
        blob = next(member for member in tar.getmembers() if member.name.startswith("blobs/"))
        offset = blob.offset_data + 1000
    with archive.open("r+b") as handle:
        handle.seek(offset)
        byte = handle.read(1)
        handle.seek(offset)
        handle.write(bytes([byte[0] ^ 0x01]))
    with pytest.raises(backup.BackupError) as refused:
        backup.restore(archive, target)
    assert f"{blob.name} does not match its checksum" in str(refused.value)
    assert "nothing was changed" in str(refused.value)
    assert snapshot(target.data_dir) == {} and list(target.data_dir.iterdir()) == []


def test_restore_refuses_a_truncated_archive(made, target):
    archive, _key, _layout = made
    with archive.open("r+b") as handle:
        handle.truncate(archive.stat().st_size // 2)
    with pytest.raises(backup.BackupError, match=r"is damaged or not an OctopushX backup .*nothing was changed"):
        backup.restore(archive, target)
    assert snapshot(target.data_dir) == {}


def test_restore_refuses_a_file_that_is_no_backup(target, tmp_path):
    other = tmp_path / "photo.tar"
    other.write_bytes(os.urandom(5000))
    (tmp_path / "photo.tar.key").write_text(crypto.generate_key_text())
    with pytest.raises(backup.BackupError, match="is damaged or not an OctopushX backup"):
        backup.restore(other, target)
    with tarfile.open(other, "w") as tar:
        tar.addfile(tarfile.TarInfo("hello.txt"), io.BytesIO(b""))
    with pytest.raises(backup.BackupError, match="it has no manifest.json"):
        backup.restore(other, target)
    assert snapshot(target.data_dir) == {}


def test_restore_refuses_a_member_the_manifest_does_not_list(made, target):
    archive, _key, _layout = made
    _rewrite(archive, lambda name, data: (name, data))
    with tarfile.open(archive, "a") as tar:
        tar.addfile(tarfile.TarInfo("blobs/extra"), io.BytesIO(b""))
    with pytest.raises(backup.BackupError, match="blobs/extra is not in its manifest"):
        backup.restore(archive, target)


def test_restore_refuses_a_path_that_climbs_out(made, target, tmp_path):
    archive, _key, _layout = made

    def climb(name, data):
        if name == "manifest.json":
            manifest = json.loads(data)
            manifest["files"].append({"path": "blobs/../../escaped", "size": 3, "sha256": "0" * 64})
            return name, json.dumps(manifest).encode()
        return name, data

    _rewrite(archive, climb)
    with tarfile.open(archive, "a") as tar:
        info = tarfile.TarInfo("blobs/../../escaped")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"bad"))
    with pytest.raises(backup.BackupError, match="unexpected member 'blobs/../../escaped'"):
        backup.restore(archive, target)
    assert not (tmp_path / "escaped").exists() and not (target.data_dir.parent / "escaped").exists()


def test_restore_refuses_the_wrong_key_and_changes_nothing(made, target, tmp_path):
    archive, _key, _layout = made
    wrong = tmp_path / "wrong.key"
    wrong.write_text(crypto.generate_key_text() + "\n")
    with pytest.raises(backup.BackupError) as refused:
        backup.restore(archive, target, key_file=wrong)
    assert "is not this backup's key" in str(refused.value) and "Nothing was changed" in str(refused.value)
    assert snapshot(target.data_dir) == {}


def test_check_keys_names_a_tenant_key_that_does_not_decrypt(made, tmp_path):
    archive, key_file, _layout = made
    with tarfile.open(archive) as tar:
        (tmp_path / "db").write_bytes(tar.extractfile("database/octopushx.sqlite3").read())
    keys = backup.read_key_file(key_file)
    assert backup.check_keys(tmp_path / "db", keys.master) == 1
    database = sqlite3.connect(tmp_path / "db")
    database.execute("UPDATE core_tenantkey SET wrapped = ?", (os.urandom(60),))
    database.commit()
    database.close()
    with pytest.raises(backup.BackupError, match=r"organisation .*'s data key does not decrypt"):
        backup.check_keys(tmp_path / "db", keys.master)


def test_restore_refuses_a_different_key_in_the_environment(made, target):
    archive, _key, _layout = made
    other = crypto._decode_key(crypto.generate_key_text(), "test")
    environment = backup.Layout(**{**target.__dict__, "master_key_file": None, "environment_master_keys": (other,)})
    with pytest.raises(backup.BackupError, match="OCTOPUSHX_MASTER_KEY is another key"):
        backup.restore(archive, environment)
    assert snapshot(target.data_dir) == {}


def test_restore_refuses_a_backup_from_a_newer_version(made, target):
    archive, _key, _layout = made
    known = restoring._code_migrations()
    newest = max(name for app, name in known if app == "core")
    with pytest.raises(backup.BackupError) as refused:
        backup.restore(archive, target, known_migrations=known - {("core", newest)})
    assert "was made by a newer OctopushX" in str(refused.value) and f"core.{newest}" in str(refused.value)
    assert snapshot(target.data_dir) == {}


def test_restore_of_an_older_backup_asks_for_migrate(made, target):
    archive, _key, _layout = made
    known = restoring._code_migrations() | {("core", "9999_from_the_future")}
    result = backup.restore(archive, target, known_migrations=known)
    assert result.pending_migrations == 1 and "run `octopushx migrate`" in result.report()


def _register_process(database: Path, hostname: str, pid: int, heartbeat: datetime) -> None:
    """A `serve`/`worker` registration as jobs.register_worker writes it."""
    connection = sqlite3.connect(database)
    beat = heartbeat.strftime("%Y-%m-%d %H:%M:%S.%f")
    connection.execute(
        "INSERT INTO core_workerprocess (id, hostname, pid, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?)",
        (uuid.uuid4().hex, hostname, pid, beat, beat),
    )
    connection.commit()
    connection.close()


def test_restore_refuses_while_a_server_runs_on_the_data(made, target):
    archive, _key, _layout = made
    backup.restore(archive, target)
    server = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # stands in for `serve`
    try:
        _register_process(target.database, socket.gethostname(), server.pid, datetime.now(UTC))
        before = snapshot(target.data_dir)
        with pytest.raises(backup.BackupError, match=rf"OctopushX is running on this data \(pid {server.pid} on"):
            backup.restore(archive, target, force=True)
        assert snapshot(target.data_dir) == before
    finally:
        server.kill()
        server.wait()
    backup.restore(archive, target, force=True)  # once it has stopped


def test_restore_refuses_while_a_process_elsewhere_heart_beats(made, target):
    archive, _key, _layout = made
    backup.restore(archive, target)
    _register_process(target.database, "worker-7.example", 4242, datetime.now(UTC) - timedelta(seconds=30))
    with pytest.raises(backup.BackupError, match=r"pid 4242 on worker-7.example"):
        backup.restore(archive, target, force=True)


def test_restore_ignores_registrations_whose_heartbeat_stopped(made, target):
    """A server killed long ago: its pid may belong to another program by now (here: this test's parent)."""
    archive, _key, _layout = made
    backup.restore(archive, target)
    stale = datetime.now(UTC) - timedelta(hours=1)
    _register_process(target.database, socket.gethostname(), os.getppid(), stale)
    _register_process(target.database, "worker-7.example", 4242, stale)
    backup.restore(archive, target, force=True)


def test_restore_puts_back_what_was_there_when_a_move_fails(made, target, monkeypatch):
    archive, _key, _layout = made
    backup.restore(archive, target)
    (target.blobs / "kept").write_bytes(b"mine")
    before = snapshot(target.data_dir)
    real_move = shutil.move

    def failing_move(source, destination):
        if Path(source).name == "blobs":  # the restored files, on their way in
            raise OSError(28, "No space left on device")
        return real_move(source, destination)

    monkeypatch.setattr(restoring.shutil, "move", failing_move)
    with pytest.raises(backup.BackupError, match=r"Restoring failed \(No space left on device\) and was undone"):
        backup.restore(archive, target, force=True)
    assert snapshot(target.data_dir) == before
    assert not list(target.data_dir.glob(".octopushx-restore-*"))


def test_restore_on_the_command_line_names_a_missing_file(data_dir, tmp_path, capsys):
    code, _out, err = _octopushx(capsys, "restore", str(tmp_path / "none.tar"))
    assert code == 1 and err.startswith("octopushx: error: There is no backup file at")
    code, _out, err = _octopushx(capsys, "restore")
    assert code == 2 and "SRC" in err


def test_restore_keeps_the_old_data_when_it_cannot_be_put_back(made, target, monkeypatch):
    archive, _key, _layout = made
    backup.restore(archive, target)
    real_move = shutil.move

    def failing_move(source, destination):
        staged = ".octopushx-restore-" in str(source)
        if staged and (Path(source).name == "blobs" or Path(destination) == target.blobs):
            raise OSError(28, "No space left on device")
        return real_move(source, destination)

    monkeypatch.setattr(restoring.shutil, "move", failing_move)
    with pytest.raises(
        backup.BackupError, match=r"could not be put back: the old data is kept in .*move it back by hand"
    ):
        backup.restore(archive, target, force=True)
    kept = list(target.data_dir.glob(".octopushx-restore-*/replaced/*-blobs"))
    assert len(kept) == 1 and any(path.is_file() for path in kept[0].rglob("*"))
