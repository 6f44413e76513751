"""A worker killed in the middle of workflow runs: a new worker finishes them, each effect once.

Real ``octopushx worker`` processes share the test database (as in ``tests/core/test_worker_crash.py``)
and run a workflow whose steps are local effects (a task, a tag) and one HTTP request to a receiver
on 127.0.0.1 that keeps every ``webhook-id`` it is sent. The first worker is killed with SIGKILL
while some runs are done, some are running and one HTTP request is in flight; a second worker
finishes everything. Then: one task and one tag change per contact, one delivery per (run, step)
except the re-sends of the interrupted requests, which carry the same ``webhook-id`` (a receiver
deduplicating by it sees each step once), every run succeeded, and the audit chain holds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from standardwebhooks import Webhook

from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry, WorkerProcess
from octopushx.crm.models import Contact, Task
from octopushx.studio import services
from octopushx.studio.models import Run, RunStatus, StepRun, StepStatus
from tests.core.test_worker_crash import Workers, _wait_for, worker_env  # noqa: F401  (fixture)
from tests.crm.conftest import make_contact

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CONTACTS = 24
ANSWER_AFTER = 0.3  # the receiver holds each request this long after recording it: the window to kill in


class Receiver(ThreadingHTTPServer):
    """An HTTP endpoint on 127.0.0.1 that records each delivery (headers, body) before answering."""

    daemon_threads = True

    def __init__(self):
        self.deliveries: list[dict] = []
        self.in_flight: set[str] = set()
        self.lock = threading.Lock()
        self.answering = threading.Event()  # cleared: requests are held, unanswered, until it is set again
        self.answering.set()
        super().__init__(("127.0.0.1", 0), _Handler)
        threading.Thread(target=self.serve_forever, name="webhook-receiver", daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"

    def ids(self) -> list[str]:
        with self.lock:
            return [d["webhook-id"] for d in self.deliveries]


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        key = self.headers.get("webhook-id", "")
        delivery = {
            name: self.headers.get(name, "") for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
        }
        with self.server.lock:
            self.server.deliveries.append({**delivery, "body": body})
            self.server.in_flight.add(key)
        time.sleep(ANSWER_AFTER)
        while True:
            with self.server.lock:
                if self.server.answering.is_set():
                    self.server.in_flight.discard(key)
                    break
            time.sleep(0.02)
        answer = json.dumps({"received": key}).encode()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
        except OSError:  # the sender was killed while we held its request
            pass

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def workers(worker_env, tmp_path):  # noqa: F811
    worker_env.update(
        OCTOPUSHX_JOB_MODULES="",
        OCTOPUSHX_STUDIO_ALLOW_PRIVATE_URLS="1",
        OCTOPUSHX_STUDIO_RETRY_SECONDS="1",
        # A long lease: the runs of the killed worker come back because it is known to be gone
        # (its pid), not because their lease ran out.
        OCTOPUSHX_JOB_LEASE_SECONDS="120",
        OCTOPUSHX_REAPER_SECONDS="1",
    )
    pool = Workers(worker_env, tmp_path)
    yield pool
    pool.stop_all()


def _body(url: str) -> dict:
    return {
        "name": "Welcome and notify",
        "trigger": {"type": "event", "event": "contact.created"},
        "steps": [
            {"id": "task", "type": "create_task", "title": "Call {{ contact.first_name }}", "due_in_days": 1,
             "assignee": "record_owner"},
            {"id": "notify", "type": "http_request", "method": "POST", "url": url,
             "body": {"contact": "{{ contact.id }}", "name": "{{ contact.first_name }}"}},
            {"id": "tag", "type": "add_tag", "tag": "welcomed"},
        ],
    }  # fmt: skip


def _succeeded(workflow) -> int:
    return Run.objects.filter(workflow=workflow, status=RunStatus.SUCCEEDED).count()


def test_killed_worker_mid_run_resumes_every_run_with_each_effect_once(org, studio_settings, workers, receiver):
    workflow, secret = services.create_workflow(org, Actor.system("test"), {**_body(receiver.url), "enabled": True})
    first = workers.start(threads=2)  # two runs of the organisation at once
    _wait_for(lambda: WorkerProcess.objects.exists(), 60, "the first worker to register", workers)
    contacts = [make_contact(org, first_name=f"Person{i:02d}", last_name="Crash") for i in range(CONTACTS)]

    # Kill it when some runs are done, others still to do, and an HTTP request is in flight (the
    # receiver has it, the worker has not recorded the answer): the hardest moment for that step.
    # The receiver then holds the requests it has, so they are still in flight when the kill lands.
    def mid_run() -> bool:
        if not CONTACTS // 4 <= _succeeded(workflow) <= CONTACTS // 2:
            return False
        with receiver.lock:
            if receiver.in_flight:
                receiver.answering.clear()
                return True
        return False

    _wait_for(mid_run, 60, "some runs done and an HTTP request in flight", workers)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    with receiver.lock:
        interrupted = set(receiver.in_flight)
        receiver.answering.set()
    done_before = _succeeded(workflow)
    assert interrupted and done_before < CONTACTS
    assert Run.objects.filter(workflow=workflow, status=RunStatus.RUNNING).exists()

    workers.start(threads=2)
    _wait_for(
        lambda: (
            Run.objects.filter(workflow=workflow).exclude(status__in=(RunStatus.QUEUED, RunStatus.RUNNING)).count()
            == CONTACTS
        ),
        90,
        "every run to finish",
        workers,
    )

    runs = list(Run.objects.filter(workflow=workflow))
    assert sorted(r.record_id for r in runs) == sorted(str(c.pk) for c in contacts)
    assert {r.status for r in runs} == {RunStatus.SUCCEEDED}, [(r.status, r.error) for r in runs]
    assert any(r.claims >= 1 for r in runs)  # some run really was taken over from the killed worker
    for run in runs:
        steps = list(StepRun.objects.filter(run=run).order_by("position"))
        assert [(s.step_id, s.status) for s in steps] == [
            ("task", StepStatus.SUCCEEDED),
            ("notify", StepStatus.SUCCEEDED),
            ("tag", StepStatus.SUCCEEDED),
        ]

    # Local effects: exactly one task and one tag change per contact, each audited with the workflow as actor.
    tasks = Counter(
        Task.objects.filter(tenant=org, title__startswith="Call Person").values_list("contact_id", flat=True)
    )
    assert tasks == Counter({c.pk: 1 for c in contacts})
    for contact in Contact.objects.filter(pk__in=[c.pk for c in contacts]).prefetch_related("tags"):
        assert [t.name for t in contact.tags.all()] == ["welcomed"]
    tag_changes = Counter(
        AuditEntry.objects.filter(tenant=org, action="contact.updated", actor_ref=f"w:{workflow.pk}").values_list(
            "object_id", flat=True
        )
    )
    assert tag_changes == Counter({str(c.pk): 1 for c in contacts})

    # Remote effect: one webhook-id per (run, step), the same on a re-send; every delivery signed.
    received = Counter(receiver.ids())
    assert set(received) == {f"{r.pk}:notify" for r in runs}
    resent = {key for key, count in received.items() if count > 1}
    assert interrupted <= resent, (interrupted, received)
    attempts = {
        f"{s.run_id}:notify": s.attempts for s in StepRun.objects.filter(run__workflow=workflow, step_id="notify")
    }
    assert all(count <= attempts[key] for key, count in received.items()), (received, attempts)
    verifier = Webhook(secret)
    with receiver.lock:
        deliveries = list(receiver.deliveries)
    for delivery in deliveries:
        verifier.verify(delivery["body"], {k: v for k, v in delivery.items() if k != "body"})
    by_id = {}
    for delivery in deliveries:  # a re-send carries the same body as the first send
        assert by_id.setdefault(delivery["webhook-id"], delivery["body"]) == delivery["body"]

    verify = subprocess.run(
        [*_command(), "audit", "verify"], env=workers.env, cwd=workers.log_dir, capture_output=True, text=True
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "BROKEN" not in verify.stdout


def _command() -> list[str]:
    script = Path(sys.executable).with_name("octopushx")
    return [str(script)] if script.exists() else [sys.executable, "-m", "octopushx.cli"]
