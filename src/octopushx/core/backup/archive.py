"""``octopushx backup``: the archive (database and job store snapshots, stored files, manifest) and the key file."""

from __future__ import annotations

import hashlib
import io
import json
import os
import socket
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from octopushx.core.backup import sqlite
from octopushx.core.backup.layout import (
    BLOB_PREFIX,
    DATABASE_MEMBER,
    FORMAT,
    FORMAT_VERSION,
    JOB_STORE_MEMBER,
    KEY_WARNING,
    MANIFEST,
    BackupError,
    Layout,
    check_keys,
    key_document,
    read_current_keys,
    size_text,
    summary,
)

COPY_BUFFER = 1024 * 1024  # tarfile's default is 16 KB: a 1 GB recording would take 65,000 reads


def platform_version() -> str:
    """The installed OctopushX version, written into the manifest."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("octopushx")
    except PackageNotFoundError:
        return "unknown"


class _HashingReader:
    """Hands a file to tarfile and hashes what tarfile reads (one pass over each file)."""

    def __init__(self, handle):
        self._handle = handle
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self.digest.update(data)
        return data


def _add(tar: tarfile.TarFile, source: Path, name: str, mtime: float) -> dict:
    """Append ``source`` as ``name``; its manifest entry (size and sha256 of what was written)."""
    with source.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        info = tarfile.TarInfo(name)
        info.size = size
        info.mtime = int(mtime)
        info.mode = 0o600
        reader = _HashingReader(handle)
        tar.addfile(info, reader)
    return {"path": name, "size": size, "sha256": reader.digest.hexdigest()}


@dataclass
class BackupResult:
    archive: Path
    key_file: Path
    size: int
    files: int
    database_bytes: int
    job_store_bytes: int | None
    blob_count: int
    blob_bytes: int
    missing_blobs: list[str]
    unreferenced_blobs: int
    key_id: str
    tenant_keys: int
    migrations: int
    counts: dict[str, int]

    def report(self) -> str:
        """What was written, for a person."""
        lines = [
            f"Backup written to {self.archive} ({size_text(self.size)}, {self.files} files, sha256 of each in manifest.json):",
            f"  database   online SQLite snapshot, {size_text(self.database_bytes)}, {self.migrations} migrations applied",
            f"             {summary(self.counts)}",
            "  job store  "
            + (
                f"snapshot of the Huey job store, {size_text(self.job_store_bytes)}"
                if self.job_store_bytes is not None
                else "not included (jobs go through Redis; the database holds every job and re-enqueues it)"
            ),
            f"  files      {self.blob_count} stored file(s), {size_text(self.blob_bytes)}, still encrypted",
        ]
        if self.missing_blobs:
            lines.append(
                f"  WARNING: {len(self.missing_blobs)} file(s) the database names were not on disk "
                f"(deleted while the backup ran?): {', '.join(self.missing_blobs[:5])}"
            )
        if self.unreferenced_blobs:
            lines.append(f"  left out  {self.unreferenced_blobs} file(s) in the blob folder no database row refers to")
        lines += [
            f"Master key (id {self.key_id}, opens {self.tenant_keys} organisation key(s)) written SEPARATELY to {self.key_file}",
            f"  {KEY_WARNING}",
        ]
        return "\n".join(lines)


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def _check_destination(destination: Path, key_file: Path, layout: Layout, force: bool) -> None:
    if destination.resolve() == key_file.resolve():
        raise BackupError("The key file must be another file than the backup (--key-out)")
    for path, what in ((destination, "backup"), (key_file, "key file")):
        if path.is_dir():
            raise BackupError(f"{path} is a folder: give the {what} a file name, e.g. {path / 'octopushx-backup.tar'}")
        if not path.parent.is_dir():
            raise BackupError(f"Cannot write the {what} to {path}: the folder {path.parent} does not exist")
        if path.exists() and not force:
            raise BackupError(f"{path} already exists; choose another name or add --force to overwrite it")
        if _inside(path, layout.data_dir) or _inside(path, layout.blobs):
            raise BackupError(
                f"Do not write the {what} into the data folder {layout.data_dir}: losing that folder would lose "
                "the backup with it. Choose a place on another disk or machine."
            )
        if not os.access(path.parent, os.W_OK):
            raise BackupError(f"Cannot write the {what} to {path.parent}: permission denied")


def create(destination: Path, layout: Layout, *, key_file: Path | None = None, force: bool = False) -> BackupResult:
    """Write the backup archive to ``destination`` and the master key to ``key_file`` (default ``DEST.key``)."""
    destination = Path(destination).absolute()
    key_file = Path(key_file).absolute() if key_file else destination.with_name(destination.name + ".key")
    _check_destination(destination, key_file, layout, force)
    keys = read_current_keys(layout)
    created = datetime.now(UTC)
    created_at = created.isoformat(timespec="seconds")
    mtime = created.timestamp()
    # The key file may be on another disk (--key-out): its partial copy is written beside it.
    key_partial = key_file.with_name(f".{key_file.name}.partial-{os.getpid()}")
    try:
        with tempfile.TemporaryDirectory(prefix=".octopushx-backup-", dir=destination.parent) as work_name:
            work = Path(work_name)
            database = work / "octopushx.sqlite3"
            sqlite.snapshot(layout.database, database)
            tenant_keys = check_keys(database, keys.master)  # a backup its own key cannot open is no backup
            migrations = sqlite.migrations(database)
            counts = sqlite.table_counts(database)
            job_store = None
            if layout.job_store is not None and layout.job_store.is_file():
                job_store = work / "jobs.sqlite3"
                sqlite.snapshot(layout.job_store, job_store)
            referenced = sqlite.blob_paths(database)
            partial = work / "backup.tar"
            files: list[dict] = []
            missing: list[str] = []
            with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT, copybufsize=COPY_BUFFER) as tar:
                files.append(_add(tar, database, DATABASE_MEMBER, mtime))
                if job_store is not None:
                    files.append(_add(tar, job_store, JOB_STORE_MEMBER, mtime))
                for path in referenced:
                    try:
                        files.append(_add(tar, layout.blobs / path, BLOB_PREFIX + path, mtime))
                    except FileNotFoundError:  # deleted since the snapshot (a purge, an erasure)
                        missing.append(path)
                manifest = {
                    "format": FORMAT,
                    "format_version": FORMAT_VERSION,
                    "created_at": created_at,
                    "platform_version": platform_version(),
                    "host": socket.gethostname(),
                    "master_key_id": keys.key_id,
                    "migrations": migrations,
                    "table_counts": counts,
                    "missing_blobs": missing,
                    "files": files,
                }
                data = json.dumps(manifest, indent=2).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size = len(data)
                info.mtime = int(mtime)
                info.mode = 0o600
                tar.addfile(info, io.BytesIO(data))
            _fsync(partial)
            descriptor = os.open(key_partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(key_document(keys, created_at, destination))
            _fsync(key_partial)
            os.replace(partial, destination)
            os.replace(key_partial, key_file)
    except OSError as exc:
        raise BackupError(f"Writing the backup to {destination} failed: {exc.strerror or exc}")
    finally:
        key_partial.unlink(missing_ok=True)
    blob_files = [entry for entry in files if entry["path"].startswith(BLOB_PREFIX)]
    referenced_set = set(referenced)
    unreferenced = sum(
        1
        for path in (layout.blobs.rglob("*") if layout.blobs.is_dir() else [])
        if path.is_file()
        and path.relative_to(layout.blobs).as_posix() not in referenced_set
        and not path.relative_to(layout.blobs).as_posix().startswith("_readyz/")
    )
    return BackupResult(
        archive=destination,
        key_file=key_file,
        size=destination.stat().st_size,
        files=len(files) + 1,
        database_bytes=files[0]["size"],
        job_store_bytes=files[1]["size"] if job_store is not None else None,
        blob_count=len(blob_files),
        blob_bytes=sum(entry["size"] for entry in blob_files),
        missing_blobs=missing,
        unreferenced_blobs=unreferenced,
        key_id=keys.key_id,
        tenant_keys=tenant_keys,
        migrations=sum(len(names) for names in migrations.values()),
        counts=counts,
    )


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())
