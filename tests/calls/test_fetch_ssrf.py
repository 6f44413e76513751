"""Recording fetches cannot be steered inside the network: not by a redirect, not by a second DNS answer.

Private addresses are refused by default; each test allows exactly one local server
(``OUTBOUND_ALLOW``, by address and port) and checks the fetch never reaches the other.
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from octopushx.calls import fetch as fetching

GOOD, SECRET = b"the provider's recording", b"the metadata service's secret"


class _Server:
    """A local HTTP server that answers ``body``, or redirects ``/redirect?to=URL``."""

    def __init__(self, body: bytes, host: str = "127.0.0.1", port: int = 0):
        self.seen: list[str] = []
        seen, answer = self.seen, body

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                seen.append(self.path)
                if self.path.startswith("/redirect?to="):
                    self.send_response(302)
                    self.send_header("Location", self.path.split("=", 1)[1])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.host, self.port = self.server.server_address[:2]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str = "/recording.wav") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def servers():
    started: list[_Server] = []

    def start(body: bytes, host: str = "127.0.0.1", port: int = 0) -> _Server:
        server = _Server(body, host, port)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


@pytest.fixture(autouse=True)
def _fast_fetches(settings):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    settings.OUTBOUND_ALLOW = []
    settings.CALLS_FETCH_TIMEOUT = 2
    settings.CALLS_FETCH_ATTEMPTS = 1
    settings.CALLS_FETCH_BACKOFF = 0


def test_allowed_host_is_fetched(servers, settings, tmp_path):
    provider = servers(GOOD)
    settings.OUTBOUND_ALLOW = [f"127.0.0.1:{provider.port}"]
    fetched = fetching.fetch(provider.url(), str(tmp_path / "out"), max_bytes=1024)
    assert (tmp_path / "out").read_bytes() == GOOD and fetched.size == len(GOOD)


def test_redirect_to_a_forbidden_address_is_refused_at_that_hop(servers, settings, tmp_path):
    provider, internal = servers(GOOD), servers(SECRET)
    settings.OUTBOUND_ALLOW = [f"127.0.0.1:{provider.port}"]  # the first hop only
    with pytest.raises(fetching.FetchError) as refused:
        fetching.fetch(
            provider.url(f"/redirect?to={internal.url('/latest/meta-data')}"), str(tmp_path / "out"), max_bytes=1024
        )
    assert refused.value.permanent and "private network" in str(refused.value)
    assert provider.seen == [f"/redirect?to={internal.url('/latest/meta-data')}"]  # the first hop was asked ...
    assert internal.seen == []  # ... the forbidden target never was
    assert not (tmp_path / "out").exists() or SECRET not in (tmp_path / "out").read_bytes()


def test_redirect_within_allowed_hosts_is_followed(servers, settings, tmp_path):
    provider = servers(GOOD)
    settings.OUTBOUND_ALLOW = [f"127.0.0.1:{provider.port}"]
    fetching.fetch(provider.url(f"/redirect?to={provider.url('/moved.wav')}"), str(tmp_path / "out"), max_bytes=1024)
    assert (tmp_path / "out").read_bytes() == GOOD
    assert provider.seen[-1] == "/moved.wav"


def test_redirect_loop_stops(servers, settings, tmp_path):
    provider = servers(GOOD)
    settings.OUTBOUND_ALLOW = [f"127.0.0.1:{provider.port}"]
    loop = provider.url("/redirect?to=/redirect?to=/redirect?to=/redirect?to=/redirect?to=/redirect?to=/x")
    with pytest.raises(fetching.FetchError, match="redirects too many times"):
        fetching.fetch(loop, str(tmp_path / "out"), max_bytes=1024)


def test_redirect_to_another_scheme_is_refused(servers, settings, tmp_path):
    provider = servers(GOOD)
    settings.OUTBOUND_ALLOW = [f"127.0.0.1:{provider.port}"]
    with pytest.raises(fetching.FetchError, match="other than http"):
        fetching.fetch(provider.url("/redirect?to=file:///etc/passwd"), str(tmp_path / "out"), max_bytes=1024)


def _rebinding_resolver(monkeypatch, name: str, answers: list[str]) -> list[str]:
    """``name`` resolves to each of ``answers`` in turn (a DNS-rebinding attacker's server)."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host != name:
            return real(host, port, *args, **kwargs)
        address = answers[min(len(asked), len(answers) - 1)]
        asked.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port)))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def test_dns_rebinding_cannot_swap_the_checked_address(servers, settings, tmp_path, monkeypatch):
    # The checked answer (127.0.0.1, allowed) and the rebound one (127.0.0.2, forbidden) on the same port.
    internal = servers(SECRET, host="127.0.0.2")
    provider = servers(GOOD, port=internal.port)
    settings.OUTBOUND_ALLOW = [f"127.0.0.1:{provider.port}"]
    asked = _rebinding_resolver(monkeypatch, "recordings.provider.test", ["127.0.0.1", "127.0.0.2"])

    fetching.fetch(f"http://recordings.provider.test:{provider.port}/r.wav", str(tmp_path / "out"), max_bytes=1024)

    assert (tmp_path / "out").read_bytes() == GOOD  # the connection went to the address that was checked
    assert internal.seen == [] and provider.seen == ["/r.wav"]
    assert asked == ["127.0.0.1"]  # resolved once: there was no second answer to swap in


def test_a_name_with_any_forbidden_answer_is_refused(servers, settings, tmp_path, monkeypatch):
    provider = servers(GOOD)
    settings.OUTBOUND_ALLOW = [f"127.0.0.1:{provider.port}"]
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host != "mixed.provider.test":
            return real(host, port, *args, **kwargs)
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", int(port))),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", int(port))),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    with pytest.raises(fetching.FetchError, match="private network"):
        fetching.fetch(f"http://mixed.provider.test:{provider.port}/r.wav", str(tmp_path / "out"), max_bytes=1024)
    assert provider.seen == []
