"""Stream a large file through blobs.store and blobs.read; print throughput and peak memory.

    .venv/bin/python bench/blob_stream.py [SIZE_MB] [--storage local|s3]

SIZE_MB defaults to 1024. ``--storage s3`` starts a moto S3 server in a separate process
(so its memory is not counted here). Peak RSS is ``ru_maxrss`` of this process: it stays
flat as SIZE_MB grows when both directions stream in bounded memory.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PIECE = 1024 * 1024


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_moto() -> tuple[subprocess.Popen, str]:
    port = free_port()
    server = Path(sys.executable).with_name("moto_server")
    process = subprocess.Popen(
        [str(server), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, endpoint
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("moto_server did not start")


def source(size_mb: int, block: bytes):
    for _ in range(size_mb):
        yield block


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size_mb", nargs="?", type=int, default=1024)
    parser.add_argument("--storage", choices=["local", "s3"], default="local")
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="opx-bench-")
    os.environ["OCTOPUSHX_DATA_DIR"] = workdir
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("OCTOPUSHX_LOG_LEVEL", "WARNING")
    moto = None
    if args.storage == "s3":
        moto, endpoint = start_moto()
        os.environ.update(
            OCTOPUSHX_STORAGE="s3",
            OCTOPUSHX_S3_BUCKET="bench",
            OCTOPUSHX_S3_ENDPOINT_URL=endpoint,
            OCTOPUSHX_S3_REGION="us-east-1",
            OCTOPUSHX_S3_ACCESS_KEY="bench",
            OCTOPUSHX_S3_SECRET_KEY="bench",
        )
        import boto3

        boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
        ).create_bucket(Bucket="bench")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "octopushx.settings")
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
        from octopushx.core import blobs
        from octopushx.core.context import Actor
        from octopushx.tenancy import services

        tenant = services.create_organization(Actor.system("bench"), name="Bench")
        block = os.urandom(PIECE)
        expected = hashlib.sha256()
        for piece in source(args.size_mb, block):
            expected.update(piece)
        baseline = peak_rss_mb()
        print(f"storage={args.storage} size={args.size_mb} MB  baseline peak RSS {baseline:.0f} MB")

        started = time.perf_counter()
        blob = blobs.store(tenant, source(args.size_mb, block), filename="bench.bin")
        elapsed = time.perf_counter() - started
        assert blob.sha256 == expected.hexdigest()
        print(f"store: {args.size_mb / elapsed:7.1f} MB/s ({elapsed:.1f} s)  peak RSS {peak_rss_mb():.0f} MB")

        started = time.perf_counter()
        digest = hashlib.sha256()
        total = 0
        for piece in blobs.read(blob):
            digest.update(piece)
            total += len(piece)
        elapsed = time.perf_counter() - started
        assert total == args.size_mb * PIECE and digest.hexdigest() == blob.sha256
        print(
            f"read:  {args.size_mb / elapsed:7.1f} MB/s ({elapsed:.1f} s)  "
            f"peak RSS {peak_rss_mb():.0f} MB  (content verified by SHA-256)"
        )
        blobs.delete(blob)
        print(f"peak RSS grew {peak_rss_mb() - baseline:.0f} MB over the baseline")
    finally:
        if moto is not None:
            moto.terminate()
            moto.wait()
        subprocess.run(["rm", "-rf", workdir], check=False)


if __name__ == "__main__":
    main()
