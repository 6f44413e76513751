"""Fixtures of the core tests: an embedded install in its own data folder (blobs, keys, job store,
signing key) around the test database, as `octopushx backup` and `restore` see it, and a backup of it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from octopushx.core import backup, blobs, crypto, keys


@pytest.fixture
def data_dir(settings, tmp_path) -> Path:
    """Point every embedded store of this test at ``tmp_path/data`` (the database stays the test one)."""
    data = tmp_path / "data"
    data.mkdir()
    settings.DATA_DIR = data
    settings.MASTER_KEY_FILE = str(data / "master.key")
    settings.MASTER_KEY = None
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(data / "blobs")},
        },
    }
    settings.HUEY = {"huey_class": "huey.SqliteHuey", "name": "octopushx", "filename": str(data / "jobs.sqlite3")}
    (data / "secret_key").write_text(settings.SECRET_KEY)
    from django.core.files.storage import default_storage, storages
    from django.utils.functional import empty

    storages._storages = {}
    default_storage._wrapped = empty
    keys._cache.clear()
    return data


@pytest.fixture
def layout(data_dir) -> backup.Layout:
    crypto.master_keys()  # as `octopushx migrate` does: the key file exists before any data
    return backup.layout_from_settings()


@pytest.fixture
def made(org, layout, tmp_path):
    """A backup of an organisation with one stored recording: (archive, key file, layout)."""
    blobs.store(org, b"RIFF" + os.urandom(40_000), filename="call.wav", purpose="call.recording")
    folder = tmp_path / "backups"
    folder.mkdir()
    result = backup.create(folder / "b.tar", layout)
    return result.archive, result.key_file, layout
