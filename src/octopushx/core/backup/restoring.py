"""``octopushx restore``: every check first (checksums, migrations, key, running processes, an empty
data folder), then the files are moved into place; a failure half-way puts back what was there."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import socket
import sqlite3
import tarfile
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from octopushx.core import crypto
from octopushx.core.backup import sqlite
from octopushx.core.backup.layout import (
    BLOB_PREFIX,
    DATABASE_MEMBER,
    FORMAT,
    FORMAT_VERSION,
    JOB_STORE_MEMBER,
    MANIFEST,
    BackupError,
    Keys,
    Layout,
    check_keys,
    decode_key,
    read_key_file,
    size_text,
    summary,
)

# A blob path is made by blobs.store: "<tenant id>/<hex>"; nothing else is extracted.
SAFE_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass
class RestoreResult:
    source: Path
    manifest: dict
    files: int
    key_source: str
    tenant_keys: int
    replaced: list[str]
    pending_migrations: int
    notes: list[str] = field(default_factory=list)

    def report(self) -> str:
        manifest = self.manifest
        counts = manifest.get("table_counts", {})
        lines = [
            f"Backup {self.source}: made {manifest['created_at']} by OctopushX {manifest['platform_version']} "
            f"on {manifest.get('host', '?')}; {self.files} files verified (size and sha256).",
            f"Master key from {self.key_source} matches the data (id {manifest['master_key_id']}, "
            f"{self.tenant_keys} organisation key(s) opened).",
            f"Restored: {summary(counts)}.",
        ]
        if self.replaced:
            lines.append("Replaced what was there: " + "; ".join(self.replaced) + ".")
        lines += [f"Note: {note}" for note in self.notes]
        if self.pending_migrations:
            lines.append(
                f"This version has {self.pending_migrations} migration(s) the backup predates: run `octopushx migrate`."
            )
        lines.append("Next: `octopushx audit verify`, then start the server.")
        return "\n".join(lines)


def _damaged(source: Path, detail: str) -> BackupError:
    return BackupError(f"{source} is damaged or not an OctopushX backup ({detail}); nothing was changed")


def _cannot_unpack(staging: Path, exc: OSError) -> BackupError:
    return BackupError(f"Cannot unpack the backup into {staging.parent}: {exc.strerror or exc}; nothing was changed")


def _read_manifest(tar: tarfile.TarFile, source: Path) -> tuple[dict, dict[str, tarfile.TarInfo]]:
    members: dict[str, tarfile.TarInfo] = {}
    for member in tar.getmembers():
        if member.name in members:
            raise _damaged(source, f"{member.name} appears twice")
        members[member.name] = member
    if MANIFEST not in members:
        raise _damaged(source, "it has no manifest.json")
    handle = tar.extractfile(members[MANIFEST])
    try:
        manifest = json.loads(handle.read()) if handle else None
    except ValueError:
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _damaged(source, "its manifest.json is not an OctopushX backup manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"{source} is in backup format {manifest.get('format_version')}, and this version of OctopushX reads "
            f"format {FORMAT_VERSION}; nothing was changed"
        )
    for key in ("created_at", "platform_version", "master_key_id", "migrations", "files"):
        if key not in manifest:
            raise _damaged(source, f"its manifest has no {key}")
    if not isinstance(manifest["files"], list) or not isinstance(manifest["migrations"], dict):
        raise _damaged(source, "its manifest is malformed")
    return manifest, members


def _member_target(name: str, staging: Path) -> Path:
    if name in (DATABASE_MEMBER, JOB_STORE_MEMBER):
        return staging / name
    if name.startswith(BLOB_PREFIX):
        parts = name[len(BLOB_PREFIX) :].split("/")
        if parts and all(SAFE_PART.match(part) and part not in (".", "..") for part in parts):
            return staging.joinpath("blobs", *parts)
    raise BackupError(f"unexpected member {name!r}")


def _extract_verified(tar: tarfile.TarFile, manifest: dict, members: dict, staging: Path, source: Path) -> None:
    listed = {entry.get("path") for entry in manifest["files"] if isinstance(entry, dict)}
    extra = sorted(set(members) - listed - {MANIFEST})
    if extra:
        raise _damaged(source, f"{extra[0]} is not in its manifest")
    if DATABASE_MEMBER not in listed:
        raise _damaged(source, "it holds no database")
    for entry in manifest["files"]:
        name = entry.get("path") if isinstance(entry, dict) else None
        member = members.get(name)
        if member is None:
            raise _damaged(source, f"{name} is missing")
        if not member.isreg():
            raise _damaged(source, f"{name} is not a plain file")
        try:
            target = _member_target(name, staging)
        except BackupError as exc:
            raise _damaged(source, str(exc))
        if member.size != entry.get("size"):
            raise _damaged(source, f"{name} is {member.size} bytes, the manifest says {entry.get('size')}")
        digest = hashlib.sha256()
        handle = tar.extractfile(member)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            out = target.open("wb")
        except OSError as exc:
            raise _cannot_unpack(staging, exc)
        with out:
            while piece := handle.read(1024 * 1024):
                digest.update(piece)
                try:
                    out.write(piece)
                except OSError as exc:
                    raise _cannot_unpack(staging, exc)
        if digest.hexdigest() != entry.get("sha256"):
            raise _damaged(source, f"{name} does not match its checksum")


def _code_migrations() -> set[tuple[str, str]]:
    from django.db.migrations.loader import MigrationLoader

    return set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)


def _check_migrations(manifest: dict, source: Path, known: set[tuple[str, str]]) -> int:
    """Refuse a backup made by a newer version; return how many migrations this version adds."""
    applied = {(app, name) for app, names in manifest["migrations"].items() for name in names}
    unknown = sorted(applied - known)
    if unknown:
        app, name = unknown[0]
        raise BackupError(
            f"{source} was made by a newer OctopushX ({manifest['platform_version']}): this version does not know "
            f"{len(unknown)} of its migrations ({app}.{name}, …). Install that version (or newer) to restore it; "
            "nothing was changed"
        )
    return len(known - applied)


def _pick_keys(source: Path, layout: Layout, key_file: Path | None) -> tuple[Keys, str]:
    if key_file is not None:
        if not key_file.is_file():
            raise BackupError(f"There is no key file at {key_file}; nothing was changed")
        return read_key_file(key_file), str(key_file)
    beside = source.with_name(source.name + ".key")
    if beside.is_file():
        return read_key_file(beside), str(beside)
    if layout.environment_master_keys:
        return Keys(master=list(layout.environment_master_keys)), "OCTOPUSHX_MASTER_KEY"
    if layout.master_key_file is not None and layout.master_key_file.is_file():
        return Keys(master=[decode_key(layout.master_key_file.read_text(), layout.master_key_file)]), str(
            layout.master_key_file
        )
    raise BackupError(
        f"No master key for this backup: {beside} is not there. Give the key file written with it (--key FILE); "
        "nothing was changed"
    )


def _existing_data(layout: Layout) -> list[str]:
    """What restoring would replace. Empty stores made by merely starting a command do not count:
    any ``octopushx`` command creates the job store, and a failed one may leave an empty database."""
    found = []
    if layout.database.is_file() and sqlite.scalar(layout.database, "SELECT COUNT(*) FROM sqlite_master") != 0:
        found.append(f"the database {layout.database} ({size_text(layout.database.stat().st_size)})")
    if layout.blobs.is_dir():
        stored = [path for path in layout.blobs.rglob("*") if path.is_file()]
        if stored:
            found.append(f"{len(stored)} stored file(s) in {layout.blobs}")
    if layout.job_store is not None and layout.job_store.is_file():
        waiting = sqlite.scalar(
            layout.job_store, "SELECT (SELECT COUNT(*) FROM task) + (SELECT COUNT(*) FROM schedule)"
        )
        if waiting != 0:
            state = "unreadable" if waiting is None else f"{waiting} delivery(ies) waiting"
            found.append(f"the job store {layout.job_store} ({state})")
    if layout.master_key_file is not None and layout.master_key_file.is_file():
        found.append(f"the master key file {layout.master_key_file}")
    return found


def _running_processes(database: Path, reaper_seconds: int) -> list[str]:
    """`serve`/`worker` processes registered in the target database that still run."""
    from octopushx.core.jobs import _process_exists

    if not database.is_file():
        return []
    try:
        connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)
        try:
            rows = connection.execute("SELECT hostname, pid, heartbeat_at FROM core_workerprocess").fetchall()
        finally:
            connection.close()
    except sqlite3.DatabaseError:
        return []
    host = socket.gethostname()
    now = datetime.now(UTC)
    running = []
    for hostname, pid, heartbeat in rows:
        # A live process heart-beats every reaper period; a pid that exists after a stale heartbeat
        # belongs to some other program (pids are reused).
        try:
            beat = datetime.fromisoformat(str(heartbeat))
        except ValueError:
            continue
        beat = beat if beat.tzinfo else beat.replace(tzinfo=UTC)
        alive = now - beat < timedelta(seconds=3 * reaper_seconds)
        if hostname == host:
            alive = alive and pid != os.getpid() and _process_exists(int(pid))
        if alive:
            running.append(f"pid {pid} on {hostname}")
    return running


class _Swap:
    """Moves new files into place, keeping what was there aside until the end (undone on failure)."""

    def __init__(self, aside: Path):
        self.aside = aside
        self.moved: list[tuple[Path, Path]] = []
        self.installed: list[Path] = []

    def put_aside(self, path: Path) -> None:
        if path.exists() or path.is_symlink():
            self.aside.mkdir(parents=True, exist_ok=True)
            target = self.aside / f"{len(self.moved)}-{path.name}"
            shutil.move(str(path), str(target))
            self.moved.append((path, target))

    def install(self, staged: Path, path: Path) -> None:
        self.put_aside(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staged), str(path))
        self.installed.append(path)

    def write(self, path: Path, text: str) -> None:
        self.put_aside(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self.installed.append(path)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(text)

    def undo(self) -> list[Path]:
        """Remove what was installed and move back what was set aside; returns what could not go back."""
        for path in reversed(self.installed):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            elif path.exists():
                path.unlink()
        stuck = []
        for original, aside in reversed(self.moved):
            try:
                shutil.move(str(aside), str(original))
            except OSError:
                stuck.append(original)
        return stuck


class _OldDataKept(BackupError):
    """Restoring failed and the old data could not all be moved back: its copy must not be deleted."""


def _sqlite_companions(path: Path) -> list[Path]:
    return [Path(f"{path}{suffix}") for suffix in ("-wal", "-shm", "-journal")]


def restore(
    source: Path,
    layout: Layout,
    *,
    key_file: Path | None = None,
    force: bool = False,
    known_migrations: set[tuple[str, str]] | None = None,
    reaper_seconds: int = 60,
) -> RestoreResult:
    """Check the backup at ``source`` and its key, then put it in place of the data in ``layout``.

    Every check runs before anything changes; a failure while files are moved puts back what was there.
    """
    source = Path(source).absolute()
    if not source.is_file():
        raise BackupError(f"There is no backup file at {source}")
    keys, key_source = _pick_keys(source, layout, Path(key_file).absolute() if key_file else None)
    layout.data_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".octopushx-restore-", dir=layout.data_dir))
    keep_staging = False
    try:
        try:
            with tarfile.open(source, "r:") as tar:
                manifest, members = _read_manifest(tar, source)
                pending = _check_migrations(
                    manifest, source, _code_migrations() if known_migrations is None else known_migrations
                )
                _extract_verified(tar, manifest, members, staging, source)
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise _damaged(source, f"{type(exc).__name__}: {exc}")
        if manifest["master_key_id"] not in {crypto.key_id(key) for key in keys.master}:
            raise BackupError(
                f"The master key from {key_source} (id {keys.key_id}) is not this backup's key "
                f"(id {manifest['master_key_id']}); give the key file written with it (--key FILE). Nothing was changed"
            )
        try:
            tenant_keys = check_keys(staging / DATABASE_MEMBER, keys.master)
        except BackupError as exc:
            raise BackupError(f"{exc} Nothing was changed.")
        if layout.environment_master_keys and crypto.key_id(layout.environment_master_keys[0]) != keys.key_id:
            raise BackupError(
                f"OCTOPUSHX_MASTER_KEY is another key (id {crypto.key_id(layout.environment_master_keys[0])}) than "
                f"this backup's (id {keys.key_id}): the server would refuse to start. Set OCTOPUSHX_MASTER_KEY to "
                f"the master_key in {key_source} and restore again; nothing was changed"
            )
        running = _running_processes(layout.database, reaper_seconds)
        if running:
            raise BackupError(
                f"OctopushX is running on this data ({', '.join(running)}): stop every `serve` and `worker` "
                "process first; nothing was changed"
            )
        existing = _existing_data(layout)
        if existing and not force:
            raise BackupError(
                "The data folder already holds data, which restoring would replace: "
                + "; ".join(existing)
                + ". Restore into an empty data folder (OCTOPUSHX_DATA_DIR), or add --force to replace it. "
                "Nothing was changed"
            )
        notes = []
        if manifest.get("missing_blobs"):
            notes.append(
                f"{len(manifest['missing_blobs'])} stored file(s) were already missing when the backup was made"
            )
        try:
            _put_in_place(layout, staging, keys, manifest, notes)
        except OSError as exc:
            raise BackupError(
                f"Restoring failed ({exc.strerror or exc}) and was undone: the data folder is as it was"
            ) from exc
        return RestoreResult(
            source=source,
            manifest=manifest,
            files=len(manifest["files"]) + 1,
            key_source=key_source,
            tenant_keys=tenant_keys,
            replaced=existing,
            pending_migrations=pending,
            notes=notes,
        )
    except _OldDataKept:
        keep_staging = True
        raise
    finally:
        if not keep_staging:
            shutil.rmtree(staging, ignore_errors=True)


def _put_in_place(layout: Layout, staging: Path, keys: Keys, manifest: dict, notes: list[str]) -> None:
    from django.db import connections

    connections.close_all()  # nothing in this process may keep the old database open
    swap = _Swap(staging / "replaced")
    try:
        for companion in _sqlite_companions(layout.database):
            swap.put_aside(companion)  # an old -wal applied to the restored file would corrupt it
        swap.install(staging / DATABASE_MEMBER, layout.database)
        has_job_store = any(entry.get("path") == JOB_STORE_MEMBER for entry in manifest["files"])
        if layout.job_store is not None:
            for companion in _sqlite_companions(layout.job_store):
                swap.put_aside(companion)
            if has_job_store:
                swap.install(staging / JOB_STORE_MEMBER, layout.job_store)
            else:
                swap.put_aside(layout.job_store)
        elif has_job_store:
            notes.append(
                "the backup's job store was not restored: jobs go through Redis here, and the database "
                "re-enqueues every queued job"
            )
        staged_blobs = staging / "blobs"
        staged_blobs.mkdir(exist_ok=True)
        swap.install(staged_blobs, layout.blobs)
        if layout.master_key_file is not None:
            swap.write(layout.master_key_file, base64.b64encode(keys.master[0]).decode() + "\n")
            previous = layout.previous_keys_file
            if previous is not None:
                swap.put_aside(previous)
                if keys.master[1:]:
                    swap.write(previous, "".join(base64.b64encode(key).decode() + "\n" for key in keys.master[1:]))
        if layout.secret_key_file is not None and keys.secret_key:
            swap.write(layout.secret_key_file, keys.secret_key)
        elif layout.secret_key_file is not None:
            notes.append("the key file holds no signing key: sessions and password-reset links made before are void")
    except BaseException as exc:
        stuck = swap.undo()
        if stuck:
            raise _OldDataKept(
                f"Restoring failed ({exc}) and {', '.join(map(str, stuck))} could not be put back: the old data "
                f"is kept in {swap.aside}; move it back by hand"
            ) from exc
        raise
    from octopushx.core import keys as tenant_keys

    tenant_keys._cache.clear()
