"""The one rule for text people send us: no control characters, no bidirectional overrides.

NUL and the other C0/C1 control characters break spreadsheets (an XLSX cell cannot hold
them), PostgreSQL text (no NUL) and terminals; bidirectional overrides and isolates
(U+202A-U+202E, U+2066-U+2069) make a name read differently from what it is. Tab, line feed
and carriage return stay allowed: multi-line fields (notes, descriptions) need them.

Applied at the edge: every string of every API request (``api_guard``, body, query and form
fields alike) and every field of the Django forms that use ``CleanTextFormMixin``. ``strip``
removes the same characters where text must be written out whatever it holds (exports).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import RequestDataTooBig, ValidationError

FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def problem(value: str) -> str | None:
    """What is wrong with ``value`` in a sentence, or None when it is acceptable."""
    found = FORBIDDEN.search(value)
    if found is None:
        return None
    char = found.group()
    kind = "a bidirectional override" if ord(char) >= 0x202A else "a control character"
    name = unicodedata.name(char, "")
    return f"Contains {kind} (U+{ord(char):04X}{' ' + name if name else ''}), which is not allowed."


def validate(value: Any) -> None:
    """Django validator: raise ``ValidationError`` when a string holds a forbidden character."""
    if isinstance(value, str) and (message := problem(value)):
        raise ValidationError(message, code="forbidden_character")


def strip(value: str) -> str:
    """``value`` without the forbidden characters (for output that must be written anyway)."""
    return FORBIDDEN.sub("", value)


def problems(data: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, str]]:
    """(dotted path, message) for every bad string (or key) in nested JSON-like ``data``."""
    if isinstance(data, str):
        if message := problem(data):
            yield ".".join(path) or "__all__", message
    elif isinstance(data, dict):
        for key, value in data.items():
            key_text = str(key)
            if message := problem(key_text):
                yield ".".join((*path, strip(key_text))), message
            yield from problems(value, (*path, key_text))
    elif isinstance(data, list | tuple):
        for index, value in enumerate(data):
            yield from problems(value, (*path, str(index)))


def request_problems(request, *, reads_form: bool = True, reads_body: bool = True) -> dict[str, list[str]]:
    """Field errors for the text of a request: its query string, and the form fields and file
    names or the JSON body, as far as the view reads them anyway (``reads_form``, ``reads_body``).

    A multipart body is only parsed when the view parses it too: once parsed, Django can no
    longer give the raw body to a view that wants it (and the other way round for large ones).
    """
    errors: dict[str, list[str]] = {}

    def check_fields(data) -> None:
        for key in data:
            for value in [key, *(getattr(v, "name", v) for v in data.getlist(key))]:
                if isinstance(value, str) and (message := problem(value)):
                    errors.setdefault(strip(key), []).append(message)
                    break

    check_fields(request.GET)
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        content_type = request.META.get("CONTENT_TYPE", "")
        if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
            if reads_form:
                check_fields(request.POST)
                check_fields(request.FILES)
        elif reads_body and request.body:
            try:
                body = json.loads(request.body)
            except ValueError:  # not JSON: the API answers that itself
                body = None
            for field, message in problems(body):
                errors.setdefault(field, []).append(message)
    return errors


class CleanTextFormMixin:
    """Django forms: every text field refuses forbidden characters with an error on the field."""

    def full_clean(self) -> None:
        super().full_clean()  # type: ignore[misc]
        if not self.is_bound or self._errors is None:  # type: ignore[attr-defined]
            return
        for name in list(self.fields):  # type: ignore[attr-defined]
            key = self.add_prefix(name)  # type: ignore[attr-defined]
            values = self.data.getlist(key) if hasattr(self.data, "getlist") else [self.data.get(key)]  # type: ignore[attr-defined]
            message = next((problem(v) for v in values if isinstance(v, str) and problem(v)), None)
            if message and name not in self._errors:  # type: ignore[attr-defined]
                self.add_error(name, ValidationError(message, code="forbidden_character"))  # type: ignore[attr-defined]


class FormTextMiddleware:
    """Every web form the same rule: a POST whose fields (or query) hold a forbidden character is
    refused with 400 and a page naming the field, before the view runs and changes anything.

    The API has its own guard (422 in its error shape). Views whose forms show the error on the field
    (``CleanTextFormMixin``) say so with ``FORMS_CHECK_TEXT = True`` in their module and are let
    through; machine endpoints (webhooks, which are CSRF-exempt) are not people's forms.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        import sys

        from django.shortcuts import render

        if request.method not in ("POST", "PUT", "PATCH") or request.path.startswith("/api/"):
            return None
        if getattr(view_func, "csrf_exempt", False):
            return None
        if getattr(sys.modules.get(view_func.__module__), "FORMS_CHECK_TEXT", False):
            return None
        try:
            errors = request_problems(request, reads_form=True, reads_body=False)
        except RequestDataTooBig:  # more form fields than Django reads into memory: the size limit's 413
            from django.conf import settings

            from octopushx.core.middleware import _too_large

            return _too_large(request, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        if not errors:
            return None
        field, messages = next(iter(errors.items()))
        return render(request, "400.html", {"field": field, "message": messages[0]}, status=400)


def moment(text: str):
    """A date or date-time typed into a filter (``2026-01-31`` or ISO 8601), aware in the current
    time zone; ``None`` when it is not one."""
    from datetime import datetime

    from django.utils import timezone
    from django.utils.dateparse import parse_date, parse_datetime

    try:
        found = parse_datetime(text)
        if found is None and (day := parse_date(text)) is not None:
            found = datetime.combine(day, datetime.min.time())
    except ValueError:
        return None
    if found is None:
        return None
    return found if timezone.is_aware(found) else timezone.make_aware(found)
