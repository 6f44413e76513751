"""Operations endpoints and the signed-in home page."""

from __future__ import annotations

import sys

from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views import defaults
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from octopushx.core import home as home_panels
from octopushx.core import metrics
from octopushx.core.models import Job, JobState

# Figures other packages add to /readyz (Studio's failed and waiting runs); they inform, they
# never make the platform "not ready": ``fn() -> dict``.
READINESS_DETAILS: dict = {}


def readiness_detail(name: str):
    def register(fn):
        READINESS_DETAILS[name] = fn
        return fn

    return register


UNAVAILABLE = "The service is briefly unavailable: its database cannot be reached. Try again in a few seconds."
FAILED = "Something went wrong on our side. The error is logged; try again in a moment."


def server_error(request):
    """Django's ``handler500``: JSON under /api/, the stand-alone error page elsewhere.

    While the database cannot be reached (restarted, refusing connections, SQLite busy past its
    time-out) the answer is 503 with ``Retry-After``, so API clients and proxies retry instead of
    reporting a failure; it is called inside Django's ``except`` block, so ``sys.exc_info`` holds
    the cause.
    """
    cause = sys.exc_info()[1]
    unavailable = isinstance(cause, OperationalError | InterfaceError) or (
        isinstance(cause, DatabaseError) and "connection" in str(cause).lower()
    )
    status = 503 if unavailable else 500
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": UNAVAILABLE if unavailable else FAILED, "errors": {}}, status=status)
    else:
        response = defaults.server_error(request)
        response.status_code = status
    if unavailable:
        response["Retry-After"] = "5"
    return response


def healthz(request):
    return JsonResponse({"status": "ok"})


def _check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"ok": True, "engine": connection.vendor}


def _check_queue() -> dict:
    from huey.contrib.djhuey import HUEY

    pending = HUEY.pending_count()
    failed = Job.objects.filter(state=JobState.FAILED).count()
    return {"ok": True, "backend": type(HUEY).__name__, "pending": pending, "failed_jobs": failed}


def _check_storage() -> dict:
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage, storages

    from octopushx.core import keys

    keys.check_master_key()
    name = default_storage.save("_readyz/probe", ContentFile(b"ok"))
    default_storage.delete(name)
    return {"ok": True, "backend": type(storages["default"]).__name__}


def readyz(request):
    checks = {}
    for name, check in (
        ("database", _check_database),
        ("queue", _check_queue),
        ("storage", _check_storage),
    ):
        try:
            checks[name] = check()
        except Exception as exc:  # readiness reports every failure, it never raises
            checks[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    ready = all(c["ok"] for c in checks.values())
    for name, detail in READINESS_DETAILS.items():
        try:
            checks[name] = {"ok": True, **detail()}
        except Exception as exc:  # a detail that cannot be read is reported, not fatal
            checks[name] = {"ok": True, "error": f"{type(exc).__name__}: {exc}"}
    return JsonResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status=200 if ready else 503,
    )


def metrics_view(request):
    return HttpResponse(generate_latest(metrics.REGISTRY), content_type=CONTENT_TYPE_LATEST)


@login_required
def home(request):
    return render(
        request,
        "core/home.html",
        {"panels": home_panels.render_panels(request), "setup_cards": home_panels.setup_cards(request)},
    )
