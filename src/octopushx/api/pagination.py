"""Cursor pagination: lists answer ``{"items": [...], "next": cursor-or-null}``.

The cursor is an opaque keyset over (order field, id), so pages stay fast on large
tenants and do not shift when rows are added.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import F, Q, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan, TupleLookupMixin

MAX_LIMIT = 200


class _RowValue:
    """``(a, b, id) > (A, B, I)`` written as a row-value comparison on every database.

    Django spells it out as ``a > A OR (a = A AND ...)`` where it doubts the database (SQLite).
    SQLite has compared row values since 3.15, and reads them as one range of an index in order;
    the spelled-out OR made it merge three index scans and sort all that followed (a manager's
    contacts by name at 200,000 contacts: 270 ms against 1 ms).
    """

    def as_sql(self, compiler, connection):
        return super(TupleLookupMixin, self).as_sql(compiler, connection)


class _After(_RowValue, TupleGreaterThan):
    pass


class _Before(_RowValue, TupleLessThan):
    pass


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
        beyond = (_Before if descending else _After)(Tuple(*(F(name) for name in fields)), values)
        # The bound on the first field alone lets any index that starts with it seek there.
        qs = qs.filter(Q(**{f"{field}__{op}e": values[0]}), beyond)
    rows = list(qs[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = _encode([getattr(last, name) for name in fields])
    return rows, next_cursor
