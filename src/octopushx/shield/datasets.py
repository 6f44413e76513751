"""Octopush Shield's reportable datasets, for roles that audit only: privacy (data-subject) requests,
retention purges and security alerts.

Owners, admins and auditors read them (``Perm.AUDIT``); any other role gets ``PermissionDenied`` (403).
Only kinds, states, counts and dates are columns: never a requester's email or phone, never an alert's
summary (it names people). Drill-downs go to Shield's own pages with the same filter: the privacy
queue, the audit trail's purge entries, the security page's alerts.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, Case, FloatField, Q, Value, When
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone

from octopushx.core.datasets import Dataset, Field, register
from octopushx.shield.monitoring.models import AlertKind, SecurityAlert
from octopushx.shield.privacy.models import PrivacyRequest, RequestKind, RequestSource, RequestState
from octopushx.shield.retention import registry as retention_registry
from octopushx.shield.retention.models import RetentionRun
from octopushx.tenancy.roles import Perm, has_perm

OPEN_STATES = (RequestState.RECEIVED, RequestState.VERIFIED, RequestState.IN_PROGRESS)


def _auditors_only(membership, what: str) -> None:
    if membership is None or not has_perm(membership.role, Perm.AUDIT):
        raise PermissionDenied(f"{what} are reported to owners, admins and auditors only")


def _rows(tenant, membership):
    _auditors_only(membership, "Privacy requests")
    return PrivacyRequest.objects.for_tenant(tenant)


def _instant(value) -> str:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else str(value)


def _link(url_name: str, params: dict[str, dict[str, str]], fixed: tuple[tuple[str, str], ...] = ()):
    """A drill-down builder: each (field, op) the page understands maps to its query parameter; any other
    filter means the page cannot show exactly these records (no link)."""

    def build(filters: list[dict]) -> str | None:
        query: dict[str, str] = dict(fixed)
        for f in filters:
            name = params.get(f["field"], {}).get(f["op"])
            value = f.get("value")
            if name is None or value is None:
                return None
            if isinstance(value, list):
                value = ",".join(str(v) for v in value)
            elif isinstance(value, bool):
                value = "true" if value else "false"
            query[name] = _instant(value)
        url = reverse(url_name)
        return f"{url}?{urlencode(query)}" if query else url

    return build


def _overdue(tenant):
    """Open and past its legal due date, now."""
    return Case(
        When(Q(state__in=OPEN_STATES, due_at__lt=timezone.now()), then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )


def _choices(enum) -> tuple[tuple[str, str], ...]:
    return tuple((str(value), str(label)) for value, label in enum.choices)


PRIVACY_REQUESTS = register(
    Dataset(
        name="privacy_requests",
        label="Privacy requests",
        rows=_rows,
        fields={
            "kind": Field("Kind", "choice", choices=_choices(RequestKind)),
            "state": Field("State", "choice", choices=_choices(RequestState)),
            "source": Field("Source", "choice", choices=_choices(RequestSource)),
            "overdue": Field("Overdue (open past its due date)", "bool", annotate=_overdue),
            "due_at": Field("Due", "datetime"),
            "verified_at": Field("Verified", "datetime"),
            "completed_at": Field("Completed", "datetime"),
            "created_at": Field("Received", "datetime"),
        },
        list_url=_link(
            "shield:privacy",
            {
                "state": {"eq": "state", "in": "state"},
                "kind": {"eq": "kind"},
                "overdue": {"eq": "overdue"},
                "due_at": {"gte": "due_after", "lt": "due_before"},
                "created_at": {"gte": "received_after", "lt": "received_before"},
                "completed_at": {"gte": "completed_after", "lt": "completed_before"},
            },
        ),
    )
)


# --- retention purges -------------------------------------------------------------------------


def _purge_rows(tenant, membership):
    """Purge runs that deleted (dry runs left out); ``counts`` holds what each data class lost."""
    _auditors_only(membership, "Retention purges")
    return RetentionRun.objects.for_tenant(tenant).filter(dry_run=False)


def _purged_fields(tenant) -> dict[str, Field]:
    """One number per data class the retention purge knows: the records a run deleted of it."""
    retention_registry.discover()
    return {
        f"purged.{entry.key}": Field(
            f"{entry.label} deleted",
            "number",
            annotate=lambda t, key=entry.key: Cast(KT(f"counts__{key}"), FloatField()),
            groupable=False,
            filterable=False,
        )
        for entry in retention_registry.data_classes().values()
    }


def _purge_link(filters: list[dict]) -> str | None:
    """The audit trail's purge entries over the same days (the audit page filters by whole days)."""
    query = {"action": "retention.purged"}
    for f in filters:
        value = f.get("value")
        if f["field"] != "finished_at" or not isinstance(value, dt.date):
            return None
        day = value.date() if isinstance(value, dt.datetime) else value
        if f["op"] == "gte":
            query["since"] = day.isoformat()
        elif f["op"] == "lt":
            query["until"] = (day - dt.timedelta(days=1)).isoformat()
        elif f["op"] == "lte":
            query["until"] = day.isoformat()
        else:
            return None
    return f"{reverse('shield:audit')}?{urlencode(query)}"


RETENTION_PURGES = register(
    Dataset(
        name="retention_purges",
        label="Retention purges",
        rows=_purge_rows,
        fields={
            "held": Field("Stopped by a legal hold", "bool"),
            "finished_at": Field("Finished", "datetime"),
            "created_at": Field("Started", "datetime"),
        },
        default_date_field="finished_at",
        list_url=_purge_link,
        extra_fields=_purged_fields,
    )
)


# --- security alerts --------------------------------------------------------------------------


def _alert_rows(tenant, membership):
    _auditors_only(membership, "Security alerts")
    return SecurityAlert.objects.for_tenant(tenant)


def _acknowledged(tenant):
    return Case(
        When(acknowledged_at__isnull=False, then=Value(True)), default=Value(False), output_field=BooleanField()
    )


SECURITY_ALERTS = register(
    Dataset(
        name="security_alerts",
        label="Security alerts",
        rows=_alert_rows,
        fields={
            "kind": Field("Kind", "choice", choices=_choices(AlertKind)),
            "acknowledged": Field("Acknowledged", "bool", annotate=_acknowledged),
            "acknowledged_at": Field("Acknowledged at", "datetime"),
            "created_at": Field("Raised", "datetime"),
        },
        list_url=_link(
            "shield:security",
            {
                "kind": {"eq": "alert_kind"},
                "acknowledged": {"eq": "acknowledged"},
                "created_at": {"gte": "raised_after", "lt": "raised_before"},
            },
            fixed=(("alerts", "all"),),
        ),
    )
)
