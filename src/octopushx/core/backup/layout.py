"""Where the embedded defaults keep their data, the archive's names, and the master key's file."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path

from octopushx.core import crypto

FORMAT = "octopushx-backup"
FORMAT_VERSION = 1
KEY_FORMAT = "octopushx-backup-key"
MANIFEST = "manifest.json"
DATABASE_MEMBER = "database/octopushx.sqlite3"
JOB_STORE_MEMBER = "jobs/jobs.sqlite3"
BLOB_PREFIX = "blobs/"
KEY_WARNING = (
    "Store this key file APART from the backup (a secret manager, another machine, a safe): "
    "whoever holds both can decrypt every recording and file in it, and without it the backup cannot be read."
)
PRODUCTION_PROCEDURES = "see the README, Production → Backups"


MAIN_TABLES = {
    "tenancy_organization": "organisations",
    "accounts_user": "users",
    "crm_contact": "contacts",
    "crm_deal": "deals",
    "calls_call": "calls",
    "core_blob": "stored files",
    "core_auditentry": "audit entries",
    "core_job": "jobs",
}


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


@dataclass(frozen=True)
class Layout:
    """Where the embedded defaults keep their data (``layout_from_settings`` reads it)."""

    data_dir: Path
    database: Path
    blobs: Path
    job_store: Path | None  # None: jobs go through Redis (or memory, under tests)
    master_key_file: Path | None  # None: the key comes from OCTOPUSHX_MASTER_KEY
    secret_key_file: Path | None  # None: OCTOPUSHX_SECRET_KEY is set
    environment_master_keys: tuple[bytes, ...] = ()  # OCTOPUSHX_MASTER_KEY (and _PREVIOUS), if set

    @property
    def previous_keys_file(self) -> Path | None:
        return Path(f"{self.master_key_file}.previous") if self.master_key_file else None


def layout_from_settings() -> Layout:
    """The embedded layout of this installation; refuses PostgreSQL and S3 with where to look instead."""
    from django.conf import settings
    from django.db import connections

    database = connections["default"].settings_dict
    storage = settings.STORAGES["default"]
    elsewhere = []
    if "sqlite" not in database["ENGINE"]:
        vendor = "PostgreSQL" if "postgres" in database["ENGINE"] else database["ENGINE"]
        elsewhere.append(f"DATABASE_URL points to {vendor}")
    if storage["BACKEND"] != "django.core.files.storage.FileSystemStorage":
        backend = storage["BACKEND"].rsplit(".", 1)[-1]
        elsewhere.append(f"stored files are in {backend} (OCTOPUSHX_STORAGE=s3)")
    if elsewhere:
        raise BackupError(
            f"`octopushx backup` and `restore` cover the embedded defaults only, and here {' and '.join(elsewhere)}. "
            "Back up PostgreSQL with pg_dump or with point-in-time recovery (WAL archiving), and the S3 bucket "
            f"with versioning: {PRODUCTION_PROCEDURES}."
        )
    huey = settings.HUEY
    job_store = Path(huey["filename"]) if huey.get("huey_class") == "huey.SqliteHuey" else None
    environment_keys = tuple(crypto.master_keys()) if settings.MASTER_KEY else ()
    secret_from_environment = bool(os.environ.get("OCTOPUSHX_SECRET_KEY"))
    data_dir = Path(settings.DATA_DIR)
    return Layout(
        data_dir=data_dir,
        database=Path(database["NAME"]),
        blobs=Path(storage["OPTIONS"]["location"]),
        job_store=job_store,
        master_key_file=None if settings.MASTER_KEY else Path(settings.MASTER_KEY_FILE),
        secret_key_file=None if secret_from_environment else data_dir / "secret_key",
        environment_master_keys=environment_keys,
    )


@dataclass
class Keys:
    """The master key (first) with the older ones still accepted, and the Django signing key."""

    master: list[bytes]
    secret_key: str | None = None

    @property
    def key_id(self) -> str:
        return crypto.key_id(self.master[0])


def read_current_keys(layout: Layout) -> Keys:
    """The keys this installation runs with: from its key file (and ``.previous``) or the environment."""
    if layout.master_key_file is None:
        master = list(layout.environment_master_keys)
    else:
        if not layout.master_key_file.is_file():
            raise BackupError(
                f"There is no master key at {layout.master_key_file}: without it the stored data cannot be "
                "decrypted, so a backup would be useless. Set OCTOPUSHX_MASTER_KEY_FILE to the key's file."
            )
        master = [decode_key(layout.master_key_file.read_text(), layout.master_key_file)]
        previous = layout.previous_keys_file
        if previous is not None and previous.is_file():
            master += [decode_key(line, previous) for line in previous.read_text().split()]
    secret = None
    if layout.secret_key_file is not None and layout.secret_key_file.is_file():
        secret = layout.secret_key_file.read_text().strip()
    return Keys(master=master, secret_key=secret)


def decode_key(text: str, source: Path) -> bytes:
    """A master key from its base64 text; a BackupError naming ``source`` when it is not one."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise BackupError(f"{source} does not hold a master key (base64 of 32 bytes)")
    return key


def key_document(keys: Keys, created_at: str, archive: Path) -> str:
    """The key file's text: JSON a person can read, with the warning in it."""
    document = {
        "format": KEY_FORMAT,
        "format_version": FORMAT_VERSION,
        "warning": KEY_WARNING,
        "created_at": created_at,
        "backup": archive.name,
        "master_key_id": keys.key_id,
        "master_key": base64.b64encode(keys.master[0]).decode(),
        "previous_master_keys": [base64.b64encode(key).decode() for key in keys.master[1:]],
        "secret_key": keys.secret_key,
    }
    return json.dumps(document, indent=2) + "\n"


def read_key_file(path: Path) -> Keys:
    """A key file written by ``create`` (or a bare ``master.key``: one base64 line)."""
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise BackupError(f"Cannot read the key file {path}: {getattr(exc, 'strerror', None) or exc}")
    if not text.lstrip().startswith("{"):
        return Keys(master=[decode_key(text, path)])
    try:
        document = json.loads(text)
        if document.get("format") != KEY_FORMAT:
            raise ValueError("format")
        master = [decode_key(document["master_key"], path)]
        master += [decode_key(item, path) for item in document.get("previous_master_keys", [])]
    except (ValueError, KeyError, TypeError, AttributeError):
        raise BackupError(f"{path} is not an OctopushX backup key file")
    return Keys(master=master, secret_key=document.get("secret_key") or None)


def check_keys(database: Path, master_keys: list[bytes]) -> int:
    """Prove the keys open this database's data: the master key check and every tenant key.

    Returns how many tenant keys were opened; raises BackupError naming what did not open.
    """
    by_id = {crypto.key_id(key): key for key in master_keys}
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        try:
            check = connection.execute("SELECT key_id, sealed FROM core_masterkeycheck WHERE id = 1").fetchone()
            tenant_keys = connection.execute("SELECT tenant_id, wrapped, master_key_id FROM core_tenantkey").fetchall()
        except sqlite3.OperationalError:  # a database not migrated that far holds no encrypted data
            return 0
    finally:
        connection.close()
    mismatch = (
        "The master key does not match this backup's data: {detail}. Give the key file written with this "
        "backup (--key FILE)."
    )
    if check is not None:
        key = by_id.get(check[0])
        if key is None:
            raise BackupError(
                mismatch.format(detail=f"it was written with master key {check[0]}, the key given is {_ids(by_id)}")
            )
        try:
            if crypto.open_sealed(key, bytes(check[1])) != crypto.CHECK_PLAINTEXT:
                raise crypto.IntegrityError("check value")
        except crypto.IntegrityError:
            raise BackupError(mismatch.format(detail="the master key check does not decrypt"))
    for tenant_id, wrapped, key_id in tenant_keys:
        tenant = str(uuid.UUID(str(tenant_id)))
        key = by_id.get(key_id)
        if key is None:
            raise BackupError(
                mismatch.format(
                    detail=f"organisation {tenant}'s key is wrapped by master key {key_id}, not {_ids(by_id)}"
                )
            )
        try:
            crypto.open_sealed(key, bytes(wrapped), f"tenant:{tenant}".encode())
        except crypto.IntegrityError:
            raise BackupError(mismatch.format(detail=f"organisation {tenant}'s data key does not decrypt"))
    return len(tenant_keys)


def _ids(by_id: dict[str, bytes]) -> str:
    return " or ".join(by_id) or "none"


def summary(counts: dict[str, int]) -> str:
    return ", ".join(f"{counts[table]} {label}" for table, label in MAIN_TABLES.items() if table in counts)


def size_text(size: int | None) -> str:
    value = float(size or 0)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"  # pragma: no cover
