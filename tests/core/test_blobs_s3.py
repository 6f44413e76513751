"""Blob storage on S3-compatible object storage (a moto server stands in for S3)."""

from __future__ import annotations

import logging
import os
import socket
import uuid

import boto3
import pytest
from django.core.files.storage import default_storage, storages
from django.utils.functional import empty

from octopushx.core import blobs, crypto

ACCESS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per S3 request otherwise
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def bucket(settings, s3_endpoint):
    """A fresh bucket configured as the default storage, like OCTOPUSHX_STORAGE=s3 does."""
    name = f"opx-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **ACCESS)
    client.create_bucket(Bucket=name)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": name,
                "endpoint_url": s3_endpoint,
                "region_name": "us-east-1",
                "access_key": ACCESS["aws_access_key_id"],
                "secret_key": ACCESS["aws_secret_access_key"],
                "default_acl": None,
                "file_overwrite": False,
            },
        },
    }
    storages._storages = {}
    default_storage._wrapped = empty
    yield client, name
    storages._storages = {}
    default_storage._wrapped = empty


def _raw(bucket, blob) -> bytes:
    client, name = bucket
    return client.get_object(Bucket=name, Key=blob.path)["Body"].read()


def test_store_and_read_back(org, bucket):
    data = os.urandom(300_000)
    blob = blobs.store(org, data, filename="call.wav")
    assert type(default_storage._wrapped).__name__ == "S3Storage"
    assert blobs.read_bytes(blob) == data and blob.size == len(data)


def test_large_blob_is_uploaded_in_parts_and_reads_back(org, bucket):
    data = os.urandom(9 * 1024 * 1024 + 123)  # above boto3's 8 MB multipart threshold
    blob = blobs.store(org, iter([data[i : i + 500_000] for i in range(0, len(data), 500_000)]))
    assert blobs.read_bytes(blob) == data
    client, name = bucket
    # A multipart object's ETag ends in "-<parts>": the stream was not read whole for one PUT.
    assert client.head_object(Bucket=name, Key=blob.path)["ETag"].strip('"').endswith("-2")


def test_raw_object_holds_no_plaintext(org, bucket):
    secret = b"Jane Doe said her card number is 4111 1111 1111 1111. " * 200
    blob = blobs.store(org, secret)
    raw = _raw(bucket, blob)
    assert raw.startswith(crypto.MAGIC)
    assert b"Jane Doe" not in raw and b"4111" not in raw


def test_range_read(org, bucket):
    data = os.urandom(500_000)
    blob = blobs.store(org, data)
    for start in (1, crypto.CHUNK_SIZE, 3 * crypto.CHUNK_SIZE + 17, len(data) - 1):
        assert b"".join(blobs.read(blob, start=start)) == data[start:]
    assert b"".join(blobs.read(blob, start=len(data))) == b""


def test_tampered_object_is_an_error(org, bucket):
    client, name = bucket
    blob = blobs.store(org, os.urandom(200_000))
    raw = bytearray(_raw(bucket, blob))
    raw[len(raw) // 2] ^= 0x01
    client.put_object(Bucket=name, Key=blob.path, Body=bytes(raw))
    with pytest.raises(crypto.IntegrityError):
        blobs.read_bytes(blob)


def test_delete_removes_the_object(org, bucket):
    client, name = bucket
    blob = blobs.store(org, b"short-lived")
    path = blob.path
    blobs.delete(blob)
    assert client.list_objects_v2(Bucket=name).get("KeyCount", 0) == 0
    assert not default_storage.exists(path)


def test_failing_source_leaves_no_object(org, bucket):
    client, name = bucket

    def source():
        yield os.urandom(100_000)
        raise OSError("upload connection dropped")

    with pytest.raises(OSError, match="dropped"):
        blobs.store(org, source())
    assert client.list_objects_v2(Bucket=name).get("KeyCount", 0) == 0


def test_readyz_checks_s3_storage(org, bucket, client):
    body = client.get("/readyz").json()
    assert body["checks"]["storage"] == {"ok": True, "backend": "S3Storage"}
