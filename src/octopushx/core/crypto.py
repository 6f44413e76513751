"""Envelope encryption: master key → per-tenant data key → per-blob file key, AES-256-GCM.

Blob format (all integers big-endian)::

    b"OPX1" | chunk_size:u32 | nonce_prefix:8 | wrapped_file_key:60 (nonce 12 + key 32 + tag 16)
    then records: length:u32 | ciphertext (chunk + 16-byte tag)

Each chunk's nonce is ``nonce_prefix | counter:u32`` and its associated data is the
header plus the counter and a final-chunk flag, so reordering, truncation, appending or
a flipped byte all fail authentication instead of returning garbage.
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MAGIC = b"OPX1"
CHUNK_SIZE = 64 * 1024
TAG = 16
HEADER = struct.Struct(">4sI8s60s")
CHECK_PLAINTEXT = b"octopushx master key check"


class IntegrityError(Exception):
    """Stored ciphertext failed authentication: tampered, truncated or the wrong key."""


class MasterKeyError(ImproperlyConfigured):
    pass


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"octopushx-key-id" + key).hexdigest()[:16]


def _decode_key(text: str, source: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (ValueError, TypeError):
        raise MasterKeyError(f"The master key in {source} is not valid base64")
    if len(key) != 32:
        raise MasterKeyError(f"The master key in {source} must be 32 bytes (base64 of 32 random bytes)")
    return key


def generate_key_text() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def _key_file() -> Path:
    return Path(settings.MASTER_KEY_FILE)


def master_keys() -> list[bytes]:
    """The current master key first, then previous ones still accepted for unwrapping."""
    keys: list[bytes] = []
    if settings.MASTER_KEY:
        keys.append(_decode_key(settings.MASTER_KEY, "OCTOPUSHX_MASTER_KEY"))
    else:
        path = _key_file()
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(generate_key_text() + "\n")
        keys.append(_decode_key(path.read_text(), str(path)))
    previous = os.environ.get("OCTOPUSHX_MASTER_KEY_PREVIOUS", "")
    for index, text in enumerate(t for t in previous.split(",") if t.strip()):
        keys.append(_decode_key(text, f"OCTOPUSHX_MASTER_KEY_PREVIOUS[{index}]"))
    previous_file = Path(str(_key_file()) + ".previous")
    if not settings.MASTER_KEY and previous_file.exists():
        for line in previous_file.read_text().split():
            keys.append(_decode_key(line, str(previous_file)))
    return keys


def current_master_key() -> bytes:
    return master_keys()[0]


def seal(key: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def open_sealed(key: bytes, sealed: bytes, aad: bytes = b"") -> bytes:
    try:
        return AESGCM(key).decrypt(sealed[:12], sealed[12:], aad)
    except InvalidTag:
        raise IntegrityError("authentication failed")


def unwrap_with_any(sealed: bytes, wanted_key_id: str, aad: bytes) -> bytes:
    for key in master_keys():
        if key_id(key) == wanted_key_id:
            return open_sealed(key, sealed, aad)
    raise MasterKeyError(
        f"No configured master key has id {wanted_key_id}. Set OCTOPUSHX_MASTER_KEY to the key "
        "this database was written with (or list it in OCTOPUSHX_MASTER_KEY_PREVIOUS)."
    )


# --- streaming blob format -------------------------------------------------------------


def _chunk_aad(header: bytes, counter: int, final: bool) -> bytes:
    return header + struct.pack(">I?", counter, final)


def encrypt_stream(data_key: bytes, chunks: Iterable[bytes], chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """Encrypt an iterable of byte strings; yields the blob piece by piece (bounded memory)."""
    file_key = AESGCM.generate_key(bit_length=256)
    prefix = os.urandom(8)
    header = HEADER.pack(MAGIC, chunk_size, prefix, seal(data_key, file_key, MAGIC))
    yield header
    aead = AESGCM(file_key)
    counter = 0
    buffer = bytearray()

    def record(chunk: bytes, final: bool) -> bytes:
        nonce = prefix + struct.pack(">I", counter)
        ct = aead.encrypt(nonce, chunk, _chunk_aad(header, counter, final))
        return struct.pack(">I", len(ct)) + ct

    for piece in chunks:
        buffer += piece
        # A chunk is written as non-final only once at least one more byte is known.
        while len(buffer) > chunk_size:
            yield record(bytes(buffer[:chunk_size]), False)
            del buffer[:chunk_size]
            counter += 1
    yield record(bytes(buffer), True)


def _read_exact(handle: BinaryIO, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        piece = handle.read(size - len(data))
        if not piece:
            break
        data += piece
    return bytes(data)


def decrypt_stream(data_key: bytes, handle: BinaryIO, start_chunk: int = 0) -> Iterator[bytes]:
    """Decrypt a blob from a binary file object, chunk by chunk; raises IntegrityError.

    ``start_chunk`` skips whole chunks (for HTTP range reads) by seeking when it can.
    """
    header = _read_exact(handle, HEADER.size)
    if len(header) != HEADER.size:
        raise IntegrityError("blob header is truncated")
    magic, chunk_size, prefix, wrapped = HEADER.unpack(header)
    if magic != MAGIC:
        raise IntegrityError("not an OctopushX blob")
    aead = AESGCM(open_sealed(data_key, wrapped, MAGIC))
    counter = start_chunk
    if start_chunk:
        skip = start_chunk * (4 + chunk_size + TAG)
        try:
            handle.seek(HEADER.size + skip)
        except (OSError, ValueError, AttributeError):
            _read_exact(handle, skip)
    length_bytes = _read_exact(handle, 4)
    while True:
        if len(length_bytes) != 4:
            raise IntegrityError("blob is truncated")
        (length,) = struct.unpack(">I", length_bytes)
        if length < TAG or length > chunk_size + TAG:
            raise IntegrityError("blob record is corrupt")
        ct = _read_exact(handle, length)
        if len(ct) != length:
            raise IntegrityError("blob is truncated")
        length_bytes = _read_exact(handle, 4)  # look ahead: no next record means this is the last
        final = not length_bytes
        nonce = prefix + struct.pack(">I", counter)
        try:
            yield aead.decrypt(nonce, ct, _chunk_aad(header, counter, final))
        except InvalidTag:
            raise IntegrityError(f"blob chunk {counter} failed authentication")
        if final:
            return
        counter += 1
