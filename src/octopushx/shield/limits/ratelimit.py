"""Fixed-window rate limits kept in Django's cache (local memory, or Redis with REDIS_URL).

A counter per (limit, client key, window) is created with ``cache.add`` and increased with
``cache.incr``, both atomic on Redis; the key expires with its window. Keys are hashed so
tokens, emails and addresses never sit in the cache in clear.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render

from octopushx.core.context import client_ip


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


def hit(limit: Limit, key: str, now: float | None = None) -> int | None:
    """Count one request; the seconds to wait when over the limit, else None."""
    if not settings.RATE_LIMITS_ENABLED or limit.count <= 0:
        return None
    now = time.time() if now is None else now
    window_start = int(now) - int(now) % limit.window
    cache_key = f"rl:{limit.name}:{_digest(key)}:{window_start}"
    cache.add(cache_key, 0, timeout=limit.window + 5)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=limit.window + 5)
        count = 1
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
