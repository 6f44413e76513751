"""Octopush X's reportable dataset: calls, with the current analysis's per-call metrics as columns.

Rows come through ``calls.services.queries.visible_calls`` (agents their own calls, managers their
team's, everyone else the tenant's). Per-call metrics live in the current ``CallAnalysisResult.data``
JSON (``insights.metrics``); they are read out of it as numbers. Per-role figures (agent talk ratio,
customer story…) are empty for calls whose speaker roles are not known (``speakers.roles_known`` false),
so team averages never mix "speaker1" with "agent". Keywords (a list per call) are not a column.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.db.models import Case, FloatField, Q, Value, When
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Cast
from django.urls import reverse

from octopushx.calls.models import CallStatus, Direction, Provider, ReviewState
from octopushx.calls.services.queries import visible_calls
from octopushx.core.datasets import Dataset, Field, register
from octopushx.crm.datasets import team_of

METRICS = ("insights", "metrics")


def _key_text(*keys: str):
    """``current.data -> insights -> metrics -> …`` as text (``KT`` does not follow the ``current`` relation)."""
    inner = "current__data"
    for key in keys[:-1]:
        inner = KeyTransform(key, inner)
    return KeyTextTransform(keys[-1], inner)


def _metric(path: str, per_role: bool = False):
    def expression(tenant):
        value = Cast(_key_text(*METRICS, *path.split("__")), FloatField())
        if not per_role:
            return value
        return Case(
            When(Q(current__data__speakers__roles_known=False), then=Value(None, output_field=FloatField())),
            default=value,
            output_field=FloatField(),
        )

    return expression


# dataset field -> {op: call list query parameter} (calls.views.FILTERS, read by services.filter_calls)
LIST_PARAMS = {
    "agent": {"eq": "agent_id"},
    "direction": {"eq": "direction"},
    "status": {"eq": "status"},
    "review_state": {"eq": "review_state"},
    "duration": {"gte": "min_duration", "lte": "max_duration"},
    "started_at": {"gte": "date_from", "lt": "date_before"},
}


def _list_url(filters: list[dict]) -> str | None:
    """The call list with the same filter, or ``None`` when it cannot express one of them."""
    query: dict[str, object] = {}
    for f in filters:
        name = LIST_PARAMS.get(f["field"], {}).get(f["op"])
        value = f.get("value")
        if name is None or value is None:
            return None
        if name in query and query[name] != value:
            if name not in ("date_from", "date_before"):
                return None
            # two bounds (a week inside the period): the narrower one
            value = max(query[name], value) if name == "date_from" else min(query[name], value)
        query[name] = value
    shown = {k: v.isoformat() if isinstance(v, dt.date | dt.datetime) else str(v) for k, v in query.items()}
    url = reverse("calls:list")
    return f"{url}?{urlencode(shown)}" if shown else url


def _choices(enum) -> tuple[tuple[str, str], ...]:
    return tuple((str(value), str(label)) for value, label in enum.choices)


CALLS = register(
    Dataset(
        name="calls",
        label="Calls",
        rows=lambda tenant, membership: visible_calls(tenant, membership),
        fields={
            "agent": Field("Agent", "user", expr="agent_id"),
            "team": Field("Team", "team", annotate=team_of("agent_id")),
            "direction": Field("Direction", "choice", choices=_choices(Direction)),
            "status": Field("Status", "choice", choices=_choices(CallStatus)),
            "provider": Field("Source", "choice", choices=_choices(Provider)),
            "review_state": Field("Review", "choice", choices=_choices(ReviewState)),
            "duration": Field("Duration (seconds)", "number"),
            "sentiment": Field("Customer sentiment", "number"),
            "agent_talk_ratio": Field("Agent talk ratio (0–1)", "number", annotate=_metric("talk_ratio__agent", True)),
            "customer_talk_ratio": Field(
                "Customer talk ratio (0–1)", "number", annotate=_metric("talk_ratio__customer", True)
            ),
            "agent_longest_monologue": Field(
                "Longest monologue (seconds)",
                "number",
                annotate=_metric("longest_monologue_by_speaker__agent", True),
            ),
            "customer_longest_story": Field(
                "Longest customer story (seconds)",
                "number",
                annotate=_metric("longest_monologue_by_speaker__customer", True),
            ),
            "patience": Field("Patience (seconds)", "number", annotate=_metric("patience", True)),
            "agent_questions": Field(
                "Questions asked by the agent", "number", annotate=_metric("questions__agent", True)
            ),
            "agent_interruptions": Field(
                "Interruptions by the agent", "number", annotate=_metric("interruptions__agent", True)
            ),
            "customer_interruptions": Field(
                "Interruptions by the customer", "number", annotate=_metric("interruptions__customer", True)
            ),
            "agent_words_per_minute": Field(
                "Agent words per minute", "number", annotate=_metric("words_per_minute__agent", True)
            ),
            "turns": Field("Turns (speaker changes)", "number", annotate=_metric("turns")),
            "silence_ratio": Field("Silence ratio (0–1)", "number", annotate=_metric("silence_ratio")),
            "started_at": Field("Started", "datetime"),
            "created_at": Field("Created", "datetime"),
        },
        default_date_field="started_at",
        list_url=_list_url,
    )
)
