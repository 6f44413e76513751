"""Backup and restore of the embedded defaults: one tar file with a manifest, the master key apart.

The archive holds an online snapshot of the SQLite database (sqlite3's backup API copies it in
one read transaction, so the copy is consistent while ``serve`` keeps writing), a snapshot of the
Huey job store, every stored file the database snapshot references (still encrypted) and
``manifest.json``: the size and sha256 of every member, the platform version and the migrations.
The master key, with the Django signing key, goes to a separate key file: whoever holds the
archive and that file can read every recording, so they are kept apart.

Restore checks everything before it changes anything. PostgreSQL and S3 are backed up with their
own tools (README, Production → Backups): ``layout_from_settings`` refuses them.
"""

from octopushx.core.backup.archive import BackupResult, create
from octopushx.core.backup.layout import BackupError, Keys, Layout, check_keys, layout_from_settings, read_key_file
from octopushx.core.backup.restoring import RestoreResult, restore

__all__ = [
    "BackupError",
    "BackupResult",
    "Keys",
    "Layout",
    "RestoreResult",
    "check_keys",
    "create",
    "layout_from_settings",
    "read_key_file",
    "restore",
]
