"""Operations: health and readiness, Prometheus metrics, JSON logs with request ids,
security headers, and ``check --deploy`` with production settings."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from octopushx.core import crypto, jobs, keys
from octopushx.core.models import Job, JobState


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_reports_each_check(db, client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "queue", "storage", "studio"}
    assert body["checks"]["studio"]["failed_runs_24h"] == 0
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["queue"]["failed_jobs"] == 0
    assert body["checks"]["storage"]["backend"] == "FileSystemStorage"


def test_readyz_is_503_with_the_reason_when_the_master_key_is_wrong(db, client, settings):
    keys.check_master_key()
    settings.MASTER_KEY = crypto.generate_key_text()
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert body["checks"]["storage"]["ok"] is False
    assert "MasterKeyError" in body["checks"]["storage"]["error"]
    assert body["checks"]["database"]["ok"] is True


def test_readyz_is_503_when_storage_is_not_writable(db, client, settings, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the storage folder should be")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(blocker)}},
    }
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["storage"]["ok"] is False


@jobs.handler("test.ops_noop")
def noop(job):
    return {}


def test_metrics_expose_request_latency_and_job_gauges(org, client):
    client.get("/healthz")
    job = jobs.submit("test.ops_noop", tenant=org)
    jobs.drain()
    Job.objects.create(kind="test.ops_noop", state=JobState.FAILED)
    response = client.get("/metrics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert 'octopushx_http_request_duration_seconds_bucket{le="0.1",method="GET",route="healthz",status="200"}' in text
    assert 'octopushx_http_request_duration_seconds_count{method="GET",route="healthz",status="200"}' in text
    assert 'octopushx_jobs{kind="test.ops_noop",state="done"} 1.0' in text
    assert 'octopushx_jobs{kind="test.ops_noop",state="failed"} 1.0' in text
    assert 'octopushx_jobs_completed_total{kind="test.ops_noop"}' in text
    assert Job.objects.get(pk=job.pk).state == JobState.DONE


def test_metrics_label_routes_not_raw_paths(db, client):
    client.get("/api/v1/jobs/123e4567-e89b-12d3-a456-426614174000/retry")
    text = client.get("/metrics").content.decode()
    assert "123e4567" not in text


@pytest.fixture
def log_lines():
    """What the console handler writes in production's JSON format, one parsed object per line."""
    from octopushx.core.logging import JsonFormatter

    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    stream = io.StringIO()
    # Swapped by hand: setStream() flushes the old stream, which pytest may have closed.
    previous, handler.stream = handler.stream, stream
    previous_format, handler.formatter = handler.formatter, JsonFormatter()
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    handler.stream, handler.formatter = previous, previous_format


def test_log_lines_are_json_with_the_request_id(db, client, log_lines):
    response = client.get("/no-such-page", HTTP_X_REQUEST_ID="trace-42")
    assert response.status_code in (302, 404)
    logging.getLogger("octopushx.test").warning("after the request")
    lines = log_lines()
    assert len(lines) == 2 and all({"time", "level", "logger", "message", "request_id"} <= set(line) for line in lines)
    assert lines[0]["logger"] == "django.request" and lines[0]["request_id"] == "trace-42"
    assert lines[1] == {**lines[1], "message": "after the request", "request_id": "-"}


def test_log_line_of_a_404_carries_its_request_id(org, web_as, log_lines):
    client = web_as("admin")
    client.get("/settings/jobs/00000000-0000-0000-0000-000000000000/retry/", HTTP_X_REQUEST_ID="req-404")
    client.post("/settings/jobs/00000000-0000-0000-0000-000000000000/retry/", HTTP_X_REQUEST_ID="req-404b")
    not_found = [line for line in log_lines() if line["logger"] == "django.request"]
    assert not_found and all(line["request_id"].startswith("req-404") for line in not_found)


def test_request_id_header_is_echoed_or_generated(client):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")["X-Request-ID"] == "abc-123"
    generated = client.get("/healthz", HTTP_X_REQUEST_ID="bad id with spaces; <script>")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert re.fullmatch(r"[0-9a-f]{32}", client.get("/healthz")["X-Request-ID"])


@pytest.mark.parametrize("path", ["/accounts/login/", "/healthz", "/api/v1/me"])
def test_content_security_policy_has_no_inline_scripts_or_styles(db, client, path):
    csp = client.get(path)["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"


def test_security_headers_on_pages(db, client):
    response = client.get("/accounts/login/")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.slow
def test_check_deploy_is_clean_with_production_settings(tmp_path):
    script = Path(sys.executable).with_name("octopushx")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "octopushx.cli"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCTOPUSHX_") and k != "DATABASE_URL"}
    env.update(
        OCTOPUSHX_ENV="production",
        OCTOPUSHX_SECRET_KEY=secrets.token_urlsafe(64),
        OCTOPUSHX_MASTER_KEY=crypto.generate_key_text(),
        OCTOPUSHX_ALLOWED_HOSTS="example.com",
        OCTOPUSHX_DATA_DIR=str(tmp_path),
    )
    result = subprocess.run(
        [*command, "manage", "check", "--deploy", "--fail-level", "WARNING"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
