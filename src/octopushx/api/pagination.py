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


def _decode(cursor: str, size: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != size:
            raise ValueError
        return values
    except (ValueError, TypeError):
        raise ValidationError({"cursor": ["Invalid cursor; use the `next` value of a previous page"]})


def paginate(
    qs: QuerySet,
    *,
    cursor: str | None,
    limit: int,
    field: str = "created_at",
    descending: bool = True,
    then: tuple[str, ...] = (),
) -> tuple[list, str | None]:
    """One page ordered by ``field``, then the ``then`` fields, then the id, all one way."""
    if limit < 1 or limit > MAX_LIMIT:
        raise ValidationError({"limit": [f"Between 1 and {MAX_LIMIT}"]})
    prefix = "-" if descending else ""
    fields = (field, *then, "pk")
    qs = qs.order_by(*(f"{prefix}{name}" for name in fields))
    if cursor:
        values = _decode(cursor, len(fields))
        op = "lt" if descending else "gt"
        # After (a, b, id) = (A, B, I): a beyond A, or a = A and b beyond B, or both equal and id beyond I.
        after = Q()
        for index, name in enumerate(fields):
            after |= Q(**dict(zip(fields[:index], values[:index], strict=True)), **{f"{name}__{op}": values[index]})
        # The first condition repeats the bound on the first field so an index on it can seek there.
        qs = qs.filter(Q(**{f"{field}__{op}e": values[0]}), after)
    rows = list(qs[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = _encode([getattr(last, name) for name in fields])
    return rows, next_cursor
