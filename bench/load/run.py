"""The load mix of bench/load/locustfile.py against the embedded single process and the cluster,
printed side by side: requests/s, p50/p95/p99 (ms) per request kind, and errors.

    .venv/bin/python bench/load/run.py                       # both, 60 s each, 40 agents + 4 integrations
    .venv/bin/python bench/load/run.py --seconds 30 --only single
    .venv/bin/python bench/load/run.py --reuse-cluster        # a `deploy/local-cluster start` already running

Single: `octopushx serve` on SQLite in a temporary data folder with the demo data. Cluster:
`deploy/local-cluster start --demo` (nginx, 2 gunicorn, 2 workers, PostgreSQL, Redis, moto S3), stopped
afterwards unless it was already running. Loopback only; bounded by --seconds and --max-requests.
Rate limits stay on (their counters are part of every request) with limits no test team reaches from
one address.
"""

from __future__ import annotations

import argparse
import csv
import os
import signal
import subprocess  # nosec B404
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
LIMITS = {
    "OCTOPUSHX_SIGN_IN_RATE_LIMIT": "100000",
    "OCTOPUSHX_API_IP_RATE_LIMIT": "1000000",
    "OCTOPUSHX_API_RATE_LIMIT": "1000000",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--agents", type=int, default=40)
    parser.add_argument("--integrations", type=int, default=4)
    parser.add_argument("--think", type=float, default=2.0, help="mean seconds between an agent's clicks")
    parser.add_argument("--max-requests", type=int, default=20000)
    parser.add_argument(
        "--count-ramp",
        action="store_true",
        help="count the ramp-up too (every agent signing in within seconds); by default figures start once all run",
    )
    parser.add_argument("--only", choices=["single", "cluster"])
    parser.add_argument("--reuse-cluster", action="store_true", help="load a cluster that already runs")
    parser.add_argument("--cluster-dir", default=str(PROJECT / "var" / "cluster"))
    parser.add_argument("--cluster-port", type=int, default=8080)
    parser.add_argument("--single-port", type=int, default=8200)
    parser.add_argument("--single-data", help="a data folder to keep and reuse (default: a temporary one)")
    args = parser.parse_args()

    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="octopushx-load-") as scratch:
        scratch_path = Path(scratch)
        if args.only in (None, "single"):
            results["single"] = run_single(args, scratch_path)
        if args.only in (None, "cluster"):
            results["cluster"] = run_cluster(args, scratch_path)
    print_table(results, args)


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OCTOPUSHX_", "DATABASE_URL", "REDIS_URL"))}
    env["PYTHONPATH"] = str(PROJECT / "src")
    env.setdefault("OCTOPUSHX_NODE_MODULES", str(PROJECT / "node_modules"))
    return env


def prepare_team(env: dict[str, str], args, folder: Path) -> tuple[Path, Path]:
    """40 agents (bench/load/team.py) and one token per integration (`octopushx token create`)."""
    agents = folder / "agents.txt"
    done = run([str(BIN / "python"), str(PROJECT / "bench" / "load" / "team.py"), str(args.agents)], env)
    agents.write_text(done.stdout)
    tokens = folder / "tokens.txt"
    owners = ["owner@acme.test", "manager@acme.test"]
    lines = []
    for number in range(args.integrations):
        command = [str(BIN / "octopushx"), "token", "create", "--email", owners[number % 2], "--name", f"load {number}"]
        lines.append(run(command, env).stdout.strip())
    tokens.write_text("\n".join(lines) + "\n")
    return agents, tokens


def run_single(args, scratch: Path) -> dict:
    folder = scratch / "single"
    folder.mkdir()
    data = Path(args.single_data).resolve() if args.single_data else folder / "data"
    env = base_env() | LIMITS | {"OCTOPUSHX_DATA_DIR": str(data), "OCTOPUSHX_DEMO_CALLS": "3"}
    if not (data / "octopushx.sqlite3").exists():
        print("single: loading the demo data…", flush=True)
        run([str(BIN / "octopushx"), "demo"], env)
    agents, tokens = prepare_team(env, args, folder)
    log = open(folder / "serve.log", "wb")  # noqa: SIM115
    server = start_serve(args.single_port, env, log)
    try:
        url = f"http://127.0.0.1:{args.single_port}"
        wait_ready(url + "/readyz", 120)
        return load("single", url, agents, tokens, args, folder)
    finally:
        stop(server)


def start_serve(port: int, env: dict[str, str], log, *options: str) -> subprocess.Popen:
    """`octopushx serve` on 127.0.0.1:port in a session of its own, its output to ``log``."""
    return subprocess.Popen(  # nosec B603
        [str(BIN / "octopushx"), "serve", "--port", str(port), *options],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(server: subprocess.Popen) -> None:
    """SIGTERM (requests in flight finish), then a kill after 30 s."""
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def run_cluster(args, scratch: Path) -> dict:
    folder = scratch / "cluster"
    folder.mkdir()
    script = [str(BIN / "python"), str(PROJECT / "deploy" / "local-cluster")]
    common = ["--run-dir", args.cluster_dir, "--port", str(args.cluster_port)]
    started = False
    if not args.reuse_cluster:
        print("cluster: starting deploy/local-cluster…", flush=True)
        run([*script, "start", "--demo", *common], base_env() | LIMITS | {"OCTOPUSHX_DEMO_CALLS": "3"})
        started = True
    try:
        env = base_env()
        for line in (Path(args.cluster_dir) / "cluster.env").read_text().splitlines():
            key, _, value = line.partition("=")
            env[key] = value
        agents, tokens = prepare_team(env, args, folder)
        url = f"http://127.0.0.1:{args.cluster_port}"
        wait_ready(url + "/readyz", 60)
        return load("cluster", url, agents, tokens, args, folder)
    finally:
        if started:
            run([*script, "stop", *common], base_env())


def load(label: str, url: str, agents: Path, tokens: Path, args, folder: Path) -> dict:
    users = args.agents + args.integrations
    print(f"{label}: {users} users for {args.seconds} s against {url}…", flush=True)
    env = os.environ | {
        "LOAD_AGENTS": str(agents),
        "LOAD_TOKENS": str(tokens),
        "LOAD_THINK": str(args.think),
        "LOAD_MAX_REQUESTS": str(args.max_requests),
        "LOAD_INTEGRATIONS": str(args.integrations),
    }
    command = [
        str(BIN / "locust"),
        "-f",
        str(PROJECT / "bench" / "load" / "locustfile.py"),
        "--headless",
        "--host",
        url,
        "--users",
        str(users),
        "--spawn-rate",
        str(max(1, users // 10)),
        "--run-time",
        f"{args.seconds}s",
        "--stop-timeout",
        "10",
        "--csv",
        str(folder / label),
        "--only-summary",
        *([] if args.count_ramp else ["--reset-stats"]),
        "--loglevel",
        "WARNING",
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True)  # nosec B603
    (folder / "locust.log").write_text(done.stdout + done.stderr)
    stats = folder / f"{label}_stats.csv"
    if not stats.exists():
        sys.exit(f"{label}: locust wrote no statistics:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    rows = {row["Name"]: row for row in csv.DictReader(stats.open())}
    failures = folder / f"{label}_failures.csv"
    rows["_failures"] = list(csv.DictReader(failures.open())) if failures.exists() else []
    return rows


def print_table(results: dict[str, dict], args) -> None:
    labels = list(results)
    names = sorted({name for rows in results.values() for name in rows if not name.startswith("_")} - {"Aggregated"})
    names.append("Aggregated")
    header = f"{'request kind':<26}" + "".join(f" | {label:^37}" for label in labels)
    sub = f"{'':<26}" + "".join(f" | {'n':>6} {'req/s':>6} {'p50':>5} {'p95':>5} {'p99':>5} {'err':>4}" for _ in labels)
    print(
        f"\n{args.agents} agents + {args.integrations} integrations, think {args.think} s, {args.seconds} s each"
        f" ({'ramp-up counted' if args.count_ramp else 'counted once every user runs'}); times in ms"
    )
    print(header)
    print(sub)
    print("-" * len(sub))
    for name in names:
        cells = []
        for label in labels:
            row = results[label].get(name)
            if row is None:
                cells.append(f" | {'':>37}")
                continue
            cells.append(
                f" | {row['Request Count']:>6} {float(row['Requests/s']):>6.1f} {row['50%']:>5} {row['95%']:>5}"
                f" {row['99%']:>5} {row['Failure Count']:>4}"
            )
        print(f"{name[:26]:<26}" + "".join(cells))
    for label in labels:
        for failure in results[label]["_failures"]:
            print(f"{label}: {failure['Occurrences']}× {failure['Method']} {failure['Name']}: {failure['Error'][:160]}")


def run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    done = subprocess.run(command, env=env, capture_output=True, text=True)  # nosec B603
    if done.returncode:
        sys.exit(f"failed: {' '.join(command[:4])}…\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return done


def wait_ready(url: str, seconds: int) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 - loopback
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    sys.exit(f"{url} not ready within {seconds} s")


if __name__ == "__main__":
    main()
