"""The load mix of a 40-agent team on the demo organisation (run by bench/load/run.py).

Agents sign in through the form and work in the browser: home page, CRM list and search, open a
contact, transcript search, and the writes the pages make through the API with their session
(create and update contacts and tasks, upload a short call recording). A few integrations use API
tokens (``octopushx token create``): list, search, create and update contacts, upload calls, search
transcripts. Bounded: locust's ``--run-time`` and ``LOAD_MAX_REQUESTS`` requests; loopback only.

Environment: ``LOAD_AGENTS`` (file of agent emails), ``LOAD_TOKENS`` (file of tokens),
``LOAD_PASSWORD``, ``LOAD_THINK`` (mean seconds between an agent's clicks, default 2),
``LOAD_MAX_REQUESTS`` (default 20000).
"""

from __future__ import annotations

import io
import itertools
import os
import random
import re
import struct
import uuid
import wave
from pathlib import Path
from urllib.parse import urlparse

from locust import HttpUser, between, events, task

THINK = float(os.environ.get("LOAD_THINK", "2"))
MAX_REQUESTS = int(os.environ.get("LOAD_MAX_REQUESTS", "20000"))
PASSWORD = os.environ.get("LOAD_PASSWORD", "demo-pass-2026")
AGENTS = itertools.cycle(Path(os.environ["LOAD_AGENTS"]).read_text().split()) if os.environ.get("LOAD_AGENTS") else None
TOKENS = itertools.cycle(Path(os.environ["LOAD_TOKENS"]).read_text().split()) if os.environ.get("LOAD_TOKENS") else None
SEARCH_WORDS = ["smith", "jones", "amelia", "york", "london", "operations", "manager", "tech", "ltd", "sales"]
TRANSCRIPT_WORDS = ["refund", "invoice", "delivery", "order", "thank", "account", "price", "call back"]
_requests = itertools.count(1)


@events.test_start.add_listener
def _loopback_only(environment, **_kwargs):
    host = urlparse(environment.host or "").hostname
    if host not in {"127.0.0.1", "localhost", "::1"}:
        raise SystemExit(f"bench/load: refusing to load {host!r}; loopback addresses only")


_environment: list = []


@events.init.add_listener
def _remember(environment, **_kwargs):
    _environment.append(environment)


@events.request.add_listener
def _bounded(**_kwargs):
    """Stop the run after LOAD_MAX_REQUESTS requests, whatever --run-time says."""
    if next(_requests) == MAX_REQUESTS and _environment and _environment[0].runner:
        _environment[0].runner.quit()


def recording(seconds: float = 2.0, rate: int = 8000) -> bytes:
    """A short stereo WAV (a quiet tone plus a random tail, so no two uploads are duplicates)."""
    buffer = io.BytesIO()
    frames = bytearray()
    step = 440 / rate
    for index in range(int(seconds * rate)):
        value = int(6000 * (1 if (index * step) % 1 < 0.5 else -1))
        frames += struct.pack("<hh", value, value)
    frames += os.urandom(64)
    with wave.open(buffer, "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(frames))
    return buffer.getvalue()


def new_contact() -> dict:
    tag = uuid.uuid4().hex[:10]
    return {"first_name": "Load", "last_name": f"Test {tag}", "email": f"load-{tag}@example.com"}


class Agent(HttpUser):
    """One agent in the browser: a session cookie, CSRF on the API writes the pages make."""

    wait_time = between(THINK * 0.5, THINK * 1.5)
    weight = 10

    def on_start(self):
        self.email = next(AGENTS)
        self.contacts: list[str] = []
        self.mine: list[str] = []
        self.my_tasks: list[str] = []  # not `tasks`: that is locust's own attribute
        self.sign_in()
        with self.client.get("/api/v1/contacts?limit=50", name="api: contact list", catch_response=True) as answer:
            if answer.status_code == 200:
                self.contacts = [item["id"] for item in answer.json()["items"]]

    def sign_in(self):
        self.client.cookies.clear()
        page = self.client.get("/accounts/login/", name="page: sign-in form")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        with self.client.post(
            "/accounts/login/",
            data={"email": self.email, "password": PASSWORD, "csrfmiddlewaretoken": token.group(1) if token else ""},
            headers={"Referer": self.host + "/accounts/login/"},
            name="sign-in",
            catch_response=True,
        ) as answer:
            if "sessionid" not in self.client.cookies:
                answer.failure(f"not signed in (status {answer.status_code})")

    def api(self, method: str, path: str, name: str, **kwargs):
        headers = {"X-CSRFToken": self.client.cookies.get("csrftoken", ""), "Referer": self.host + "/"}
        return self.client.request(method, path, name=name, headers=headers, **kwargs)

    @task(1)
    def sign_in_again(self):
        csrf = self.client.cookies.get("csrftoken", "")
        self.client.post(
            "/accounts/logout/",
            data={"csrfmiddlewaretoken": csrf},
            headers={"Referer": self.host + "/"},
            name="sign out",
        )
        self.sign_in()

    @task(6)
    def home(self):
        self.client.get("/", name="page: home")

    @task(6)
    def crm_list(self):
        self.client.get("/crm/", name="page: crm list")

    @task(5)
    def crm_search(self):
        self.client.get(f"/crm/?q={random.choice(SEARCH_WORDS)}", name="page: crm search")  # noqa: S311

    @task(6)
    def open_contact(self):
        if self.contacts:
            self.client.get(f"/crm/contacts/{random.choice(self.contacts)}/", name="page: contact")  # noqa: S311

    @task(2)
    def transcript_search(self):
        self.client.get(f"/calls/search/?q={random.choice(TRANSCRIPT_WORDS)}", name="page: transcript search")  # noqa: S311

    @task(2)
    def create_contact(self):
        answer = self.api("POST", "/api/v1/contacts", "api: create contact", json=new_contact())
        if answer.status_code == 201:
            self.mine.append(answer.json()["id"])

    @task(2)
    def update_contact(self):
        if self.mine:
            contact = random.choice(self.mine)  # noqa: S311
            self.api("PATCH", f"/api/v1/contacts/{contact}", "api: update contact", json={"job_title": "Buyer"})

    @task(2)
    def create_task(self):
        data = {"title": f"Call back {uuid.uuid4().hex[:6]}", "due_at": "2027-01-15T10:00:00Z"}
        if self.mine:
            data["contact_id"] = random.choice(self.mine)  # noqa: S311
        answer = self.api("POST", "/api/v1/tasks", "api: create task", json=data)
        if answer.status_code == 201:
            self.my_tasks.append(answer.json()["id"])

    @task(1)
    def update_task(self):
        if self.my_tasks:
            task_id = random.choice(self.my_tasks)  # noqa: S311
            self.api("PATCH", f"/api/v1/tasks/{task_id}", "api: update task", json={"description": "Left a message"})

    @task(1)
    def upload_call(self):
        files = {"file": ("call.wav", recording(), "audio/wav")}
        self.api("POST", "/api/v1/calls", "api: upload call", files=files, data={"direction": "inbound"})


class Integration(HttpUser):
    """A system on an API token (a telephony bridge, a website form, a reporting job)."""

    wait_time = between(THINK * 0.5, THINK * 1.5)
    fixed_count = int(os.environ.get("LOAD_INTEGRATIONS", "4"))

    def on_start(self):
        self.client.headers["Authorization"] = f"Bearer {next(TOKENS)}"
        self.created: list[str] = []

    @task(4)
    def list_contacts(self):
        self.client.get("/api/v1/contacts?limit=50", name="token: list contacts")

    @task(3)
    def search(self):
        self.client.get(f"/api/v1/search?q={random.choice(SEARCH_WORDS)}", name="token: search")  # noqa: S311

    @task(2)
    def create_contact(self):
        answer = self.client.post("/api/v1/contacts", json=new_contact(), name="token: create contact")
        if answer.status_code == 201:
            self.created.append(answer.json()["id"])

    @task(2)
    def update_contact(self):
        if self.created:
            contact = random.choice(self.created)  # noqa: S311
            self.client.patch(f"/api/v1/contacts/{contact}", json={"city": "Leeds"}, name="token: update contact")

    @task(2)
    def transcript_search(self):
        word = random.choice(TRANSCRIPT_WORDS)  # noqa: S311
        self.client.get(f"/api/v1/calls/search?q={word}&limit=20", name="token: transcript search")

    @task(1)
    def upload_call(self):
        files = {"file": ("bridge.wav", recording(), "audio/wav")}
        self.client.post("/api/v1/calls", files=files, data={"direction": "outbound"}, name="token: upload call")
