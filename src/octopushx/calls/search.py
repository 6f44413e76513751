"""Full-text search over transcripts: SQLite FTS5 or PostgreSQL tsvector, one behaviour.

Both match whole words, case-insensitively, every word of the query (AND), without stemming
(FTS5's unicode61 tokenizer; PostgreSQL's ``simple`` configuration). Only the lines of each
call's current analysis are searched, and only within the calls the caller may see.
"""

from __future__ import annotations

import re

from django.db import connection
from django.db.models import Exists, F, OuterRef, QuerySet

from octopushx.calls.models import Utterance

WORD = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 12


def terms(query: str) -> list[str]:
    return [w.lower() for w in WORD.findall(query or "")][:MAX_TERMS]


def _matching_ids_sql(tenant_id, words: list[str]) -> tuple[str, list]:
    if connection.vendor == "postgresql":
        return (
            "SELECT id FROM calls_utterance WHERE tenant_id = %s "
            "AND to_tsvector('simple', text) @@ plainto_tsquery('simple', %s)",
            [tenant_id, " ".join(words)],
        )
    match = " ".join('"' + w.replace('"', '""') + '"' for w in words)
    return (
        "SELECT utterance_id FROM calls_utterance_fts WHERE calls_utterance_fts MATCH %s AND tenant_id = %s",
        [match, str(tenant_id).replace("-", "")],
    )


def matching_lines(calls: QuerySet, query: str) -> QuerySet:
    """Current transcript lines of ``calls`` (already tenant- and permission-scoped) that match."""
    words = terms(query)
    lines = Utterance.objects.filter(call__in=calls, result_id=F("call__current_id"))
    if not words:
        return lines.none()
    tenant_ids = list(calls.order_by().values_list("tenant_id", flat=True).distinct()[:2])
    if len(tenant_ids) != 1:
        return lines.none()
    sql, params = _matching_ids_sql(tenant_ids[0], words)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [row[0] for row in cursor.fetchall()]
    return lines.filter(pk__in=ids)


def tracker_lines(calls: QuerySet, tracker_id) -> QuerySet:
    """Current transcript lines of ``calls`` where the tracker has a hit."""
    from octopushx.calls.models import TrackerHit

    hit = TrackerHit.objects.filter(call_id=OuterRef("call_id"), position=OuterRef("position"), tracker_id=tracker_id)
    return Utterance.objects.filter(call__in=calls, result_id=F("call__current_id")).filter(Exists(hit))


def matching_call_ids(calls: QuerySet, query: str) -> list:
    return list(matching_lines(calls, query).values_list("call_id", flat=True).distinct())


def highlight(text: str, query: str) -> list[tuple[str, bool]]:
    """``text`` cut into (piece, is_hit) parts for templates (no HTML built here)."""
    words = set(terms(query))
    parts: list[tuple[str, bool]] = []
    position = 0
    for match in WORD.finditer(text):
        if match.group().lower() in words:
            if match.start() > position:
                parts.append((text[position : match.start()], False))
            parts.append((match.group(), True))
            position = match.end()
    if position < len(text):
        parts.append((text[position:], False))
    return parts
