"""Fault tests of the production shape: under a steady API load against `deploy/local-cluster`, kill a
web process, kill a job worker, crash Redis and make PostgreSQL refuse connections, one at a time with
recovery in between; after each, check that nothing was lost or doubled.

    .venv/bin/python bench/faults/run.py                        # every fault, about 5 minutes in all
    .venv/bin/python bench/faults/run.py --faults web-worker,postgres --keep-cluster

What it starts (and stops again, by pid): a Redis server of its own on 127.0.0.1:6391 (no persistence,
so a crash loses the queue as the worst real crash does; the machine's shared Redis is never touched)
and `deploy/local-cluster start --demo` on ports of its own (nginx 8090, gunicorn 8111/8112, moto
9110) with its own PostgreSQL database (`octopushx_faults`; the PostgreSQL fault refuses connections
to that database only). Loopback only; bounded by --warm-up, --observe and --settle.

The load: --threads API clients on a token (`octopushx token create`), each creating a contact (which
an enabled Studio workflow on `contact.created` turns into one run and one task) and, every
--upload-every operations, uploading a 2 s recording; --pause s between operations. Each client
retries a 5xx or a cut connection as a careful integration does (1, 2, 4, 8 s; the same
Idempotency-Key for a contact, the same external_id for a recording, so a retry cannot double
anything), and every attempt is recorded with its start, end and status.

Faults, in this order (--faults picks some):
  web-worker   kill -9 the busiest worker process of one gunicorn while an upload is in flight (what the
               OOM killer or a crash does); the gunicorn master starts a new one
  web-master   kill -9 one whole gunicorn (master and workers: a machine or container lost); restarted
               after --down s with the same command line and environment, as a supervisor would
  worker       kill -9 the `octopushx worker` holding a running call analysis; restarted after --down s
  redis        kill -9 this run's Redis (queue and rate-limit counters lost); started again after --down s
  postgres     ALTER DATABASE … ALLOW_CONNECTIONS false and pg_terminate_backend of its sessions, for
               --db-outage s (10), then allowed again

After each fault and at the end: requests, 5xx (and how many were in flight at the fault), the time
until the first success after it, every recording `analysed` with exactly one analysis result, every
contact with exactly one run of the workflow that succeeded and exactly one task from it, no job
queued, running or failed, and `octopushx audit verify`.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import signal
import struct
import subprocess  # nosec B404 - starts and stops the processes of this test
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
import wave
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg

PROJECT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
FAULTS = ["web-worker", "web-master", "worker", "redis", "postgres"]
# Rate limits stay on (their counters are on the request path) with limits one address never reaches.
LIMITS = {
    "OCTOPUSHX_SIGN_IN_RATE_LIMIT": "100000",
    "OCTOPUSHX_API_IP_RATE_LIMIT": "1000000",
    "OCTOPUSHX_API_RATE_LIMIT": "1000000",
}
RETRY_DELAYS = (1, 2, 4, 8)
PROTECTED_DATABASES = {"postgres", "test", "template0", "template1"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faults", default=",".join(FAULTS), help=f"comma-separated, from {', '.join(FAULTS)}")
    parser.add_argument("--threads", type=int, default=5, help="API clients (default 5)")
    parser.add_argument("--pause", type=float, default=0.3, help="seconds between a client's operations")
    parser.add_argument("--upload-every", type=int, default=12, help="every Nth operation uploads a recording")
    parser.add_argument("--warm-up", type=float, default=20, help="seconds of load before the first fault")
    parser.add_argument("--observe", type=float, default=25, help="seconds of load after each fault")
    parser.add_argument("--settle", type=float, default=150, help="at most this long for work to finish at a check")
    parser.add_argument("--down", type=float, default=3, help="seconds a killed process stays down (supervisor)")
    parser.add_argument("--db-outage", type=float, default=10, help="seconds PostgreSQL refuses connections")
    parser.add_argument("--run-dir", default=str(PROJECT / "var" / "faults"))
    parser.add_argument("--port", type=int, default=8090, help="nginx on 127.0.0.1:PORT")
    parser.add_argument("--web-ports", default="8111,8112")
    parser.add_argument("--s3-port", type=int, default=9110)
    parser.add_argument("--redis-port", type=int, default=6391, help="this run's own Redis server")
    parser.add_argument("--database", default="octopushx_faults")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--lease", type=int, default=60, help="OCTOPUSHX_JOB_LEASE_SECONDS (production: 300)")
    parser.add_argument("--reaper", type=int, default=15, help="OCTOPUSHX_REAPER_SECONDS (production: 60)")
    parser.add_argument("--keep-cluster", action="store_true", help="leave the cluster (and its Redis) running")
    parser.add_argument("--reuse-cluster", action="store_true", help="a cluster this script left running")
    parser.add_argument("--ignore-ci", action="store_true", help="run even while a CI run (.ci/run) is active")
    args = parser.parse_args()
    chosen = [name.strip() for name in args.faults.split(",") if name.strip()]
    unknown = set(chosen) - set(FAULTS)
    if unknown:
        parser.error(f"unknown fault(s): {', '.join(sorted(unknown))}")
    if args.database in PROTECTED_DATABASES or not args.database.startswith("octopushx_"):
        parser.error("--database must be an octopushx_* database of its own")
    if not args.ignore_ci and ci_running():
        sys.exit("bench/faults: a CI run (.ci/run) is active on this machine; try later (or --ignore-ci)")

    signal.signal(signal.SIGTERM, _interrupted)  # so `finally` lets PostgreSQL in again and stops the cluster
    cluster = Cluster(args)
    results: list[dict] = []
    try:
        cluster.start()
        api = Api(cluster)
        tag = api.prepare()
        load = Load(api, tag, args)
        checks = Checks(cluster, api, tag, load)
        load.start()
        print(f"load: {args.threads} clients, tag {tag}; warming up {args.warm_up:.0f} s", flush=True)
        time.sleep(args.warm_up)
        results.append(checks.run("before faults", None, load.clock(), args.settle))
        for name in chosen:
            fault = FAULT_FUNCTIONS[name](cluster, checks, args)
            time.sleep(max(0.0, fault.at + args.observe - load.clock()))
            results.append(checks.run(name, fault, load.clock(), args.settle))
        load.stop()
        results.append(checks.run("end (load stopped)", None, load.clock(), args.settle))
        summary(results, load, args)
        (cluster.run / "faults-result.json").write_text(json.dumps(results, indent=2, default=str))
        print(f"\nfigures written to {cluster.run / 'faults-result.json'}")
    finally:
        cluster.allow_connections()
        if not args.keep_cluster:
            cluster.stop()


def _interrupted(signum, frame) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def ci_running() -> bool:
    done = subprocess.run(["pgrep", "-f", ".ci/run"], capture_output=True, text=True)  # noqa: S607
    return bool(done.stdout.strip())


# --- the cluster and its processes --------------------------------------------------------------


def cmdline(pid: int) -> list[str]:
    try:
        return [part.decode() for part in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if part]
    except OSError:
        return []


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


class Cluster:
    """deploy/local-cluster on this run's ports and database, plus this run's own Redis server."""

    def __init__(self, args) -> None:
        self.args = args
        self.run = Path(args.run_dir).resolve()
        self.url = f"http://127.0.0.1:{args.port}"
        self.script = [str(BIN / "python"), str(PROJECT / "deploy" / "local-cluster")]
        self.common = [
            "--run-dir", str(self.run), "--port", str(args.port), "--web-ports", args.web_ports,
            "--s3-port", str(args.s3_port), "--database", args.database, "--postgres", args.postgres,
            "--redis", f"redis://127.0.0.1:{args.redis_port}/12",
        ]  # fmt: skip
        self.redis_process: subprocess.Popen | None = None
        self.blocked = False
        self.env: dict[str, str] = {}

    # Redis: our own server, so crashing it touches no one else's work.
    def redis_command(self) -> list[str]:
        folder = self.run / "redis"
        folder.mkdir(parents=True, exist_ok=True)
        return ["redis-server", "--port", str(self.args.redis_port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(folder), "--daemonize", "no"]  # fmt: skip

    def start_redis(self) -> int:
        log = open(self.run / "logs" / "redis.log", "ab")  # noqa: SIM115 - the child keeps it
        self.redis_process = subprocess.Popen(  # nosec B603
            self.redis_command(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        (self.run / "faults-redis.pid").write_text(f"{self.redis_process.pid}\n")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            done = subprocess.run(  # noqa: S603
                ["redis-cli", "-p", str(self.args.redis_port), "ping"],
                capture_output=True,
                text=True,
            )
            if done.stdout.strip() == "PONG":
                return self.redis_process.pid
            time.sleep(0.2)
        sys.exit("bench/faults: this run's Redis did not start")

    def redis_pid(self) -> int | None:
        pid_file = self.run / "faults-redis.pid"
        if not pid_file.exists():
            return None
        pid = int(pid_file.read_text().split()[0])
        return pid if any("redis-server" in part for part in cmdline(pid)) and not gone(pid) else None

    def start(self) -> None:
        (self.run / "logs").mkdir(parents=True, exist_ok=True)
        (self.run / "pids").mkdir(parents=True, exist_ok=True)
        if not self.args.reuse_cluster:
            if self.redis_pid() is None:
                print(f"starting this run's Redis on 127.0.0.1:{self.args.redis_port}", flush=True)
                self.start_redis()
            env = (
                base_env()
                | LIMITS
                | {
                    "OCTOPUSHX_DEMO_CALLS": "0",
                    "OCTOPUSHX_JOB_LEASE_SECONDS": str(self.args.lease),
                    "OCTOPUSHX_REAPER_SECONDS": str(self.args.reaper),
                }
            )
            print("starting deploy/local-cluster (migrate, static files, demo)…", flush=True)
            started = time.monotonic()
            done = subprocess.run([*self.script, "start", "--demo", *self.common], env=env)  # noqa: S603
            if done.returncode:
                sys.exit("bench/faults: deploy/local-cluster start failed")
            print(f"cluster up in {time.monotonic() - started:.0f} s", flush=True)
        self.env = base_env()
        for line in (self.run / "cluster.env").read_text().splitlines():
            key, _, value = line.partition("=")
            self.env[key] = value
        wait_ready(self.url + "/readyz", 60)

    def stop(self) -> None:
        subprocess.run([*self.script, "stop", *self.common], env=base_env())  # noqa: S603
        pid = self.redis_pid()
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            wait_gone(pid, 10)
            print(f"stopped this run's Redis (pid {pid})")
        (self.run / "faults-redis.pid").unlink(missing_ok=True)

    def pid(self, name: str) -> int:
        return int((self.run / "pids" / f"{name}.pid").read_text().split()[0])

    def restart(self, name: str, argv: list[str], environ: dict[str, str], cwd: str) -> int:
        """Start NAME again with the command line and environment it had, recorded for `local-cluster stop`."""
        log = open(self.run / "logs" / f"{name}.log", "ab")  # noqa: SIM115
        process = subprocess.Popen(  # noqa: S603  # nosec B603
            argv, env=environ, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        program = (self.run / "pids" / f"{name}.pid").read_text().splitlines()[1]
        (self.run / "pids" / f"{name}.pid").write_text(f"{process.pid}\n{program}\n")
        return process.pid

    # PostgreSQL: a connection to the server's maintenance database, never to the cluster's own.
    def admin(self) -> psycopg.Connection:
        return psycopg.connect(f"{self.args.postgres.rstrip('/')}/postgres", autocommit=True, connect_timeout=5)

    def refuse_connections(self) -> int:
        with self.admin() as conn:
            conn.execute(f'ALTER DATABASE "{self.args.database}" ALLOW_CONNECTIONS false')
            self.blocked = True
            rows = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [self.args.database],
            ).fetchall()
        return len(rows)

    def allow_connections(self) -> None:
        if not self.blocked:
            return
        with self.admin() as conn:
            conn.execute(f'ALTER DATABASE "{self.args.database}" ALLOW_CONNECTIONS true')
        self.blocked = False

    def db(self) -> psycopg.Connection:
        return psycopg.connect(self.env["DATABASE_URL"], autocommit=True, connect_timeout=5)

    def octopushx(self, *arguments: str) -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: S603  # nosec B603
            [str(BIN / "octopushx"), *arguments], env=self.env, capture_output=True, text=True
        )


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OCTOPUSHX_", "DATABASE_URL", "REDIS_URL"))}
    env["PYTHONPATH"] = str(PROJECT / "src")
    env.setdefault("OCTOPUSHX_NODE_MODULES", str(PROJECT / "node_modules"))
    return env


def wait_ready(url: str, seconds: float) -> float | None:
    """Seconds until URL answers 200, or None."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 - loopback
                if answer.status == 200:
                    return time.monotonic() - started
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    return None


def wait_gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if gone(pid):
            return True
        time.sleep(0.1)
    return False


# --- the API client and the load --------------------------------------------------------------------


class Api:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.token = ""
        self.workflow_id = ""

    def prepare(self) -> str:
        """A token of the demo owner and an enabled workflow: contact.created with this run's tag -> one task."""
        done = self.cluster.octopushx("token", "create", "--email", "owner@acme.test", "--name", "fault tests")
        if done.returncode:
            sys.exit(f"bench/faults: token create failed: {done.stderr[-2000:]}")
        self.token = done.stdout.strip().split()[-1]
        tag = "F" + uuid.uuid4().hex[:8]
        body = {
            "name": f"Fault check {tag}",
            "enabled": True,
            "trigger": {
                "type": "event",
                "event": "contact.created",
                "conditions": [{"field": "contact.last_name", "op": "contains", "value": tag}],
            },
            "steps": [{"id": "task", "type": "create_task", "title": "Fault check {{ contact.last_name }}",
                       "assignee": "record_owner"}],
        }  # fmt: skip
        answer = httpx.post(self.cluster.url + "/api/v1/workflows", json=body, headers=self.headers(), timeout=30)
        if answer.status_code != 201:
            sys.exit(f"bench/faults: creating the workflow failed: {answer.status_code} {answer.text[:500]}")
        self.workflow_id = answer.json()["id"]
        return tag

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def recording(seconds: float = 2.0, rate: int = 8000) -> bytes:
    """A short stereo WAV: a quiet tone plus a random tail, so no two uploads are the same file."""
    frames = bytearray()
    step = 440 / rate
    for index in range(int(seconds * rate)):
        value = int(6000 * (1 if (index * step) % 1 < 0.5 else -1))
        frames += struct.pack("<hh", value, value)
    frames += os.urandom(64)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(frames))
    return buffer.getvalue()


@dataclass
class Attempt:
    kind: str  # contact | upload
    number: int
    attempt: int
    start: float
    end: float
    status: int  # 0: the connection failed or timed out
    error: str = ""


@dataclass
class Operation:
    kind: str
    number: int
    start: float
    end: float = 0.0
    status: int = 0
    record_id: str = ""
    attempts: list[Attempt] = field(default_factory=list)


class Load:
    """--threads clients; every attempt recorded (times from the run's own clock, in seconds)."""

    def __init__(self, api: Api, tag: str, args) -> None:
        self.api, self.tag, self.args = api, tag, args
        self.origin = time.monotonic()
        self.operations: list[Operation] = []
        self.attempts: list[Attempt] = []  # as each ends, so a check sees operations still retrying
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.counter = 0
        self.uploads_in_progress = 0

    def uploading(self) -> bool:
        return self.uploads_in_progress > 0

    def clock(self) -> float:
        return time.monotonic() - self.origin

    def start(self) -> None:
        for index in range(self.args.threads):
            thread = threading.Thread(target=self.client, name=f"client{index}", daemon=True)
            thread.start()
            self.threads.append(thread)

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(60)

    def next_number(self) -> int:
        with self.lock:
            self.counter += 1
            return self.counter

    def client(self) -> None:
        with httpx.Client(base_url=self.api.cluster.url, headers=self.api.headers(), timeout=30) as http:
            while not self.stopping.is_set():
                number = self.next_number()
                kind = "upload" if number % self.args.upload_every == 0 else "contact"
                operation = Operation(kind, number, self.clock())
                self.perform(http, operation)
                with self.lock:
                    self.operations.append(operation)
                self.stopping.wait(self.args.pause * random.uniform(0.5, 1.5))  # noqa: S311

    def perform(self, http: httpx.Client, operation: Operation) -> None:
        name = f"{self.tag}-{operation.number:05d}"
        audio = recording() if operation.kind == "upload" else b""
        for attempt, delay in enumerate((0, *RETRY_DELAYS), start=1):
            if delay:
                time.sleep(delay)
            started = self.clock()
            error = ""
            if operation.kind == "upload":
                with self.lock:
                    self.uploads_in_progress += 1
            try:
                if operation.kind == "contact":
                    answer = http.post(
                        "/api/v1/contacts",
                        json={"first_name": "Fault", "last_name": name, "email": f"{name.lower()}@example.com"},
                        headers={"Idempotency-Key": name},
                    )
                else:
                    answer = http.post(
                        "/api/v1/calls",
                        files={"file": (f"fault-{name}.wav", audio, "audio/wav")},
                        data={"direction": "inbound", "external_id": f"fault-{name}"},
                    )
                status = answer.status_code
                if status < 300:
                    operation.record_id = answer.json().get("id", "")
                elif status >= 500:
                    error = answer.text[:200]
            except (httpx.HTTPError, ValueError) as exc:  # a cut connection, a time-out, an answer that is not JSON
                status, error = 0, f"{type(exc).__name__}: {exc}"[:200]
            finally:
                if operation.kind == "upload":
                    with self.lock:
                        self.uploads_in_progress -= 1
            ended = Attempt(operation.kind, operation.number, attempt, started, self.clock(), status, error)
            operation.attempts.append(ended)
            with self.lock:
                self.attempts.append(ended)
            operation.status = status
            if 0 < status < 500:
                break
        operation.end = self.clock()

    def snapshot(self) -> list[Operation]:
        with self.lock:
            return list(self.operations)

    def attempts_so_far(self) -> list[Attempt]:
        with self.lock:
            return list(self.attempts)


# --- checks -------------------------------------------------------------------------------------------


@dataclass
class Fault:
    name: str
    at: float  # on the load's clock
    what: str
    recovery: dict = field(default_factory=dict)


class Checks:
    def __init__(self, cluster: Cluster, api: Api, tag: str, load: Load) -> None:
        self.cluster, self.api, self.tag, self.load = cluster, api, tag, load
        self.started_at = None
        with cluster.db() as conn:
            self.started_at = conn.execute("SELECT now()").fetchone()[0]

    def run(self, label: str, fault: Fault | None, now: float, settle: float) -> dict:
        operations = self.load.snapshot()
        result: dict = {"label": label}
        if fault is not None:
            result.update(fault=fault.name, what=fault.what, recovery=fault.recovery)
            result.update(self.requests(operations, self.load.attempts_so_far(), fault.at, now))
        print(f"\n== {label}: checking (waiting up to {settle:.0f} s for the work to finish)…", flush=True)
        waited, state = self.settle(settle)
        result["settled_s"] = round(waited, 1)
        result.update(state)
        audit = self.cluster.octopushx("audit", "verify")
        result["audit_ok"] = audit.returncode == 0
        result["audit"] = (audit.stdout + audit.stderr).strip().splitlines()[-3:]
        report(result)
        return result

    def requests(self, operations: list[Operation], every_attempt: list[Attempt], at: float, until: float) -> dict:
        attempts = [a for a in every_attempt if a.end >= at and a.start <= until]
        failed = [a for a in attempts if a.status == 0 or a.status >= 500]
        in_flight = [a for a in attempts if a.start <= at < a.end]
        first_ok = min((a.end for a in attempts if a.start >= at and 0 < a.status < 500), default=None)
        last_failure = max((a.end for a in failed), default=None)
        touched = [op for op in operations if op.end >= at and op.start <= until]
        slowest = max((op.end - op.start for op in touched), default=0.0)
        statuses: dict[str, int] = {}
        for attempt in failed:
            statuses[str(attempt.status or "cut")] = statuses.get(str(attempt.status or "cut"), 0) + 1
        return {
            "attempts": len(attempts),
            "errors": len(failed),
            "error_statuses": statuses,
            "in_flight": len(in_flight),
            "in_flight_failed": sum(1 for a in in_flight if a.status == 0 or a.status >= 500),
            "failed_after_fault": sum(1 for a in failed if a.start > at),
            "first_success_s": round(first_ok - at, 2) if first_ok is not None else None,
            "errors_until_s": round(last_failure - at, 2) if last_failure is not None else 0.0,
            "operations": len(touched),
            "operations_retried": sum(1 for op in touched if len(op.attempts) > 1),
            "operations_failed": sum(1 for op in touched if not 0 < op.status < 500),
            "slowest_operation_s": round(slowest, 2),
            "error_samples": sorted({a.error[:120] for a in failed if a.error})[:3],
        }

    def settle(self, seconds: float) -> tuple[float, dict]:
        """Wait until the work of every record made before now is done (the load goes on meanwhile)."""
        started = time.monotonic()
        cutoff_clock = self.load.clock()
        with self.cluster.db() as conn:
            cutoff = conn.execute("SELECT now()").fetchone()[0]
        while True:
            try:
                state = self.state(cutoff, cutoff_clock)
            except psycopg.Error as exc:
                state = {"unsettled": [f"database: {exc}"[:200]]}
            waited = time.monotonic() - started
            if not state["unsettled"] or waited > seconds:
                return waited, state
            time.sleep(2)

    def state(self, cutoff, cutoff_clock: float) -> dict:
        """Records made up to ``cutoff`` (database time) and their work; requests answered by ``cutoff_clock``."""
        tag, workflow = self.tag, self.api.workflow_id
        with self.cluster.db() as conn:
            every_contact = conn.execute(
                "SELECT id::text, last_name, created_at <= %s FROM crm_contact WHERE last_name LIKE %s",
                [cutoff, f"{tag}-%"],
            ).fetchall()
            every_call = conn.execute(
                "SELECT id::text FROM calls_call WHERE external_id LIKE %s", [f"fault-{tag}-%"]
            ).fetchall()
            runs = conn.execute(
                "SELECT record_id, status, COUNT(*) FROM studio_run WHERE workflow_id = %s GROUP BY record_id, status",
                [workflow],
            ).fetchall()
            tasks = conn.execute(
                "SELECT contact_id::text, COUNT(*) FROM crm_task WHERE title LIKE %s GROUP BY contact_id",
                [f"Fault check {tag}-%"],
            ).fetchall()
            steps = conn.execute(
                "SELECT COUNT(*), COALESCE(MAX(s.attempts), 0), COUNT(*) FILTER (WHERE s.attempts > 1)"
                " FROM studio_steprun s JOIN studio_run r ON r.id = s.run_id WHERE r.workflow_id = %s",
                [workflow],
            ).fetchone()
            calls = conn.execute(
                "SELECT c.id::text, c.external_id, c.status,"
                " (SELECT COUNT(*) FROM calls_callanalysisresult r WHERE r.call_id = c.id)"
                " FROM calls_call c WHERE c.external_id LIKE %s AND c.created_at <= %s",
                [f"fault-{tag}-%", cutoff],
            ).fetchall()
            jobs = conn.execute(
                "SELECT kind, state, COUNT(*), COUNT(*) FILTER (WHERE attempts > 1) FROM core_job WHERE created_at >= %s AND created_at <= %s"
                " GROUP BY kind, state",
                [self.started_at, cutoff],
            ).fetchall()
            other_runs = conn.execute(
                "SELECT status, COUNT(*) FROM studio_run WHERE created_at >= %s AND created_at <= %s"
                " AND workflow_id <> %s GROUP BY status",
                [self.started_at, cutoff, workflow],
            ).fetchall()
        operations = self.load.snapshot()
        answered = [op for op in operations if 0 < op.status < 300]
        acknowledged = {op.record_id for op in answered if op.kind == "contact" and op.end <= cutoff_clock}
        acknowledged_calls = {op.record_id for op in answered if op.kind == "upload" and op.end <= cutoff_clock}
        every_acknowledged = {op.record_id for op in answered}
        contacts = [row for row in every_contact if row[2]]
        contact_ids = {row[0] for row in contacts}
        names = [row[1] for row in contacts]
        runs_of: dict[str, list[tuple[str, int]]] = {}
        for record_id, status, count in runs:
            runs_of.setdefault(record_id, []).append((status, count))
        tasks_of = {contact_id: count for contact_id, count in tasks}
        finished_runs = {"succeeded", "failed", "skipped", "cancelled", "loop_prevented"}
        pending_runs = sum(
            count for entries in runs_of.values() for status, count in entries if status not in finished_runs
        )
        no_run = [c for c in contact_ids if c not in runs_of]
        call_final = {"analysed", "failed", "skipped"}
        pending_calls = [row for row in calls if row[2] not in call_final]
        open_jobs = sum(row[2] for row in jobs if row[1] in ("queued", "running"))
        state = {
            "contacts": len(contact_ids),
            "contacts_acknowledged": len(acknowledged),
            "contacts_lost": len(acknowledged - {row[0] for row in every_contact}),
            "contacts_unacknowledged": len(contact_ids - every_acknowledged),
            "contacts_doubled": len(names) - len(set(names)),
            "runs_succeeded_once": sum(1 for c in contact_ids if runs_of.get(c) == [("succeeded", 1)]),
            "runs_missing": len(no_run),
            "runs_doubled": sum(1 for entries in runs_of.values() if sum(count for _s, count in entries) > 1),
            "runs_failed": sum(count for entries in runs_of.values() for s, count in entries if s == "failed"),
            "runs_pending": pending_runs,
            "tasks_once": sum(1 for c in contact_ids if tasks_of.get(c) == 1),
            "tasks_missing": sum(1 for c in contact_ids if c not in tasks_of),
            "tasks_doubled": sum(1 for count in tasks_of.values() if count > 1),
            "steps": steps[0],
            "steps_retried": steps[2],
            "calls": len(calls),
            "calls_acknowledged": len(acknowledged_calls),
            "calls_lost": len(acknowledged_calls - {row[0] for row in every_call}),
            "calls_analysed_once": sum(1 for row in calls if row[2] == "analysed" and row[3] == 1),
            "calls_doubled": len(calls) - len({row[1] for row in calls}),
            "calls_results_doubled": sum(1 for row in calls if row[3] > 1),
            "calls_not_analysed": {
                status: sum(1 for r in calls if r[2] == status)
                for status in {r[2] for r in calls}
                if status != "analysed"
            },  # fmt: skip
            "jobs": {f"{kind}:{state}": count for kind, state, count, _retried in jobs},
            "jobs_open": open_jobs,
            "jobs_failed": sum(row[2] for row in jobs if row[1] == "failed"),
            "jobs_retried": sum(row[3] for row in jobs),
            "other_runs": dict(other_runs),
        }
        unsettled = []
        if pending_runs or no_run:
            unsettled.append(f"{pending_runs} run(s) unfinished, {len(no_run)} contact(s) without a run")
        if pending_calls:
            unsettled.append(f"{len(pending_calls)} call(s) not analysed yet")
        if open_jobs:
            unsettled.append(f"{open_jobs} job(s) queued or running")
        state["unsettled"] = unsettled
        return state


def report(result: dict) -> None:
    if "attempts" in result:
        print(
            f"   requests {result['attempts']}, 5xx or cut {result['errors']} {result['error_statuses']}"
            f" (in flight at the fault {result['in_flight']}, of which failed {result['in_flight_failed']};"
            f" failed after it {result['failed_after_fault']}), first success after {result['first_success_s']} s,"
            f" errors until {result['errors_until_s']} s, retried operations {result['operations_retried']},"
            f" failed for good {result['operations_failed']}, slowest operation {result['slowest_operation_s']} s"
        )
        if result["error_samples"]:
            print(f"   errors seen: {result['error_samples']}")
        print(f"   recovery: {result['recovery']}")
    print(
        f"   contacts {result['contacts']} (acknowledged {result['contacts_acknowledged']}, lost"
        f" {result['contacts_lost']}, doubled {result['contacts_doubled']}, committed but unanswered"
        f" {result['contacts_unacknowledged']}); runs once {result['runs_succeeded_once']}, missing"
        f" {result['runs_missing']}, doubled {result['runs_doubled']}, failed {result['runs_failed']}, pending"
        f" {result['runs_pending']}; tasks once {result['tasks_once']}, missing {result['tasks_missing']}, doubled"
        f" {result['tasks_doubled']}; steps retried {result['steps_retried']}"
    )
    print(
        f"   calls {result['calls']} (acknowledged {result['calls_acknowledged']}, lost {result['calls_lost']}),"
        f" analysed once {result['calls_analysed_once']}, results doubled {result['calls_results_doubled']},"
        f" not analysed {result['calls_not_analysed']}; jobs open {result['jobs_open']}, failed"
        f" {result['jobs_failed']}, retried {result['jobs_retried']}; other workflows' runs {result['other_runs']}"
    )
    print(
        f"   settled after {result['settled_s']} s{'' if not result['unsettled'] else ' NOT SETTLED: '}"
        f"{'; '.join(result['unsettled'])}; audit verify {'ok' if result['audit_ok'] else 'FAILED'}"
    )
    if not result["audit_ok"]:
        print(f"   audit verify said: {result['audit']}")


def summary(results: list[dict], load: Load, args) -> None:
    operations = load.snapshot()
    attempts = [a for op in operations for a in op.attempts]
    print(
        f"\n{len(operations)} operations ({sum(1 for o in operations if o.kind == 'upload')} uploads),"
        f" {len(attempts)} requests in {load.clock():.0f} s; {args.threads} clients, pause {args.pause} s;"
        f" job lease {args.lease} s, reaper every {args.reaper} s"
    )
    header = (
        f"{'fault':<12} {'req':>5} {'5xx':>4} {'flight':>6} {'f.fail':>6} {'after':>5} {'1st ok s':>8}"
        f" {'err s':>6} {'retried':>7} {'lost':>4} {'dbl':>4} {'calls ok':>9} {'runs ok':>9} {'jobs':>5}"
        f" {'settle s':>8} {'audit':>5}"
    )
    print(header)
    print("-" * len(header))
    for row in results:
        if "attempts" not in row:
            continue
        lost = row["contacts_lost"] + row["calls_lost"] + row["runs_missing"] + row["tasks_missing"]
        doubled = (row["contacts_doubled"] + row["calls_doubled"] + row["calls_results_doubled"]
                   + row["runs_doubled"] + row["tasks_doubled"])  # fmt: skip
        print(
            f"{row['fault']:<12} {row['attempts']:>5} {row['errors']:>4} {row['in_flight']:>6}"
            f" {row['in_flight_failed']:>6} {row['failed_after_fault']:>5} {str(row['first_success_s']):>8}"
            f" {row['errors_until_s']:>6} {row['operations_retried']:>7} {lost:>4} {doubled:>4}"
            f" {row['calls_analysed_once']:>4}/{row['calls']:<4} {row['runs_succeeded_once']:>4}/{row['contacts']:<4}"
            f" {row['jobs_open'] + row['jobs_failed']:>5} {row['settled_s']:>8} {'ok' if row['audit_ok'] else 'NO':>5}"
        )
    final = results[-1]
    print(
        f"end: contacts {final['contacts']}, runs once {final['runs_succeeded_once']}, tasks once"
        f" {final['tasks_once']}, calls {final['calls']} analysed once {final['calls_analysed_once']}, jobs open"
        f" {final['jobs_open']} failed {final['jobs_failed']}, audit {'ok' if final['audit_ok'] else 'FAILED'}"
    )
    print(
        "columns: req = requests answered or cut in the fault's window; 5xx = 5xx or cut connections; flight ="
        " requests in flight at the fault, f.fail = of those, failed; after = failures of requests sent after the"
        " fault; 1st ok s = first success of a request sent after the fault; err s = last error, s after the fault;"
        " lost/dbl = contacts, calls, runs, tasks lost or doubled; jobs = open or failed jobs at the check"
    )


# --- the faults -----------------------------------------------------------------------------------------


def relaunch_spec(pid: int) -> tuple[list[str], dict[str, str], str]:
    argv = cmdline(pid)
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    environ = dict(part.decode().split("=", 1) for part in raw if b"=" in part)
    return argv, environ, os.readlink(f"/proc/{pid}/cwd")


def cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime


def busiest(pids: list[int], seconds: float = 0.3) -> int:
    """The process that used the most CPU over a short look: the one most likely serving a request."""
    before = {pid: cpu_ticks(pid) for pid in pids}
    time.sleep(seconds)
    used = {pid: cpu_ticks(pid) - before[pid] for pid in pids}
    top = max(used.values())
    return random.choice([pid for pid, ticks in used.items() if ticks == top])  # noqa: S311


def wait_in_flight(load: Load, seconds: float = 10) -> None:
    """Until an upload (the longest request) is being sent, so the fault meets work in progress."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not load.uploading():
        time.sleep(0.01)


def fault_web_worker(cluster: Cluster, checks: Checks, args) -> Fault:
    master = cluster.pid("web1")
    workers = children(master)
    if not workers:
        sys.exit("bench/faults: web1 has no worker processes")
    wait_in_flight(checks.load)
    victim = busiest(workers, 0.05)
    at = checks.load.clock()
    os.kill(victim, signal.SIGKILL)
    print(f"\n>> web-worker: kill -9 gunicorn worker {victim} of web1 (master {master}) at {at:.1f} s", flush=True)
    started = time.monotonic()
    replaced = None
    while time.monotonic() - started < 30:
        now = [pid for pid in children(master) if pid != victim]
        if len(now) >= len(workers):
            replaced = round(time.monotonic() - started, 2)
            break
        time.sleep(0.1)
    return Fault("web-worker", at, f"kill -9 gunicorn worker {victim} of web1", {"worker_replaced_s": replaced})


def fault_web_master(cluster: Cluster, checks: Checks, args) -> Fault:
    name = f"web{len(args.web_ports.split(','))}"
    master = cluster.pid(name)
    argv, environ, cwd = relaunch_spec(master)
    victims = [master, *children(master)]
    wait_in_flight(checks.load)
    at = checks.load.clock()
    for pid in victims:
        os.kill(pid, signal.SIGKILL)
    print(f"\n>> web-master: kill -9 {name} (gunicorn master {master} and workers {victims[1:]}) at {at:.1f} s",
          flush=True)  # fmt: skip
    for pid in victims:
        wait_gone(pid, 5)
    time.sleep(args.down)
    new = cluster.restart(name, argv, environ, cwd)
    port = args.web_ports.split(",")[-1].strip()
    ready = wait_ready(f"http://127.0.0.1:{port}/readyz", 60)
    print(f"   {name} restarted as pid {new}; /readyz on :{port} after {ready} s", flush=True)
    return Fault(
        "web-master", at, f"kill -9 {name} (master and {len(victims) - 1} workers), restarted after {args.down} s",
        {"restarted_pid": new, "ready_after_restart_s": round(ready, 2) if ready is not None else None},
    )  # fmt: skip


def running_analysis(cluster: Cluster, seconds: float) -> tuple[str, int] | None:
    """(job id, worker pid) of a call analysis being run right now, waiting up to SECONDS for one."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with cluster.db() as conn:
            row = conn.execute(
                "SELECT j.id::text, w.pid FROM core_job j JOIN core_workerprocess w ON w.id = j.claimed_by"
                " WHERE j.state = 'running' AND j.kind = 'calls.process' ORDER BY j.started_at DESC LIMIT 1"
            ).fetchone()
        if row:
            return row[0], row[1]
        time.sleep(0.1)
    return None


def fault_worker(cluster: Cluster, checks: Checks, args) -> Fault:
    names = sorted(p.stem for p in (cluster.run / "pids").glob("worker*.pid"))
    pids = {cluster.pid(name): name for name in names}
    held = running_analysis(cluster, 30)
    if held and held[1] in pids:
        job_id, victim = held
    else:
        job_id, victim = None, next(iter(pids))
    name = pids[victim]
    argv, environ, cwd = relaunch_spec(victim)
    at = checks.load.clock()
    os.kill(victim, signal.SIGKILL)
    print(f"\n>> worker: kill -9 {name} (pid {victim}) at {at:.1f} s, running analysis job {job_id}", flush=True)
    wait_gone(victim, 5)
    time.sleep(args.down)
    new = cluster.restart(name, argv, environ, cwd)
    recovery: dict = {"restarted_pid": new}
    if job_id:
        started = time.monotonic()
        while time.monotonic() - started < 120:
            with cluster.db() as conn:
                state, attempts = conn.execute(
                    "SELECT state, attempts FROM core_job WHERE id = %s", [job_id]
                ).fetchone()
            if state in ("done", "failed"):
                recovery.update(killed_job=state, killed_job_attempts=attempts,
                                killed_job_done_after_kill_s=round(checks.load.clock() - at, 1))  # fmt: skip
                break
            time.sleep(0.5)
        else:
            recovery["killed_job"] = "still not finished after 120 s"
    print(f"   {name} restarted as pid {new}; {recovery}", flush=True)
    what = f"kill -9 {name} during call analysis {job_id}" if job_id else f"kill -9 {name} (no analysis was running)"
    return Fault("worker", at, what + f", restarted after {args.down} s", recovery)


def fault_redis(cluster: Cluster, checks: Checks, args) -> Fault:
    pid = cluster.redis_pid()
    if pid is None:
        sys.exit("bench/faults: this run's Redis is not running (the redis fault needs it)")
    at = checks.load.clock()
    os.kill(pid, signal.SIGKILL)
    print(f"\n>> redis: kill -9 this run's Redis (pid {pid}) at {at:.1f} s; down {args.down} s", flush=True)
    wait_gone(pid, 5)
    time.sleep(args.down)
    new = cluster.start_redis()
    back = checks.load.clock()
    ready = wait_ready(cluster.url + "/readyz", 60)
    # The first job finished after the restart: the queue delivers again.
    delivered = None
    started = time.monotonic()
    with cluster.db() as conn:
        since = conn.execute("SELECT now()").fetchone()[0]
    while time.monotonic() - started < 120:
        with cluster.db() as conn:
            if conn.execute("SELECT 1 FROM core_job WHERE finished_at > %s LIMIT 1", [since]).fetchone():
                delivered = round(time.monotonic() - started, 1)
                break
        time.sleep(0.5)
    print(f"   Redis back as pid {new} at {back:.1f} s; /readyz 200 after {ready} s; a job done {delivered} s after",
          flush=True)  # fmt: skip
    return Fault(
        "redis", at, f"kill -9 Redis (no persistence: queue and counters lost), started again after {args.down} s",
        {"redis_down_s": round(back - at, 1), "readyz_after_restart_s": ready, "first_job_done_after_restart_s": delivered},
    )  # fmt: skip


def fault_postgres(cluster: Cluster, checks: Checks, args) -> Fault:
    at = checks.load.clock()
    terminated = cluster.refuse_connections()
    print(f"\n>> postgres: {args.database} refuses connections at {at:.1f} s ({terminated} sessions ended)"
          f" for {args.db_outage} s", flush=True)  # fmt: skip
    try:
        time.sleep(args.db_outage)
    finally:
        cluster.allow_connections()
    back = checks.load.clock()
    ready = wait_ready(cluster.url + "/readyz", 60)
    print(f"   connections allowed again at {back:.1f} s; /readyz 200 after {ready} s", flush=True)
    return Fault(
        "postgres", at, f"{args.database} refused connections for {args.db_outage} s ({terminated} sessions ended)",
        {"outage_s": round(back - at, 1), "readyz_after_s": ready},
    )  # fmt: skip


FAULT_FUNCTIONS = {
    "web-worker": fault_web_worker,
    "web-master": fault_web_master,
    "worker": fault_worker,
    "redis": fault_redis,
    "postgres": fault_postgres,
}


if __name__ == "__main__":
    main()
