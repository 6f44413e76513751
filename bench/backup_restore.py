"""Time `octopushx backup` and `octopushx restore` of the demo data, as an operator runs them.

    .venv/bin/python bench/backup_restore.py [--calls N] [--extra-mb M] [--while-serving]

Loads the demo into a fresh data folder (``--calls`` demo calls, spoken by espeak-ng and analysed:
default 12, as `octopushx demo`; 0 skips them), then times each command as a whole process (Django
start-up included): backup to a file beside the data folder, wipe the data folder, restore into it,
and `octopushx audit verify` to show the result is sound. ``--while-serving`` keeps `octopushx serve`
running on the data during the backup and polls it, to show the backup is online. ``--extra-mb``
stores that many more megabytes of recordings (64 MB files, encrypted as uploads are) to show how the
times grow with the data. Targets (demo data): backup under 30 s, restore under 60 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

BACKUP_TARGET = 30.0
RESTORE_TARGET = 60.0


def octopushx(*argv: str, env: dict) -> tuple[float, str]:
    script = Path(sys.executable).with_name("octopushx")
    started = time.perf_counter()
    result = subprocess.run([str(script), *argv], capture_output=True, text=True, env=env, timeout=1800)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"octopushx {' '.join(argv)} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return elapsed, result.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


ADD_RECORDINGS = """
import os, django
django.setup()
from octopushx.core import blobs
from octopushx.tenancy.models import Organization
acme = Organization.objects.get(name="Acme Support")
left = int(os.environ["BENCH_EXTRA_MB"]) * 1024 * 1024
while left > 0:
    size = min(left, 64 * 1024 * 1024)
    blobs.store(acme, (os.urandom(1024 * 1024) for _ in range(size // (1024 * 1024))), filename="extra.wav",
                content_type="audio/wav", purpose="call.recording")
    left -= size
"""


def folder_size(folder: Path) -> tuple[int, int]:
    files = [path for path in folder.rglob("*") if path.is_file()]
    return len(files), sum(path.stat().st_size for path in files)


class Poller(threading.Thread):
    """Asks the running server for /readyz until stopped; counts answers and failures."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url = url
        self.ok = 0
        self.failed = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                with urllib.request.urlopen(self.url, timeout=5) as response:  # noqa: S310  # nosec B310
                    self.ok += response.status == 200
                    self.failed += response.status != 200
            except OSError:
                self.failed += 1
            time.sleep(0.05)


def start_server(env: dict) -> tuple[subprocess.Popen, str]:
    port = free_port()
    script = Path(sys.executable).with_name("octopushx")
    server = subprocess.Popen(
        [str(script), "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}/readyz"
    for _ in range(600):
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310  # nosec B310
                if response.status == 200:
                    return server, url
        except OSError:
            time.sleep(0.1)
    server.kill()
    sys.exit("octopushx serve did not become ready")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=12, help="demo calls to synthesise and analyse (default 12)")
    parser.add_argument("--extra-mb", type=int, default=0, help="more recordings to store, in MB (default 0)")
    parser.add_argument("--while-serving", action="store_true", help="back up while `octopushx serve` runs")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="octopushx-bench-backup-") as tmp:
        root = Path(tmp)
        data = root / "data"
        backups = root / "backups"
        backups.mkdir()
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("OCTOPUSHX_") and k not in ("DATABASE_URL", "REDIS_URL")
        }
        env.update(OCTOPUSHX_DATA_DIR=str(data), OCTOPUSHX_DEMO_CALLS=str(args.calls), OCTOPUSHX_LOG_LEVEL="WARNING")

        print(f"Loading the demo ({args.calls} calls) into {data} …", flush=True)
        seconds, out = octopushx("demo", env=env)
        print(
            f"  demo loaded in {seconds:.1f} s; "
            + next((line for line in out.splitlines() if "Demo calls" in line), "")
        )
        if args.extra_mb:
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-c", ADD_RECORDINGS],
                env={**env, "DJANGO_SETTINGS_MODULE": "octopushx.settings", "BENCH_EXTRA_MB": str(args.extra_mb)},
                check=True,
            )
            print(f"  stored {args.extra_mb} MB more recordings in {time.perf_counter() - started:.1f} s")
        files, size = folder_size(data)
        print(f"  data folder: {files} files, {size / 1e6:.1f} MB")

        server = poller = None
        if args.while_serving:
            server, url = start_server(env)
            poller = Poller(url)
            poller.start()
        try:
            backup_seconds, out = octopushx("backup", str(backups / "demo.tar"), env=env)
        finally:
            if poller is not None:
                poller.stopping.set()
                poller.join()
            if server is not None:
                server.terminate()
                server.wait(timeout=30)
        print(out.rstrip())
        archive = backups / "demo.tar"

        shutil.rmtree(data)
        restore_seconds, out = octopushx("restore", str(archive), env=env)
        print(out.rstrip())
        verify_seconds, out = octopushx("audit", "verify", env=env)
        chains = out.count("ok      ")

        print()
        print(f"archive              {archive.stat().st_size / 1e6:.1f} MB")
        print(f"backup               {backup_seconds:.2f} s (target < {BACKUP_TARGET:.0f} s)")
        if poller is not None:
            print(f"  served meanwhile   {poller.ok} /readyz answers 200, {poller.failed} failed")
        print(f"restore              {restore_seconds:.2f} s (target < {RESTORE_TARGET:.0f} s)")
        print(f"audit verify after   {verify_seconds:.2f} s, {chains} chain(s) ok")
        if not args.extra_mb and (backup_seconds > BACKUP_TARGET or restore_seconds > RESTORE_TARGET):
            sys.exit(1)


if __name__ == "__main__":
    main()
