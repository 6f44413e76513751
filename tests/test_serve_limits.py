"""``octopushx serve`` applies the request limits itself and understands the TLS proxy in front of it.

Each test starts the real command on a free port with its own data folder.
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import time

import pytest

from tests.test_cli import _script
from tests.test_serve_signals import _free_port, _wait_until_up

pytestmark = pytest.mark.slow


def _serve(tmp_path, **variables) -> tuple[subprocess.Popen, int]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(OCTOPUSHX_DATA_DIR=str(tmp_path), OCTOPUSHX_TESTING="0", **variables)
    port = _free_port()
    process = subprocess.Popen(
        [*_script(), "serve", "--port", str(port), "--no-worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return process, port


@pytest.fixture
def server(tmp_path):
    started = []

    def start(**variables) -> int:
        process, port = _serve(tmp_path, **variables)
        started.append(process)
        _wait_until_up(f"http://127.0.0.1:{port}/healthz", process)
        return port

    yield start
    for process in started:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def _exchange(port: int, head: str, *, body: bytes = b"", timeout: float = 10) -> bytes:
    """Send ``head`` (and ``body``), return everything the server answers until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
            if b"\r\n\r\n" in answer and b"Connection: close" not in answer and b"413" not in answer[:20]:
                break  # a keep-alive answer: enough to read its head
        return answer


def _upload_head(port: int, path: str, length: int, content_type: str) -> str:
    return (
        f"POST {path} HTTP/1.1\nHost: 127.0.0.1:{port}\nContent-Type: {content_type}\n"
        f"Content-Length: {length}\nConnection: close\n"
    )


def test_upload_over_the_limit_is_refused_from_its_header_before_any_body(server):
    port = server(OCTOPUSHX_MAX_UPLOAD_MB="1")
    started = time.monotonic()
    answer = _exchange(port, _upload_head(port, "/api/v1/calls", 2 * 1024 * 1024, "multipart/form-data; boundary=x"))
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert answer.endswith(b'{"detail": "The request body is too large (the limit is 1 MB).", "errors": {}}')
    assert time.monotonic() - started < 5  # no body was sent, and none was waited for


def test_other_bodies_have_the_smaller_limit_at_the_server_too(server):
    port = server()
    answer = _exchange(
        port, _upload_head(port, "/accounts/login/", 6 * 1024 * 1024, "application/x-www-form-urlencoded")
    )
    assert answer.startswith(b"HTTP/1.1 413")
    assert answer.endswith(b"The request body is too large (the limit is 5 MB).")


def test_a_body_that_never_comes_is_given_up_after_the_read_timeout(server):
    port = server(OCTOPUSHX_REQUEST_READ_TIMEOUT="2")
    started = time.monotonic()
    answer = _exchange(port, _upload_head(port, "/api/v1/tokens", 100, "application/json"), timeout=30)
    assert answer == b""  # closed without a request reaching the application
    assert time.monotonic() - started < 10


_PRODUCTION = {
    "OCTOPUSHX_ENV": "production",
    "OCTOPUSHX_SECRET_KEY": "x" * 60,
    "OCTOPUSHX_MASTER_KEY": base64.b64encode(b"k" * 32).decode(),
    "OCTOPUSHX_ALLOWED_HOSTS": "127.0.0.1",
}


def test_production_behind_a_trusted_proxy_honours_x_forwarded_proto(server):
    port = server(**_PRODUCTION, OCTOPUSHX_TRUST_PROXY="1")
    head = "GET /accounts/login/ HTTP/1.1\nHost: 127.0.0.1\nConnection: close\n"
    assert _exchange(port, head + "X-Forwarded-Proto: https\n").startswith(b"HTTP/1.1 200")
    plain = _exchange(port, head)
    assert plain.startswith(b"HTTP/1.1 301") and b"Location: https://127.0.0.1/accounts/login/" in plain


def test_production_without_a_trusted_proxy_refuses_to_serve_and_says_why(tmp_path):
    process, _port = _serve(tmp_path, **_PRODUCTION)
    try:
        _out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 1
    assert "OCTOPUSHX_TRUST_PROXY=1" in err and "gunicorn" in err and "Traceback" not in err
