"""Fixed-window rate limits, counted where every process of the installation sees them.

With ``REDIS_URL`` a counter per (limit, client key, window) lives in Django's cache on
Redis: created with ``cache.add`` and increased with ``cache.incr``, both atomic, expiring
with its window. Without Redis the counters live in a small SQLite file in the data folder
(``ratelimit.sqlite3``, WAL), increased by one atomic upsert, so ``octopushx serve``,
``octopushx worker`` and any further serve processes on the machine share them; it is a file
of its own so these writes never wait on the application database's lock. Keys are hashed so
tokens, emails and addresses are never stored in clear.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from functools import wraps
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from redis.exceptions import RedisError

from octopushx.core.context import client_ip

log = logging.getLogger(__name__)
CLEAN_EVERY = 60.0  # seconds between each process's sweeps of expired counters


@dataclass(frozen=True)
class Limit:
    name: str
    count: int  # requests allowed per window; 0 turns the limit off
    window: int  # seconds


def limits() -> dict[str, Limit]:
    """The configured limits (read from settings on each call so tests can override them)."""
    window = settings.RATE_LIMIT_WINDOW_SECONDS
    return {
        "sign_in": Limit("sign_in", settings.SIGN_IN_RATE_LIMIT, window),
        "public_form": Limit("public_form", settings.PUBLIC_FORM_RATE_LIMIT, window),
        "api_token": Limit("api_token", settings.API_RATE_LIMIT_PER_MINUTE, window),
        "api_ip": Limit("api_ip", settings.API_IP_RATE_LIMIT, window),
    }


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


class SharedCounters:
    """Counters in one SQLite file, shared by every process that opens it.

    Each thread keeps its own connection (reopened after a fork). The upsert increments and
    returns the count in one statement, so two processes never lose a hit between them.
    """

    UPSERT = (
        "INSERT INTO counters (key, count, expires) VALUES (?, 1, ?) "
        "ON CONFLICT (key) DO UPDATE SET "
        "count = CASE WHEN counters.expires < ? THEN 1 ELSE counters.count + 1 END, expires = excluded.expires "
        "RETURNING count"
    )

    def __init__(self) -> None:
        self._local = threading.local()
        # The threads of one process take turns here rather than in SQLite's busy handler, which
        # sleeps up to 100 ms a try (as core/sqlite does for the database).
        self._write = threading.Lock()

    def _connection(self, path: Path) -> sqlite3.Connection:
        owner = (os.getpid(), str(path))
        if getattr(self._local, "owner", None) != owner:
            connection = sqlite3.connect(path, timeout=5.0, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute(
                "CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, count INTEGER NOT NULL, "
                "expires REAL NOT NULL) WITHOUT ROWID"
            )
            connection.execute("CREATE INDEX IF NOT EXISTS counters_expires ON counters (expires)")
            self._local.connection, self._local.owner, self._local.cleaned = connection, owner, 0.0
        return self._local.connection

    def incr(self, path: Path, key: str, expires: float, now: float) -> int:
        """Add one to ``key`` (a fresh count once ``expires`` passed); the new count."""
        connection = self._connection(path)
        with self._write:
            count = connection.execute(self.UPSERT, (key, expires, now)).fetchone()[0]
            if now - self._local.cleaned > CLEAN_EVERY:
                connection.execute("DELETE FROM counters WHERE expires < ?", (now,))
                self._local.cleaned = now
        return int(count)


shared = SharedCounters()


def counters_path() -> Path:
    """The SQLite file of the shared counters (in the data folder unless settings say otherwise)."""
    return Path(getattr(settings, "RATE_LIMIT_DB", "") or Path(settings.DATA_DIR) / "ratelimit.sqlite3")


def _count(cache_key: str, window_end: int, now: float) -> int:
    if not settings.REDIS_URL:
        try:
            return shared.incr(counters_path(), cache_key, window_end + 5, now)
        except sqlite3.Error as exc:  # a full disk or a stuck lock must not take sign-in down
            log.warning("rate-limit counters file unusable (%s); counting in this process only", exc)
        return _count_in(cache, cache_key, window_end, now)
    try:
        return _count_in(cache, cache_key, window_end, now)
    except (RedisError, OSError) as exc:  # nor may a Redis restart turn every API request into a 500
        log.warning("rate-limit counters in Redis unreachable (%s); counting in this process only", exc)
        return _count_in(_this_process, cache_key, window_end, now)


# Where counters go while Redis cannot be reached.
_this_process = LocMemCache("octopushx-ratelimit-fallback", {})


def _count_in(counters, cache_key: str, window_end: int, now: float) -> int:
    counters.add(cache_key, 0, timeout=window_end - int(now) + 5)
    try:
        return counters.incr(cache_key)
    except ValueError:  # expired between add and incr
        counters.set(cache_key, 1, timeout=window_end - int(now) + 5)
        return 1


def hit(limit: Limit, key: str, now: float | None = None) -> int | None:
    """Count one request; the seconds to wait when over the limit, else None."""
    if not settings.RATE_LIMITS_ENABLED or limit.count <= 0:
        return None
    now = time.time() if now is None else now
    window_start = int(now) - int(now) % limit.window
    cache_key = f"rl:{limit.name}:{_digest(key)}:{window_start}"
    count = _count(cache_key, window_start + limit.window, now)
    if count > limit.count:
        return max(1, window_start + limit.window - int(now))
    return None


def check(request, names_and_keys: list[tuple[str, str]]) -> int | None:
    """Count the request against each (limit name, key); the longest wait if any is exceeded."""
    configured = limits()
    waits = [hit(configured[name], key) for name, key in names_and_keys]
    waits = [w for w in waits if w is not None]
    return max(waits) if waits else None


def too_many(request, retry_after: int, *, api: bool = False) -> HttpResponse:
    """429 with ``Retry-After``: the API's error shape for /api/, a page otherwise."""
    message = f"Too many requests. Try again in {retry_after} seconds."
    if api:
        response: HttpResponse = JsonResponse({"detail": message, "errors": {}}, status=429)
    else:
        response = render(request, "shield/rate_limited.html", {"retry_after": retry_after}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def ip_key(request) -> str:
    return client_ip(request) or "unknown"


def rate_limited(name: str):
    """Decorator for a view that takes public input: POSTs count against ``name`` per IP."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method == "POST":
                wait = check(request, [(name, ip_key(request))])
                if wait is not None:
                    return too_many(request, wait)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
