"""The one place files are stored and read: encrypted with the tenant's key, streamed in chunks.

Neither direction holds a whole file: ``store`` hands the storage backend a reader that
encrypts as it is read (the local backend writes it chunk by chunk, S3 uploads it in
parts), and ``read`` decrypts chunk by chunk from a stream (ranged GETs on S3).
"""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from django.core.files import File
from django.core.files.storage import default_storage

from octopushx.core import crypto, keys
from octopushx.core.models import Blob

READ_SIZE = 1024 * 1024


def _pieces(source: BinaryIO | bytes | Iterable[bytes]) -> Iterator[bytes]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        yield bytes(source)
        return
    if hasattr(source, "read"):
        while piece := source.read(READ_SIZE):
            yield piece
        return
    yield from source


class _StreamReader(io.RawIOBase):
    """A read-only, unseekable file over an iterator of byte strings."""

    def __init__(self, pieces: Iterator[bytes]):
        self._pieces = pieces
        self._current = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._current:
            piece = next(self._pieces, None)
            if piece is None:
                return 0
            self._current = memoryview(piece)
        size = min(len(buffer), len(self._current))
        buffer[:size] = self._current[:size]
        self._current = self._current[size:]
        return size


class _S3RangeReader(io.RawIOBase):
    """Streams an S3 object with ranged GETs; seeking starts a new GET at that offset.

    django-storages' own S3File downloads the whole object before the first read (into
    memory, by default), which a 1 GB recording must never do.
    """

    def __init__(self, storage, name: str):
        from storages.utils import clean_name

        self._object = storage.bucket.Object(storage._normalize_name(clean_name(name)))
        self._position = 0
        self._body = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._position
        elif whence != io.SEEK_SET:
            raise io.UnsupportedOperation("seek from the end is not supported")
        if offset != self._position:
            self._drop_body()
            self._position = offset
        return self._position

    def readinto(self, buffer) -> int:
        if self._body is None:
            from botocore.exceptions import ClientError

            try:
                response = self._object.get(Range=f"bytes={self._position}-")
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "InvalidRange":
                    return 0  # at or past the end
                raise
            self._body = response["Body"]
        data = self._body.read(len(buffer))
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)

    def _drop_body(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None

    def close(self) -> None:
        self._drop_body()
        super().close()


def _open_for_reading(path: str) -> BinaryIO:
    storage = default_storage
    if hasattr(storage, "bucket") and hasattr(storage, "_normalize_name"):  # S3Storage
        return io.BufferedReader(_S3RangeReader(storage, path), buffer_size=READ_SIZE)
    return storage.open(path, "rb")


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
    # Buffered so read(n) returns n bytes until the end: boto3 decides between one PUT and
    # a multipart upload from the length of its first read, and a short read would make it
    # read the whole rest into memory for a single PUT.
    reader = io.BufferedReader(_StreamReader(crypto.encrypt_stream(data_key, counted())), buffer_size=READ_SIZE)
    try:
        saved = default_storage.save(path, File(reader, name=path))
    except BaseException:
        # A source that fails half-way must not leave a partial ciphertext behind.
        if default_storage.exists(path):
            default_storage.delete(path)
        raise
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
    if start and start >= blob.size:
        return
    data_key = keys.data_key(blob.tenant)
    chunk_index = start // crypto.CHUNK_SIZE
    skip = start - chunk_index * crypto.CHUNK_SIZE
    with _open_for_reading(blob.path) as handle:
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
