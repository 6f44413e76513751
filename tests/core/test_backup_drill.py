"""The backup drill: load the demo, back up with `octopushx backup`, wipe the data folder and the
database, restore with `octopushx restore`; then the audit chains verify, every stored recording
decrypts to a playable WAV of its original length, the job store is back and the counts match."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
import wave
from pathlib import Path

import pytest
from django.db import connection, connections

from octopushx import cli, demo
from octopushx.accounts.models import User
from octopushx.calls import services as calls
from octopushx.calls.models import Call
from octopushx.core import blobs, keys
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry, Blob, Job, TenantKey
from octopushx.crm.models import Company, Contact, Deal, Note, Task
from octopushx.tenancy.models import Membership, Organization
from tests.calls.conftest import tone_wav
from tests.core.backup_support import job_store, sqlite_only

pytestmark = [sqlite_only, pytest.mark.django_db(transaction=True)]

MODELS = [Organization, User, Membership, Company, Contact, Deal, Task, Note, Call, Blob, AuditEntry, Job, TenantKey]
RECORDINGS = {"drill-1": 1.5, "drill-2": 3.0}  # external id → seconds


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def _octopushx(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def _load_demo_with_recordings() -> None:
    demo.load()  # OCTOPUSHX_DEMO_CALLS=0 under tests: speech synthesis and transcription are too slow here
    acme = Organization.objects.get(name="Acme Support")
    for external_id, seconds in RECORDINGS.items():
        audio = tone_wav(seconds=seconds, channels=2, rate=16000)
        # The demo's own path for its calls: an upload, stored encrypted, its analysis queued.
        calls.upload_call(
            acme,
            Actor.system("demo"),
            io.BytesIO(audio),
            filename=f"{external_id}.wav",
            size=len(audio),
            content_type="audio/wav",
            data={"external_id": external_id, "direction": "inbound"},
        )


def _wipe(data: Path) -> None:
    """Lose the machine: the data folder and the database file (with its -wal and -shm) are gone."""
    database = Path(connection.settings_dict["NAME"])
    connections.close_all()
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        path.unlink(missing_ok=True)
    shutil.rmtree(data)
    keys._cache.clear()


def test_demo_backup_wipe_restore_then_audit_recordings_and_counts_hold(data_dir, tmp_path, capsys):
    _load_demo_with_recordings()
    queue = job_store(data_dir / "jobs.sqlite3")
    queue.noop(42)
    assert queue.pending_count() == 1
    before = _counts()
    assert before["Call"] == len(RECORDINGS) and before["Contact"] > 100 and before["AuditEntry"] > 100
    recordings_before = {blob.path: blob.sha256 for blob in Blob.objects.filter(purpose="call.recording")}
    master_key_before = (data_dir / "master.key").read_bytes()
    secret_before = (data_dir / "secret_key").read_text()

    backups = tmp_path / "backups"
    backups.mkdir()
    code, out, err = _octopushx(capsys, "backup", str(backups / "drill.tar"))
    assert code == 0, err
    assert f"Backup written to {backups / 'drill.tar'}" in out
    assert f"{len(RECORDINGS)} stored file(s)" in out
    assert f"written SEPARATELY to {backups / 'drill.tar.key'}" in out and "APART from the backup" in out
    assert stat.S_IMODE(os.stat(backups / "drill.tar.key").st_mode) == 0o600

    _wipe(data_dir)
    assert not data_dir.exists()

    code, out, err = _octopushx(capsys, "restore", str(backups / "drill.tar"))
    assert code == 0, err
    assert "files verified (size and sha256)" in out and "matches the data" in out

    code, out, err = _octopushx(capsys, "audit", "verify")
    assert code == 0, out + err
    assert out.count("ok      ") == Organization.objects.count() >= 4

    assert _counts() == before
    restored = Blob.objects.filter(purpose="call.recording").select_related("tenant")
    assert {blob.path: blob.sha256 for blob in restored} == recordings_before
    for call in Call.objects.select_related("recording__tenant"):
        audio = blobs.read_bytes(call.recording)  # authenticated decryption, chunk by chunk
        assert hashlib.sha256(audio).hexdigest() == call.recording.sha256
        with wave.open(io.BytesIO(audio)) as recording:
            assert (recording.getnchannels(), recording.getframerate()) == (2, 16000)
            seconds = recording.getnframes() / recording.getframerate()
        assert seconds == pytest.approx(RECORDINGS[call.external_id], abs=0.01)
    for blob in Blob.objects.exclude(purpose="call.recording").select_related("tenant"):
        assert hashlib.sha256(blobs.read_bytes(blob)).hexdigest() == blob.sha256

    assert job_store(data_dir / "jobs.sqlite3").pending_count() == 1
    assert (data_dir / "master.key").read_bytes() == master_key_before
    assert (data_dir / "secret_key").read_text() == secret_before
    assert not list(data_dir.glob(".octopushx-restore-*"))
