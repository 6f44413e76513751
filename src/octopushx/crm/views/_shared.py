"""Helpers shared by the CRM pages: error text, htmx detection, safe redirects, ids."""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.http import url_has_allowed_host_and_scheme

PAGE_SIZE = 50


def _errors_text(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return " ".join(f"{k}: {m}" if k != "__all__" else m for k, msgs in exc.message_dict.items() for m in msgs)
    return " ".join(exc.messages)


def _htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _related_from(request, source) -> dict:
    return {
        f"{name}_id": source.get(f"{name}_id") for name in ("contact", "company", "deal") if source.get(f"{name}_id")
    }


def _back(request, default: str) -> str:
    """The ``next`` page to return to: a path on this site, never another site (``//evil``, ``/\\evil``)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    local = target.startswith("/") and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    )
    return target if local else default


def _valid_ids(ids) -> list:
    valid = []
    for value in ids:
        try:
            valid.append(uuid.UUID(str(value)))
        except (ValueError, TypeError):
            raise Http404("Not a valid id")
    return valid
