"""The web server of ``octopushx serve`` (waitress), held to the same rules as the application.

Waitress reads a whole request body (spooling it to a temporary file) before the application
sees it, up to 1 GiB by default, and waits two minutes for a body that never comes. Here it
refuses a body over the application's limit from the ``Content-Length`` header alone, before
reading it (and stops reading a chunked body at the limit), with the application's own 413
message; a connection that stays silent ``REQUEST_READ_TIMEOUT`` seconds is closed.

Behind a TLS proxy (``TRUST_PROXY``) it takes the scheme and the client address from the
proxy's ``X-Forwarded-Proto`` and ``X-Forwarded-For``; otherwise it drops those headers.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from waitress import create_server
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import BaseWSGIServer
from waitress.utilities import RequestEntityTooLarge

from octopushx.core.middleware import body_limit, too_large_message


class ProductionWithoutProxy(Exception):
    """Production mode redirects to https, which waitress cannot serve without a TLS proxy."""


def check_production(*, production: bool, ssl_redirect: bool, trust_proxy: bool) -> None:
    if production and ssl_redirect and not trust_proxy:
        raise ProductionWithoutProxy(
            "OCTOPUSHX_ENV=production redirects every request to https, and `octopushx serve` speaks "
            "plain HTTP. Put it behind your TLS proxy and set OCTOPUSHX_TRUST_PROXY=1 (the proxy must send "
            "X-Forwarded-Proto), or run the production server (gunicorn, see the README's Production section)."
        )


def options(*, host: str, port: int, threads: int) -> dict[str, Any]:
    """Waitress settings derived from the application's settings."""
    timeout = max(1, int(settings.REQUEST_READ_TIMEOUT))
    result: dict[str, Any] = {
        "host": host,
        "port": port,
        "threads": threads,
        "ident": "OctopushX",
        # The largest body any request may have; each request gets its own, lower limit below.
        "max_request_body_size": max(settings.MAX_UPLOAD_BYTES, settings.DATA_UPLOAD_MAX_MEMORY_SIZE) + 1,
        "channel_timeout": timeout,
        "cleanup_interval": max(1, min(30, timeout // 2)),
    }
    if settings.TRUST_PROXY:
        result.update(
            trusted_proxy="*",
            trusted_proxy_count=1,
            trusted_proxy_headers={"x-forwarded-proto", "x-forwarded-for"},
        )
    return result


class _TooLarge(RequestEntityTooLarge):
    """The application's 413: JSON in the API's error shape under /api/, plain text elsewhere."""

    def __init__(self, path: str, limit: int):
        super().__init__(too_large_message(limit))
        self.path = path

    def to_response(self, ident=None):
        status = f"{self.code} {self.reason}"
        if self.path.startswith("/api/"):
            body = json.dumps({"detail": self.body, "errors": {}}).encode()
            return status, [("Content-Type", "application/json")], body
        return status, [("Content-Type", "text/plain; charset=utf-8")], self.body.encode()


class _Adjustments:
    """The server's adjustments with this request's own body limit."""

    def __init__(self, adj, max_request_body_size: int):
        self._adj = adj
        self.max_request_body_size = max_request_body_size

    def __getattr__(self, name: str):
        return getattr(self._adj, name)


class LimitedRequestParser(HTTPRequestParser):
    """Applies ``body_limit`` for the request's content type as soon as its headers are read."""

    limit: int | None = None

    def parse_header(self, header_plus: bytes) -> None:
        super().parse_header(header_plus)
        self.limit = body_limit(self.headers.get("CONTENT_TYPE", ""))
        # Waitress refuses a body of max_request_body_size bytes or more; the application, one over its limit.
        self.adj = _Adjustments(self.adj, self.limit + 1)

    def received(self, data: bytes) -> int:
        consumed = super().received(data)
        if type(self.error) is RequestEntityTooLarge and self.limit is not None:
            self.error = _TooLarge(self.path or "", self.limit)
        return consumed


class LimitedChannel(HTTPChannel):
    parser_class = LimitedRequestParser


def create(application, **kwargs):
    """A waitress server (``run()`` it) whose connections use the limited parser."""
    listeners: dict = {}
    server = create_server(application, map=listeners, **kwargs)
    for listener in list(listeners.values()):
        if isinstance(listener, BaseWSGIServer):
            listener.channel_class = LimitedChannel
    return server
