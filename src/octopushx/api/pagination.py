"""Cursor pagination: lists answer ``{"items": [...], "next": cursor-or-null}``.

The cursor is an opaque keyset over (order field, id), so pages stay fast on large
tenants and do not shift when rows are added.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

MAX_LIMIT = 200


def _encode(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode().rstrip("=")


def _decode(cursor: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != 2:
            raise ValueError
        return values
    except (ValueError, TypeError):
        raise ValidationError({"cursor": ["Invalid cursor; use the `next` value of a previous page"]})


def paginate(
    qs: QuerySet, *, cursor: str | None, limit: int, field: str = "created_at", descending: bool = True
) -> tuple[list, str | None]:
    if limit < 1 or limit > MAX_LIMIT:
        raise ValidationError({"limit": [f"Between 1 and {MAX_LIMIT}"]})
    prefix = "-" if descending else ""
    qs = qs.order_by(f"{prefix}{field}", f"{prefix}pk")
    if cursor:
        value, pk = _decode(cursor)
        op = "lt" if descending else "gt"
        # The first condition repeats the second's bound so an index on the field can seek to it.
        qs = qs.filter(
            Q(**{f"{field}__{op}e": value}), Q(**{f"{field}__{op}": value}) | Q(**{field: value, f"pk__{op}": pk})
        )
    rows = list(qs[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = _encode([getattr(last, field), last.pk])
    return rows, next_cursor
