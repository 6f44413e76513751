"""Reading calls: who sees which call, matching numbers to contacts and agents, list filters, team figures."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from octopushx.calls.models import (
    Call,
    CallAnalysisResult,
    CallOutcome,
    CallStatus,
    Direction,
    ReviewState,
    TrackerHit,
)
from octopushx.core.context import Actor
from octopushx.crm import fields as crm_fields
from octopushx.crm.models import Contact, ContactPhone
from octopushx.tenancy.models import Membership
from octopushx.tenancy.roles import Scope, scope_of


def membership_of(tenant, actor: Actor | None) -> Membership | None:
    if actor is None or actor.user is None:
        return None
    return Membership.objects.filter(tenant=tenant, user=actor.user).first()


def visible_calls(tenant, membership: Membership | None) -> QuerySet:
    """Agents see their own calls, managers their team's, everyone else the tenant's."""
    qs = Call.objects.for_tenant(tenant)
    if membership is None:
        return qs.none()
    scope = scope_of(membership.role)
    if scope == Scope.ALL:
        return qs
    if scope == Scope.TEAM and membership.team_id:
        team = Membership.objects.filter(tenant=tenant, team_id=membership.team_id).values_list("user_id", flat=True)
        return qs.filter(agent_id__in=list(team))
    return qs.filter(agent_id=membership.user_id)


def get_visible_call(tenant, membership: Membership | None, pk) -> Call:
    """One call the member may see; 404 otherwise (the same answer as another tenant's id)."""
    call = Call.objects.get_for_tenant(tenant, pk)
    if not visible_calls(tenant, membership).filter(pk=call.pk).exists():
        raise Http404("No call with that id")
    return call


# --- matching --------------------------------------------------------------------------


def clean_number(value: Any, region: str) -> str:
    return crm_fields.clean_phone(value, region)


def match_contact(tenant, number: str) -> Contact | None:
    """The contact with this E.164 number (primary numbers first), if any."""
    if not number:
        return None
    phone = (
        ContactPhone.objects.for_tenant(tenant)
        .filter(number=number)
        .select_related("contact")
        .order_by("-is_primary", "created_at")
        .first()
    )
    return phone.contact if phone else None


def match_agent(tenant, *, email: str = "", extension: str = ""):
    """The member by email, else by extension (the raw value or its E.164 form)."""
    members = Membership.objects.filter(tenant=tenant).select_related("user")
    if email:
        found = members.filter(user__email__iexact=email.strip()).first()
        if found:
            return found.user
    if extension:
        found = members.filter(extension=extension.strip()).exclude(extension="").first()
        if found:
            return found.user
    return None


def speakers_of(data: dict[str, Any]) -> dict[str, Any]:
    """How a stored result told its speakers apart (``CallAnalysis.speakers``).

    Results from before the role confidence existed are inferred from their provenance: a
    dual-channel call's roles came from its channels; a clustered call's roles were guessed.
    """
    speakers = data.get("speakers")
    if isinstance(speakers, dict):
        return speakers
    method = (data.get("provenance") or {}).get("diarisation") or "unknown"
    known = method == "channels"
    return {
        "method": method,
        "roles_known": known,
        "role_source": "channels" if known else "none",
        "confidence": 1.0 if known else None,
        "silhouette": None,
    }


def roles_known(data: dict[str, Any]) -> bool:
    """Whether a result's agent and customer are known with confidence (else it is not compared)."""
    return bool(speakers_of(data).get("roles_known"))


def team_averages(tenant, membership: Membership | None, limit: int = 200) -> dict[str, float]:
    """Mean metrics over the member's visible analysed calls (for "metrics beside the team's").

    Calls whose roles are unknown or uncertain are left out: their "agent" figures may be the
    customer's, and their speakers are ``speaker1``/``speaker2`` or ``unknown``.
    """
    ids = list(
        visible_calls(tenant, membership)
        .filter(status=CallStatus.ANALYSED, current__isnull=False)
        .order_by("-created_at")
        .values_list("current_id", flat=True)[:limit]
    )
    totals: dict[str, list[float]] = {}
    for data in CallAnalysisResult.objects.filter(pk__in=ids).values_list("data", flat=True):
        if not roles_known(data):
            continue
        metrics = (data.get("insights") or {}).get("metrics") or {}
        for name, value in flat_metrics(metrics).items():
            totals.setdefault(name, []).append(value)
    return {name: round(sum(values) / len(values), 3) for name, values in totals.items() if values}


# How each flat metric reads to a person: its label and how its number is shown.
METRICS = {
    "talk_ratio": ("Talk ratio", "percent"),
    "words_per_minute": ("Words per minute", "whole"),
    "questions": ("Questions asked", "whole"),
    "interruptions": ("Interruptions", "whole"),
    "silence_ratio": ("Silence", "percent"),
    "patience": ("Patience before replying", "seconds"),
    "longest_monologue": ("Longest monologue", "seconds"),
}


# Speakers whose role is not known, as a person reads them.
SPEAKER_NAMES = {"speaker1": "Speaker 1", "speaker2": "Speaker 2", "unknown": "unknown speaker"}


def speaker_name(speaker: str) -> str:
    """``agent`` and ``customer`` as they are; ``speaker1`` → ``Speaker 1``."""
    return SPEAKER_NAMES.get(speaker, speaker)


def metric_label(name: str) -> str:
    """``talk_ratio.agent`` → ``Talk ratio (agent)``; ``talk_ratio.speaker1`` → ``Talk ratio (Speaker 1)``."""
    base, _, speaker = name.partition(".")
    label = METRICS.get(base, (base.replace("_", " ").capitalize(), ""))[0]
    return f"{label} ({speaker_name(speaker)})" if speaker else label


def format_metric(name: str, value: float | None) -> str:
    """``0.41`` → ``41%`` for ratios, whole numbers for counts and rates, seconds with one decimal."""
    if value is None:
        return "—"
    kind = METRICS.get(name.partition(".")[0], ("", ""))[1]
    if kind == "percent":
        return f"{value:.0%}"
    if kind == "whole":
        return f"{value:.0f}" if float(value).is_integer() or value >= 10 else f"{value:.1f}"
    if kind == "seconds":
        return f"{value:.1f} s"
    return f"{value:g}"


def metric_rows(metrics: dict[str, Any], team: dict[str, float] | None = None) -> list[dict[str, str]]:
    """The call's metrics in the order of ``METRICS`` with labels, beside the team's averages."""
    flat = flat_metrics(metrics)
    order = list(METRICS)
    names = sorted(flat, key=lambda n: (order.index(n.partition(".")[0]) if n.partition(".")[0] in order else 99, n))
    team = team or {}
    return [
        {"name": name, "label": metric_label(name), "value": format_metric(name, flat[name]),
         "team": format_metric(name, team.get(name))}
        for name in names
    ]  # fmt: skip


def flat_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    """Per-speaker and call-wide metrics as flat ``name.speaker`` numbers."""
    flat: dict[str, float] = {}
    for speaker, value in (metrics.get("talk_ratio") or {}).items():
        flat[f"talk_ratio.{speaker}"] = float(value)
    for speaker, value in (metrics.get("words_per_minute") or {}).items():
        flat[f"words_per_minute.{speaker}"] = float(value)
    for speaker, value in (metrics.get("questions") or {}).items():
        flat[f"questions.{speaker}"] = float(value)
    for speaker, value in (metrics.get("interruptions") or {}).items():
        flat[f"interruptions.{speaker}"] = float(value)
    if metrics.get("silence_ratio") is not None:
        flat["silence_ratio"] = float(metrics["silence_ratio"])
    if metrics.get("patience") is not None:
        flat["patience"] = float(metrics["patience"])
    if (metrics.get("longest_monologue") or {}).get("seconds") is not None:
        flat["longest_monologue"] = float(metrics["longest_monologue"]["seconds"])
    return flat


def filter_calls(qs: QuerySet, filters: dict[str, Any]) -> QuerySet:
    """List filters shared by the API and the call list page (bad values raise ValidationError)."""
    errors: dict[str, list[str]] = {}
    # date_before is exclusive (a report's drill-down: the instant its period or week ends)
    for name, lookup in (
        ("date_from", "created_at__gte"),
        ("date_to", "created_at__lte"),
        ("date_before", "created_at__lt"),
    ):
        value = filters.get(name)
        if value:
            parsed = parse_datetime(str(value)) or _date(str(value), end=name == "date_to")
            if parsed is None:
                errors[name] = ["A date such as 2026-01-31"]
            else:
                qs = qs.filter(
                    Q(started_at__isnull=False, **{lookup.replace("created_at", "started_at"): parsed})
                    | Q(started_at__isnull=True, **{lookup: parsed})
                )
    if filters.get("agent_id"):
        try:
            qs = qs.filter(agent_id=uuid.UUID(str(filters["agent_id"])))
        except ValueError:
            errors["agent_id"] = ["Not a member id"]
    if filters.get("contact_id"):
        try:
            qs = qs.filter(contact_id=uuid.UUID(str(filters["contact_id"])))
        except ValueError:
            errors["contact_id"] = ["Not a contact id"]
    if filters.get("direction"):
        if filters["direction"] not in Direction.values:
            errors["direction"] = ["inbound or outbound"]
        else:
            qs = qs.filter(direction=filters["direction"])
    for name, lookup in (
        ("min_duration", "duration__gte"),
        ("max_duration", "duration__lte"),
        ("min_sentiment", "sentiment__gte"),
        ("max_sentiment", "sentiment__lte"),
    ):
        value = filters.get(name)
        if value not in (None, ""):
            try:
                qs = qs.filter(**{lookup: float(value)})
            except (TypeError, ValueError):
                errors[name] = ["A number"]
    if filters.get("sentiment"):
        bands = {
            "positive": Q(sentiment__gte=0.05),
            "negative": Q(sentiment__lte=-0.05),
            "neutral": Q(sentiment__gt=-0.05, sentiment__lt=0.05),
        }
        if filters["sentiment"] not in bands:
            errors["sentiment"] = ["positive, neutral or negative"]
        else:
            qs = qs.filter(bands[filters["sentiment"]])
    if filters.get("review_state"):
        if filters["review_state"] not in ReviewState.values:
            errors["review_state"] = [", ".join(ReviewState.values)]
        else:
            qs = qs.filter(review_state=filters["review_state"])
    if filters.get("status"):
        if filters["status"] not in CallStatus.values:
            errors["status"] = [", ".join(CallStatus.values)]
        else:
            qs = qs.filter(status=filters["status"])
    if filters.get("outcome"):
        if filters["outcome"] not in CallOutcome.values:
            errors["outcome"] = [", ".join(CallOutcome.values)]
        else:
            qs = qs.filter(outcome=filters["outcome"])
    if filters.get("tracker"):
        try:
            tracker_id = uuid.UUID(str(filters["tracker"]))
        except ValueError:
            errors["tracker"] = ["Not a tracker id"]
        else:  # the calls are the tenant's already: another tenant's tracker finds none
            qs = qs.filter(pk__in=TrackerHit.objects.filter(tracker_id=tracker_id).values("call_id"))
    if filters.get("keyword"):
        from octopushx.calls import search

        qs = qs.filter(pk__in=search.matching_call_ids(qs, filters["keyword"]))
    if errors:
        raise ValidationError(errors)
    return qs


def _date(text: str, *, end: bool) -> datetime | None:
    from django.utils.dateparse import parse_date

    day = parse_date(text)
    if day is None:
        return None
    moment = datetime.combine(day, datetime.max.time() if end else datetime.min.time())
    return timezone.make_aware(moment, timezone.get_current_timezone())
