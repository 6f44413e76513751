"""Applies the rate limits to sign-in, public forms and the API before any work is done."""

from __future__ import annotations

from octopushx.shield.limits import ratelimit

# POSTs to these paths count against the sign-in limit (per client IP).
SIGN_IN_PATHS = ("/accounts/login/", "/accounts/password-reset/")
# POSTs to these public (no account needed) forms count against the public-form limit.
PUBLIC_FORM_PREFIXES = ("/invitations/", "/privacy/", "/legal/")


def _bearer(request) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return None


class RateLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path
        ip = ratelimit.ip_key(request)
        if path.startswith("/api/"):
            keys = [("api_ip", ip)]
            token = _bearer(request)
            if token:
                keys.append(("api_token", token))
            wait = ratelimit.check(request, keys)
            if wait is not None:
                return ratelimit.too_many(request, wait, api=True)
        elif request.method == "POST":
            if path.startswith(SIGN_IN_PATHS):
                wait = ratelimit.check(request, [("sign_in", ip)])
            elif path.startswith(PUBLIC_FORM_PREFIXES):
                wait = ratelimit.check(request, [("public_form", ip)])
            else:
                wait = None
            if wait is not None:
                return ratelimit.too_many(request, wait)
        return self.get_response(request)
