import io
import os

import pytest

from octopushx.core import crypto

KEY = os.urandom(32)


def encrypt(data: bytes, chunk_size: int = 1024) -> bytes:
    return b"".join(
        crypto.encrypt_stream(KEY, [data[i : i + 333] for i in range(0, len(data), 333)] or [b""], chunk_size)
    )


def decrypt(blob: bytes, start_chunk: int = 0) -> bytes:
    return b"".join(crypto.decrypt_stream(KEY, io.BytesIO(blob), start_chunk=start_chunk))


@pytest.mark.parametrize("size", [0, 1, 1023, 1024, 1025, 4096, 10_000])
def test_round_trip_any_size(size):
    data = os.urandom(size)
    assert decrypt(encrypt(data)) == data


def test_ciphertext_holds_no_plaintext():
    data = b"the customer's card number is 4556 7375 8689 9855" * 50
    blob = encrypt(data)
    assert b"card number" not in blob and b"4556" not in blob


def test_flipped_byte_is_an_error_not_garbage():
    blob = bytearray(encrypt(os.urandom(5000)))
    blob[len(blob) // 2] ^= 0x01
    with pytest.raises(crypto.IntegrityError):
        decrypt(bytes(blob))


def test_truncation_at_a_chunk_boundary_is_detected():
    blob = encrypt(os.urandom(4096))
    record = 4 + 1024 + crypto.TAG
    with pytest.raises(crypto.IntegrityError):
        decrypt(blob[: crypto.HEADER.size + 2 * record])


def test_wrong_key_fails():
    blob = encrypt(b"secret")
    with pytest.raises(crypto.IntegrityError):
        b"".join(crypto.decrypt_stream(os.urandom(32), io.BytesIO(blob)))


def test_start_chunk_skips_whole_chunks():
    data = os.urandom(5000)
    assert decrypt(encrypt(data), start_chunk=2) == data[2048:]
