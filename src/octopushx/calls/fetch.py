"""Download a provider's recording: timeouts, a size limit, a few retries, no private addresses.

The URL comes from a signed webhook, but it is still fetched defensively, through the platform's
one outbound client (``core.outbound``): only http(s), never an address inside the server's own
network on any hop of a redirect nor after a second DNS answer (unless allowed by
``OUTBOUND_ALLOW_PRIVATE`` or ``OUTBOUND_ALLOW``, as in tests against a local server), an overall
deadline as well as per-read timeouts, and a size limit checked while streaming to a temporary file.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx
from django.conf import settings

from octopushx.core import outbound


class FetchError(Exception):
    """The recording could not be fetched; ``permanent`` when retrying cannot help."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


@dataclass
class Fetched:
    path: str
    size: int
    content_type: str


def _check_scheme(url: str) -> None:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise FetchError("The recording URL must be an http(s) URL", permanent=True)


def fetch(url: str, destination: str, *, auth=None, headers: dict | None = None, max_bytes: int) -> Fetched:
    """Stream ``url`` into ``destination``, retrying transient failures; raises FetchError."""
    _check_scheme(url)
    attempts = max(1, settings.CALLS_FETCH_ATTEMPTS)
    last: FetchError | None = None
    for attempt in range(attempts):
        if attempt:
            time.sleep(min(settings.CALLS_FETCH_BACKOFF * 2 ** (attempt - 1), 30))
        try:
            return _fetch_once(url, destination, auth=auth, headers=headers, max_bytes=max_bytes)
        except FetchError as exc:
            if exc.permanent:
                raise
            last = exc
    raise last or FetchError("The recording could not be fetched")


def _fetch_once(url: str, destination: str, *, auth, headers, max_bytes: int) -> Fetched:
    timeout = settings.CALLS_FETCH_TIMEOUT
    deadline = time.monotonic() + settings.CALLS_FETCH_DEADLINE
    try:
        with (
            outbound.client(timeout=timeout) as client,
            client.stream("GET", url, auth=auth, headers=headers or {}) as response,
        ):
            if response.status_code in (401, 403):
                raise FetchError(f"The provider refused the credentials (HTTP {response.status_code})", permanent=True)
            if response.status_code == 404:
                raise FetchError("The recording was not found at the provider (HTTP 404)")
            if response.status_code >= 400:
                raise FetchError(f"The provider answered HTTP {response.status_code}")
            declared = int(response.headers.get("Content-Length") or 0)
            if declared > max_bytes:
                raise FetchError(
                    f"The recording is larger than the limit of {max_bytes // (1024 * 1024)} MB", permanent=True
                )
            size = 0
            with open(destination, "wb") as handle:
                for chunk in response.iter_bytes(chunk_size=256 * 1024):
                    size += len(chunk)
                    if size > max_bytes:
                        raise FetchError(
                            f"The recording is larger than the limit of {max_bytes // (1024 * 1024)} MB", permanent=True
                        )
                    if time.monotonic() > deadline:
                        raise FetchError("The recording download took too long")
                    handle.write(chunk)
            return Fetched(destination, size, response.headers.get("Content-Type", "application/octet-stream"))
    except outbound.Refused:
        raise FetchError("The recording URL points inside a private network", permanent=True)
    except httpx.TooManyRedirects:
        raise FetchError("The recording URL redirects too many times", permanent=True)
    except httpx.UnsupportedProtocol:
        raise FetchError("The recording URL redirects to something other than http(s)", permanent=True)
    except httpx.TimeoutException:
        raise FetchError(f"The provider did not answer within {timeout:g} seconds")
    except httpx.HTTPError as exc:
        raise FetchError(f"The recording could not be fetched ({type(exc).__name__})")
