"""Octopush X's reportable dataset: calls, with the current analysis's per-call metrics as columns.

Rows come through ``calls.services.queries.visible_calls`` (agents their own calls, managers their
team's, everyone else the tenant's). Per-call metrics are read from ``Call.metrics``, the
copy of the current analysis's headline figures (``calls.models.headline_metrics``), so a report never
loads a transcript. Per-role figures (agent talk ratio, customer story…) are empty for calls whose
speaker roles are not known, so team averages never mix "speaker1" with "agent". Keywords (a list per
call) are not a column.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.db.models import FloatField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.urls import reverse

from octopushx.calls.models import COUNTED_STATES, CallScore, CallStatus, Direction, Provider, ReviewState, ScoreState
from octopushx.calls.services.queries import visible_calls
from octopushx.core.datasets import Dataset, Field, register
from octopushx.crm.datasets import team_of


def _metric(key: str):
    """A number of ``Call.metrics`` (the current analysis's headline metrics, copied onto the call)."""

    def expression(tenant):
        return Cast(KeyTextTransform(key, "metrics"), FloatField())

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
            "agent_talk_ratio": Field("Agent talk ratio (0–1)", "number", annotate=_metric("agent_talk_ratio")),
            "customer_talk_ratio": Field(
                "Customer talk ratio (0–1)", "number", annotate=_metric("customer_talk_ratio")
            ),
            "agent_longest_monologue": Field(
                "Longest monologue (seconds)",
                "number",
                annotate=_metric("agent_longest_monologue"),
            ),
            "customer_longest_story": Field(
                "Longest customer story (seconds)",
                "number",
                annotate=_metric("customer_longest_story"),
            ),
            "patience": Field("Patience (seconds)", "number", annotate=_metric("patience")),
            "agent_questions": Field("Questions asked by the agent", "number", annotate=_metric("agent_questions")),
            "agent_interruptions": Field(
                "Interruptions by the agent", "number", annotate=_metric("agent_interruptions")
            ),
            "customer_interruptions": Field(
                "Interruptions by the customer", "number", annotate=_metric("customer_interruptions")
            ),
            "agent_words_per_minute": Field(
                "Agent words per minute", "number", annotate=_metric("agent_words_per_minute")
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


def _score_rows(tenant, membership):
    """Scores that count (submitted and later) on the calls the member may see."""
    return CallScore.objects.for_tenant(tenant).filter(
        state__in=COUNTED_STATES, call__in=visible_calls(tenant, membership)
    )


def _scores_list_url(filters: list[dict]) -> str | None:
    return reverse("calls:reviews")


CALL_SCORES = register(
    Dataset(
        name="call_scores",
        label="QA scores",
        rows=_score_rows,
        fields={
            "agent": Field("Agent", "user", expr="agent_id"),
            "team": Field("Team", "team", annotate=team_of("agent_id")),
            "reviewer": Field("Reviewer", "user", expr="reviewer_id"),
            "scorecard": Field("Scorecard", "fk", expr="scorecard_id", label_expr="scorecard__name"),
            "state": Field("State", "choice", choices=_choices(ScoreState)),
            "percent": Field("QA score (%)", "number"),
            "score": Field("Points", "number"),
            "max_score": Field("Points possible", "number"),
            "failed": Field("Auto-failed", "bool"),
            "submitted_at": Field("Submitted", "datetime"),
        },
        default_date_field="submitted_at",
        list_url=_scores_list_url,
    )
)
