"""Search text folded to one form: no accents, one case. "Müller", "MULLER" and "muller" all read "muller".

The database keeps its search indexes over ``crm_fold(column)`` and a search compares them with
``crm_fold(term)``, so what is stored and what is typed are folded by the same function:

- SQLite: ``crm_fold`` is :func:`fold`, registered on every connection Django opens (``crm.apps``);
  the FTS5 search table of migration 0010 is filled with it by triggers.
- PostgreSQL: ``crm_fold`` is an immutable SQL function over the ``unaccent`` extension (which also
  writes ß as ss, æ as ae, ø as o, ł as l), created by migration 0010, with trigram indexes over it.
"""

from __future__ import annotations

import unicodedata

from django.db.models import CharField, Func, Value

# Letters that are not a base letter plus a mark, written as unaccent writes them.
LETTERS = str.maketrans(
    {
        "ß": "ss",
        "ẞ": "ss",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "ø": "o",
        "Ø": "o",
        "ł": "l",
        "Ł": "l",
        "đ": "d",
        "Đ": "d",
        "ð": "d",
        "Ð": "d",
        "þ": "th",
        "Þ": "th",
        "ı": "i",
    }
)


def fold(text: str | None) -> str | None:
    """``text`` without accents and in lower case; ``None`` stays ``None`` (SQL NULL)."""
    if text is None:
        return None
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.translate(LETTERS))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def register(connection) -> None:
    """Make ``crm_fold`` callable in SQL on a SQLite connection (PostgreSQL has it from migration 0010)."""
    if connection.vendor == "sqlite" and connection.connection is not None:
        connection.connection.create_function("crm_fold", 1, fold, deterministic=True)


class Fold(Func):
    """``crm_fold(expression)`` in a query: a column (indexed so on PostgreSQL) or a typed term."""

    function = "crm_fold"
    output_field = CharField()


def folded(term: str) -> Fold:
    """The typed ``term`` folded by the database's own function, to compare with a folded column."""
    return Fold(Value(term, output_field=CharField()))
