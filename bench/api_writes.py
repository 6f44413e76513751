"""The API write path on the embedded single process: 20 API clients creating and updating contacts.

    .venv/bin/python bench/api_writes.py                      # 20 clients, as fast as answers come, 30 s
    .venv/bin/python bench/api_writes.py --rate 100           # the same clients paced to 100 requests/s in all
    .venv/bin/python bench/api_writes.py --data-dir DIR       # keep and reuse a demo data folder

`octopushx serve` (waitress, its in-process job consumer, SQLite) runs on the demo data in a temporary
data folder; each client has its own API token (one agent of bench/load/team.py each) and its own
keep-alive connection, and loops: create a contact, then update it (half the requests each). The load
generator runs beside the server on the same machine, as issue 18 asks. Rate limits stay on (their
counters are part of every request) with limits these clients do not reach.

Prints requests/s, p50/p95/p99 per kind and in all, and errors. Target (issue 18): at least 100
requests/s with p95 under 300 ms.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "load"))
from run import BIN, LIMITS, base_env, run, start_serve, stop, wait_ready  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--warm-up", type=int, default=5, help="seconds of load before figures are counted")
    parser.add_argument("--rate", type=float, help="pace the clients to this many requests/s in all (open loop)")
    parser.add_argument("--port", type=int, default=8210)
    parser.add_argument("--threads", type=int, default=8, help="the server's --threads")
    parser.add_argument("--data-dir", help="a data folder to keep and reuse (default: a temporary one)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="octopushx-writes-") as scratch:
        data = Path(args.data_dir).resolve() if args.data_dir else Path(scratch) / "data"
        env = base_env() | LIMITS | {"OCTOPUSHX_DATA_DIR": str(data), "OCTOPUSHX_DEMO_CALLS": "0"}
        if not (data / "octopushx.sqlite3").exists():
            print("loading the demo data…", flush=True)
            run([str(BIN / "octopushx"), "demo"], env)
        emails = run([str(BIN / "python"), str(Path(__file__).parent / "load" / "team.py"), str(args.clients)], env)
        tokens = [
            run(
                [str(BIN / "octopushx"), "token", "create", "--email", email, "--name", "api writes"], env
            ).stdout.strip()
            for email in emails.stdout.split()
        ]
        log = open(Path(scratch) / "serve.log", "wb")  # noqa: SIM115
        server = start_serve(args.port, env, log, "--threads", str(args.threads))
        try:
            wait_ready(f"http://127.0.0.1:{args.port}/readyz", 120)
            report(drive(args, tokens), args)
        finally:
            stop(server)


def drive(args, tokens: list[str]) -> dict[str, list]:
    """Run the clients; return {kind: [seconds, ...]} for answers after the warm-up, and the errors."""
    counted_from = time.monotonic() + args.warm_up
    stop_at = counted_from + args.seconds
    timings: dict[str, list] = {"create contact": [], "update contact": [], "errors": []}
    lock = threading.Lock()
    # Open loop: each client sends one request every `interval` seconds, whenever the answers come.
    interval = args.clients / args.rate if args.rate else 0.0

    def client(number: int, token: str) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=60)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        due = time.monotonic() + interval * number / args.clients
        contact = None
        while True:
            if interval:
                time.sleep(max(0.0, due - time.monotonic()))
                due += interval
            sent = time.monotonic()
            if sent >= stop_at:
                break
            if contact is None:
                kind, method, path = "create contact", "POST", "/api/v1/contacts"
                body = {
                    "first_name": "Load",
                    "last_name": uuid.uuid4().hex[:8],
                    "email": f"{uuid.uuid4().hex[:12]}@load.test",
                }
            else:
                kind, method, path = "update contact", "PATCH", f"/api/v1/contacts/{contact}"
                body = {"job_title": f"Buyer {number}", "city": "Leeds"}
            try:
                connection.request(method, path, json.dumps(body), headers)
                answer = connection.getresponse()
                payload = answer.read()
                status = answer.status
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=60)
                status, payload = 0, str(exc).encode()
            took = time.monotonic() - sent
            ok = status in (200, 201)
            contact = json.loads(payload)["id"] if ok and kind == "create contact" else None
            if sent >= counted_from:
                with lock:
                    timings[kind].append(took)
                    if not ok:
                        timings["errors"].append(f"{status} {kind}: {payload[:200]!r}")

    threads = [threading.Thread(target=client, args=(n, token), daemon=True) for n, token in enumerate(tokens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return timings


def report(timings: dict[str, list], args) -> None:
    mode = f"paced to {args.rate:g} requests/s" if args.rate else "each sending its next request on the answer"
    print(
        f"\n{args.clients} API clients, {mode}; server --threads {args.threads}; {args.seconds} s counted; times in ms"
    )
    print(f"{'request kind':<16} | {'n':>6} {'req/s':>6} {'p50':>6} {'p95':>6} {'p99':>6} {'max':>6}")
    everything = timings["create contact"] + timings["update contact"]
    for kind, values in [
        ("create contact", timings["create contact"]),
        ("update contact", timings["update contact"]),
        ("all", everything),
    ]:
        if not values:
            continue
        cuts = statistics.quantiles(values, n=100) if len(values) > 1 else values * 99
        print(
            f"{kind:<16} | {len(values):>6} {len(values) / args.seconds:>6.1f} {cuts[49] * 1000:>6.0f}"
            f" {cuts[94] * 1000:>6.0f} {cuts[98] * 1000:>6.0f} {max(values) * 1000:>6.0f}"
        )
    print(f"errors: {len(timings['errors'])}")
    for error in timings["errors"][:10]:
        print("  ", error)


if __name__ == "__main__":
    main()
