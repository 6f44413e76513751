"""Octopush Shield's reportable dataset: privacy (data-subject) requests, for roles that audit only.

Owners, admins and auditors read it (``Perm.AUDIT``); any other role gets ``PermissionDenied`` (403).
Only the request's kind, state, source and dates are columns: never the requester's email or phone.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, Case, Q, Value, When
from django.utils import timezone

from octopushx.core.datasets import Dataset, Field, register
from octopushx.shield.privacy.models import PrivacyRequest, RequestKind, RequestSource, RequestState
from octopushx.tenancy.roles import Perm, has_perm

OPEN_STATES = (RequestState.RECEIVED, RequestState.VERIFIED, RequestState.IN_PROGRESS)


def _rows(tenant, membership):
    if membership is None or not has_perm(membership.role, Perm.AUDIT):
        raise PermissionDenied("Privacy requests are reported to owners, admins and auditors only")
    return PrivacyRequest.objects.for_tenant(tenant)


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
        list_url=None,
    )
)
