"""The one place files are stored and read: encrypted with the tenant's key, streamed in chunks."""

from __future__ import annotations

import hashlib
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from django.core.files import File
from django.core.files.storage import default_storage

from octopushx.core import crypto, keys
from octopushx.core.models import Blob

READ_SIZE = 1024 * 1024


def _pieces(source: BinaryIO | bytes | Iterable[bytes]) -> Iterator[bytes]:
    if isinstance(source, (bytes, bytearray)):
        yield bytes(source)
        return
    if hasattr(source, "read"):
        while piece := source.read(READ_SIZE):
            yield piece
        return
    yield from source


def store(
    tenant,
    source: BinaryIO | bytes | Iterable[bytes],
    *,
    filename: str = "",
    content_type: str = "application/octet-stream",
    purpose: str = "",
) -> Blob:
    """Encrypt ``source`` with the tenant's key and save it; returns the Blob row."""
    data_key = keys.data_key(tenant)
    digest = hashlib.sha256()
    size = 0

    def counted() -> Iterator[bytes]:
        nonlocal size
        for piece in _pieces(source):
            digest.update(piece)
            size += len(piece)
            yield piece

    path = f"{tenant.pk}/{uuid.uuid4().hex}"
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
        for piece in crypto.encrypt_stream(data_key, counted()):
            spool.write(piece)
        spool.seek(0)
        saved = default_storage.save(path, File(spool, name=path))
    return Blob.objects.create(
        tenant=tenant,
        path=saved,
        filename=filename[:255],
        content_type=content_type[:100],
        size=size,
        sha256=digest.hexdigest(),
        purpose=purpose,
    )


def read(blob: Blob, start: int = 0) -> Iterator[bytes]:
    """Decrypted content from byte ``start``; raises crypto.IntegrityError on any tampering."""
    data_key = keys.data_key(blob.tenant)
    chunk_index = start // crypto.CHUNK_SIZE
    skip = start - chunk_index * crypto.CHUNK_SIZE
    with default_storage.open(blob.path, "rb") as handle:
        for piece in crypto.decrypt_stream(data_key, handle, start_chunk=chunk_index):
            if skip:
                piece, skip = piece[skip:], 0
            yield piece


def read_bytes(blob: Blob) -> bytes:
    return b"".join(read(blob))


def delete(blob: Blob) -> None:
    """Remove the stored ciphertext and the row."""
    if default_storage.exists(blob.path):
        default_storage.delete(blob.path)
    blob.delete()
