"""Standard Webhooks both ways: signed HTTP steps with a stable webhook-id, and the inbound trigger."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client
from standardwebhooks import Webhook

from octopushx.core.context import Actor
from octopushx.crm.models import Contact
from octopushx.studio import services
from octopushx.studio.models import Run, StepRun
from tests.crm.conftest import make_contact
from tests.studio.conftest import make_workflow, run_all

pytestmark = pytest.mark.django_db


class Receiver:
    """A local HTTP server that records each request and answers what the test says."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list[tuple[int, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                status, payload = receiver.answers.pop(0) if receiver.answers else (200, b'{"ticket": 42}')
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def receiver():
    found = Receiver()
    yield found
    found.close()


def http_workflow(org, url, **step):
    body = {
        "name": "Ticket",
        "trigger": {"type": "event", "event": "contact.created"},
        "steps": [
            {"id": "post", "type": "http_request", "method": "POST", "url": url,
             "headers": {"Authorization": "Bearer abc"}, "body": {"name": "{{ contact.full_name }}"}, **step},
            {"id": "note", "type": "create_note", "body": "Ticket {{ steps.post.body.ticket }}"},
        ],
    }  # fmt: skip
    workflow, secret = services.create_workflow(org, Actor.system("test"), {**body, "enabled": True})
    return workflow, secret


def test_http_step_is_signed_and_its_answer_feeds_the_next_step(org, studio_settings, receiver):
    workflow, secret = http_workflow(org, receiver.url)
    make_contact(org, first_name="Ada", last_name="Byron")
    run_all()
    run = Run.objects.get()
    assert run.status == "succeeded", run.error
    sent = receiver.requests[0]
    headers = {k.lower(): v for k, v in sent["headers"].items()}
    assert json.loads(sent["body"]) == {"name": "Ada Byron"}
    assert headers["webhook-id"] == f"{run.pk}:post" == headers["idempotency-key"]
    Webhook(secret).verify(sent["body"], headers)  # raises if the signature is wrong
    step = run.steps.get(step_id="post")
    assert step.output["status"] == 200 and step.output["body"] == {"ticket": 42}
    assert step.input["headers"]["Authorization"] == "•••"  # credentials never stored in the history
    from octopushx.crm.models import Note

    assert "Ticket 42" in Note.objects.get(pk=run.steps.get(step_id="note").output["note_id"]).body


def test_a_retried_http_step_sends_the_same_webhook_id(org, studio_settings, receiver):
    http_workflow(org, receiver.url)
    receiver.answers = [(503, b"busy"), (200, b'{"ticket": 7}')]
    make_contact(org)
    run_all()
    run = Run.objects.get()
    assert run.status == "succeeded"
    ids = [{k.lower(): v for k, v in r["headers"].items()}["webhook-id"] for r in receiver.requests]
    assert ids == [f"{run.pk}:post"] * 2
    assert run.steps.get(step_id="post").attempts == 2


def test_a_4xx_fails_at_once_and_5xx_after_the_attempts(org, studio_settings, receiver):
    http_workflow(org, receiver.url)
    receiver.answers = [(400, b'{"error": "bad"}')]
    make_contact(org)
    run_all()
    run = Run.objects.get()
    assert run.status == "failed" and "HTTP 400" in run.error
    assert len(receiver.requests) == 1
    Run.objects.all().delete()
    receiver.requests.clear()
    receiver.answers = [(500, b"x")] * 3
    make_contact(org, email="two@example.com")
    run_all()
    run = Run.objects.get()
    assert run.status == "failed" and "after 3 attempts" in run.error
    assert len(receiver.requests) == 3


def test_private_targets_are_refused_unless_allowed(org, studio_settings, receiver):
    studio_settings.STUDIO_ALLOW_PRIVATE_URLS = False
    studio_settings.OUTBOUND_ALLOW_PRIVATE = False
    # The URL's host is a variable, so it is checked when the step runs, not when it is saved.
    body = {"name": "SSRF", "trigger": {"type": "event", "event": "contact.created"},
            "steps": [{"id": "p", "type": "http_request", "url": "http://{{ contact.job_title }}/hook"}]}  # fmt: skip
    make_workflow(org, body)
    make_contact(org, job_title=receiver.url.split("/")[2])
    run_all()
    run = Run.objects.get()
    assert run.status == "failed" and "Refused" in run.error
    assert receiver.requests == []


def test_a_response_over_one_megabyte_is_refused(org, studio_settings, receiver):
    http_workflow(org, receiver.url)
    receiver.answers = [(200, b"x" * 1_100_000)]
    make_contact(org)
    run_all()
    run = Run.objects.get()
    assert run.status == "failed" and "larger than 1 MB" in run.error


def _signed(secret: str, body: dict, msg_id: str = "msg_1") -> tuple[bytes, dict]:
    raw = json.dumps(body).encode()
    now = datetime.now(UTC)
    headers = {
        "HTTP_WEBHOOK_ID": msg_id,
        "HTTP_WEBHOOK_TIMESTAMP": str(int(now.timestamp())),
        "HTTP_WEBHOOK_SIGNATURE": Webhook(secret).sign(msg_id, now, raw),
    }
    return raw, headers


def test_inbound_webhook_starts_one_run_per_message_id(org, studio_settings):
    body = {"name": "Form", "trigger": {"type": "webhook"},
            "steps": [{"type": "upsert_contact", "email": "{{ trigger.body.email }}",
                       "first_name": "{{ trigger.body.first_name }}", "tags": "web form"}]}  # fmt: skip
    workflow, secret = services.create_workflow(org, Actor.system("test"), {**body, "enabled": True})
    raw, headers = _signed(secret, {"email": "new@example.com", "first_name": "Nia"})
    client = Client()
    first = client.post(f"/hooks/studio/{workflow.key}", raw, content_type="application/json", **headers)
    again = client.post(f"/hooks/studio/{workflow.key}", raw, content_type="application/json", **headers)
    assert first.status_code == again.status_code == 202
    assert first.json()["run_id"] == again.json()["run_id"]
    run_all()
    contact = Contact.objects.get(email="new@example.com")
    assert contact.first_name == "Nia" and [t.name for t in contact.tags.all()] == ["web form"]
    raw2, headers2 = _signed(secret, {"email": "new@example.com", "first_name": "Nina"}, "msg_2")
    client.post(f"/hooks/studio/{workflow.key}", raw2, content_type="application/json", **headers2)
    run_all()
    assert Contact.objects.filter(email="new@example.com").count() == 1
    assert Contact.objects.get(email="new@example.com").first_name == "Nina"


def test_inbound_webhook_with_a_bad_signature_is_401_and_creates_nothing(org, studio_settings):
    body = {"name": "Form", "trigger": {"type": "webhook"},
            "steps": [{"type": "upsert_contact", "email": "{{ trigger.body.email }}"}]}  # fmt: skip
    workflow, secret = services.create_workflow(org, Actor.system("test"), {**body, "enabled": True})
    raw, headers = _signed("whsec_" + "A" * 44, {"email": "x@example.com"})
    response = Client().post(f"/hooks/studio/{workflow.key}", raw, content_type="application/json", **headers)
    assert response.status_code == 401
    assert Client().post("/hooks/studio/nope", raw, content_type="application/json", **headers).status_code == 404
    raw, headers = _signed(secret, {"email": "x@example.com"})
    tampered = raw.replace(b"x@", b"y@")
    assert Client().post(f"/hooks/studio/{workflow.key}", tampered, content_type="application/json",
                         **headers).status_code == 401  # fmt: skip
    assert not Run.objects.exists()
    services.rotate_secret(org, Actor.system("test"), workflow)
    old = Client().post(f"/hooks/studio/{workflow.key}", raw, content_type="application/json", **headers)
    assert old.status_code == 401


def test_ai_output_is_labelled_unreviewed_where_it_lands(org, studio_settings, receiver):
    body = {"name": "AI", "trigger": {"type": "event", "event": "contact.created"},
            "steps": [{"id": "ai", "type": "ai", "task": "classify", "text": "I am furious, this is a complaint",
                       "labels": ["complaint", "praise"]},
                      {"id": "n", "type": "create_note", "body": "Class: {{ steps.ai.label }}"},
                      {"id": "h", "type": "http_request", "url": receiver.url, "body": {"class": "{{ steps.ai.label }}"}}]}  # fmt: skip
    make_workflow(org, body)
    make_contact(org)
    run_all()
    run = Run.objects.get()
    assert run.status == "succeeded", run.error
    ai = run.steps.get(step_id="ai").output
    assert ai["label"] == "complaint" and ai["review_state"] == "unreviewed" and ai["model"].startswith("offline")
    from octopushx.crm.models import Note

    assert "Unreviewed AI output" in Note.objects.get().body
    sent = receiver.requests[0]
    assert {k.lower(): v for k, v in sent["headers"].items()}["x-ai-review"] == "unreviewed"
    assert json.loads(sent["body"])["ai_output_review"] == "unreviewed"
    assert StepRun.objects.filter(run=run, status="succeeded").count() == 3
