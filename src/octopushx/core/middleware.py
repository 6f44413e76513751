"""Cross-cutting HTTP middleware: request ids, metrics, body size limits, Content-Security-Policy."""

from __future__ import annotations

import re
import time
import uuid

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse

from octopushx.core import metrics
from octopushx.core.context import request_id_var

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        # Not reset here: Django logs the response (django.request) after the middleware
        # chain returns, and that line must carry the id too. ``logging.forget_request_id``
        # resets it when the response is closed.
        request_id_var.set(request_id)
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


class MetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = match.route if match is not None else "unmatched"
        metrics.REQUEST_LATENCY.labels(request.method, route, str(response.status_code)).observe(
            time.perf_counter() - started
        )
        return response


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", CSP)
        response.setdefault("Permissions-Policy", "camera=(), geolocation=(), microphone=()")
        return response


class RequestSizeLimitMiddleware:
    """Refuse oversized bodies with a clear 413 before anything reads them.

    File uploads (multipart) may be up to ``MAX_UPLOAD_BYTES`` (they stream to temporary
    files); any other body up to ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (it is read into memory).
    Django itself would answer the second case with a bare 400 page, and not at all the first.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _error(request, 400, "The Content-Length header is not a number.")
        limit = self.limit_for(request)
        if limit is not None and length > limit:
            return _too_large(request, limit)
        return self.get_response(request)

    @staticmethod
    def limit_for(request) -> int | None:
        return body_limit(request.META.get("CONTENT_TYPE", ""))

    def process_exception(self, request, exception):
        if isinstance(exception, RequestDataTooBig):  # a view read a large multipart body whole
            return _too_large(request, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        return None


def body_limit(content_type: str) -> int:
    """The largest body accepted with this content type (the web server applies it too).

    File uploads (multipart) stream to temporary files, so they may be large; any other
    body is read into memory.
    """
    if content_type.strip().lower().startswith("multipart/"):
        return settings.MAX_UPLOAD_BYTES
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def too_large_message(limit: int | None) -> str:
    size = f" (the limit is {_megabytes(limit)})" if limit else ""
    return f"The request body is too large{size}."


def _too_large(request, limit: int | None) -> HttpResponse:
    return _error(request, 413, too_large_message(limit))


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


def _error(request, status: int, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message, "errors": {}}, status=status)
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
