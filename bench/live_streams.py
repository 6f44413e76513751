"""Do open caller-card streams starve ordinary requests? Figures for ``octopushx serve``.

Starts ``octopushx serve`` (waitress) on a throw-away SQLite data folder, signs in AGENTS members, and
times an ordinary page (the contact list) with no stream open, then with every agent's event stream
open (each reconnects as a browser's EventSource does). Past the process's stream cap the stream answers
204 and the page would poll: the figures say how many streams were held and how many were refused.
With ``REDIS_URL`` set it also times a ringing event from another process to the agent's open stream.
Usage:

    .venv/bin/python bench/live_streams.py [AGENTS] [--threads N] [--requests N]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

DATA_DIR = tempfile.mkdtemp(prefix="octopushx-live-bench-")
os.environ["OCTOPUSHX_DATA_DIR"] = DATA_DIR
os.environ.pop("DATABASE_URL", None)  # the server and this script share the throw-away SQLite file
os.environ.setdefault("OCTOPUSHX_TESTING", "0")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "octopushx.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from octopushx.core.context import Actor  # noqa: E402
from octopushx.tenancy import services as tenancy_services  # noqa: E402

OCTOPUSHX = str(Path(sys.executable).with_name("octopushx"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def members(count: int):
    call_command("migrate", verbosity=0)
    org = tenancy_services.create_organization(Actor.system("bench"), name="Bench line")
    result = []
    for index in range(count):
        membership = tenancy_services.add_member(
            org, Actor.system("bench"), email=f"agent{index}@bench.test", role="agent",
            password="correct-horse-battery-9", check=False,
        )  # fmt: skip
        client = Client()
        client.force_login(membership.user)
        result.append((membership, client.cookies[settings.SESSION_COOKIE_NAME].value))
    return org, result


def get(port: int, path: str, cookie: str) -> tuple[int, float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.perf_counter()
    connection.request("GET", path, headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.status, time.perf_counter() - started


def page_times(port: int, cookie: str, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        status, seconds = get(port, "/crm/", cookie)
        assert status == 200, status
        times.append(seconds)
        time.sleep(0.05)
    return times


class Stream(threading.Thread):
    """One agent's page: an event stream, reconnected when it ends; 204 counts as a refusal (polling)."""

    def __init__(self, port: int, cookie: str, stop: threading.Event):
        super().__init__(daemon=True)
        self.port, self.cookie, self.stop = port, cookie, stop
        self.open = threading.Event()
        self.refused = 0
        self.events: list[tuple[float, dict]] = []

    def run(self) -> None:
        while not self.stop.is_set():
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            headers = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={self.cookie}", "Accept": "text/event-stream"}
            connection.request("GET", "/telephony/live/stream/", headers=headers)
            response = connection.getresponse()
            if response.status == 204:
                self.refused += 1
                response.read()
                connection.close()
                self.open.set()  # answered: this page polls instead
                self.stop.wait(settings.LIVE_POLL_SECONDS)
                continue
            assert response.status == 200, response.status
            self.open.set()
            try:
                while not self.stop.is_set():
                    line = response.fp.readline()
                    if not line:
                        break
                    if line.startswith(b'data: {"type"'):
                        self.events.append((time.perf_counter(), json.loads(line[6:])))
            except OSError:
                pass
            connection.close()


def summary(label: str, times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"{label}: median {statistics.median(times) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, max {max(times) * 1000:.1f} ms"


def ring_latency(org, streams: list[Stream], agents) -> str:
    """A ringing event published by this process (as a webhook process would), timed to the stream."""
    from octopushx.telephony import calllog, live
    from octopushx.telephony.models import CallState

    stream, (membership, _) = streams[0], agents[0]
    delays = []
    for index in range(10):
        phone_call, _ = calllog.open_call(
            org, provider="twilio", provider_call_id=f"CAbench{index}", direction="inbound",
            from_number="+447911123456", to_number="+442079460000", state=CallState.RINGING,
        )  # fmt: skip
        phone_call.ringing_users = [str(membership.user_id)]
        phone_call.save(update_fields=["ringing_users"])
        before = len(stream.events)
        started = time.perf_counter()
        live.call_changed(phone_call)
        while len(stream.events) == before and time.perf_counter() - started < 5:
            time.sleep(0.001)
        if len(stream.events) > before:
            delays.append(stream.events[-1][0] - started)
        time.sleep(0.2)
    if not delays:
        return "ringing event to the open stream: none arrived within 5 s"
    return summary(f"ringing event to the open stream ({len(delays)}/10 arrived)", delays)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("agents", nargs="?", type=int, default=40)
    parser.add_argument("--threads", type=int, default=None, help="serve's --threads (default: serve's own)")
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    org, agents = members(args.agents + 1)
    port = free_port()
    command = [OCTOPUSHX, "serve", "--port", str(port), "--no-worker"]
    if args.threads:
        command += ["--threads", str(args.threads)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stop = threading.Event()
    try:
        for _ in range(200):
            try:
                if get(port, "/healthz", "")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        reader = agents[-1][1]  # a member with no stream open browses the CRM
        page_times(port, reader, 5)  # warm up
        print(f"octopushx serve {'--threads ' + str(args.threads) if args.threads else '(default threads)'}, "
              f"{args.agents} agents' pages open, SQLite, {os.cpu_count()} cores")  # fmt: skip
        print(summary(f"/crm/ with no stream open ({args.requests} requests)", page_times(port, reader, args.requests)))
        streams = [Stream(port, cookie, stop) for _, cookie in agents[:-1]]
        started = time.perf_counter()
        for stream in streams:
            stream.start()
        for stream in streams:
            stream.open.wait(30)
        print(f"{args.agents} streams answered in {time.perf_counter() - started:.2f} s")
        time.sleep(1)
        times = page_times(port, reader, args.requests)
        held = sum(1 for s in streams if s.refused == 0)
        print(f"streams held open: {held}, refused with 204 (polling instead): {args.agents - held}")
        print(summary(f"/crm/ with {args.agents} pages' streams open ({args.requests} requests)", times))
        if settings.REDIS_URL:
            print(ring_latency(org, streams, agents))
        else:
            print("ringing event latency across processes: set REDIS_URL (in one process the broker is a queue)")
    finally:
        stop.set()
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
