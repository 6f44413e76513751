import os
from pathlib import Path

import pytest
from django.conf import settings

from octopushx.core import blobs, crypto, keys
from octopushx.core.models import TenantKey


@pytest.fixture
def stored_dir():
    return Path(settings.STORAGES["default"]["OPTIONS"]["location"])


def test_store_and_read_back(org):
    data = os.urandom(300_000)
    blob = blobs.store(org, data, filename="call.wav", content_type="audio/wav")
    assert blob.size == len(data)
    assert blobs.read_bytes(blob) == data


def test_raw_stored_bytes_hold_no_plaintext(org, stored_dir):
    secret = b"Jane Doe said her account number is 12345678" * 100
    blob = blobs.store(org, secret)
    raw = (stored_dir / blob.path).read_bytes()
    assert b"Jane Doe" not in raw and b"12345678" not in raw
    assert "call" not in blob.path and str(org.pk) in blob.path


def test_read_from_offset(org):
    data = os.urandom(200_000)
    blob = blobs.store(org, data)
    assert b"".join(blobs.read(blob, start=150_001)) == data[150_001:]


def test_tampered_file_raises(org, stored_dir):
    blob = blobs.store(org, os.urandom(100_000))
    path = stored_dir / blob.path
    raw = bytearray(path.read_bytes())
    raw[-100] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(crypto.IntegrityError):
        blobs.read_bytes(blob)


def test_tenants_have_different_keys(org, other_org):
    assert keys.data_key(org) != keys.data_key(other_org)
    wrapped = bytes(TenantKey.objects.get(tenant=org).wrapped)
    assert keys.data_key(org) not in wrapped


def test_shredding_makes_data_unreadable(org):
    blob = blobs.store(org, b"recording")
    keys.shred(org)
    with pytest.raises(crypto.IntegrityError):
        blobs.read_bytes(blob)


def test_rotate_rewraps_and_data_stays_readable(org, settings):
    blob = blobs.store(org, b"before rotation")
    before = bytes(TenantKey.objects.get(tenant=org).wrapped)
    result = keys.rotate()
    assert result.rewrapped >= 1
    after = TenantKey.objects.get(tenant=org)
    assert bytes(after.wrapped) != before
    assert after.master_key_id == result.new_key_id
    keys._cache.clear()
    assert blobs.read_bytes(blob) == b"before rotation"
    keys.check_master_key()


def test_wrong_master_key_is_a_clear_error(org, settings):
    blobs.store(org, b"x")
    keys.check_master_key()
    settings.MASTER_KEY = crypto.generate_key_text()
    keys._cache.clear()
    with pytest.raises(crypto.MasterKeyError):
        keys.check_master_key()
    with pytest.raises(crypto.MasterKeyError):
        keys.data_key(org)


def test_malformed_master_key_is_a_clear_error(settings):
    settings.MASTER_KEY = "not-base64!"
    with pytest.raises(crypto.MasterKeyError, match="not valid base64"):
        crypto.master_keys()


def test_store_from_file_object_and_iterable(org):
    import io

    data = os.urandom(3 * 1024 * 1024 + 5)
    from_file = blobs.store(org, io.BytesIO(data))
    from_pieces = blobs.store(org, iter([data[:100], data[100:]]))
    assert blobs.read_bytes(from_file) == data == blobs.read_bytes(from_pieces)
    assert from_file.sha256 == from_pieces.sha256


def test_empty_blob(org):
    blob = blobs.store(org, b"")
    assert blob.size == 0 and blobs.read_bytes(blob) == b""


def test_read_from_the_end_is_empty(org):
    data = os.urandom(2 * crypto.CHUNK_SIZE)
    blob = blobs.store(org, data)
    assert b"".join(blobs.read(blob, start=len(data))) == b""
    assert b"".join(blobs.read(blob, start=len(data) - 1)) == data[-1:]


def test_failing_source_leaves_no_file(org, stored_dir):
    def source():
        yield os.urandom(200_000)
        raise OSError("upload connection dropped")

    with pytest.raises(OSError, match="dropped"):
        blobs.store(org, source())
    assert [p for p in stored_dir.rglob("*") if p.is_file()] == []
