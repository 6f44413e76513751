"""Octopush Shield in Octopush Studio: privacy requests as workflow records and triggers.

A run about a privacy request carries no personal data of the requester: kind, state, due date
and a link are enough to tell the people who handle it.
"""

from __future__ import annotations

from octopushx.core.automation import RecordType, Trigger, Var, record_type, trigger
from octopushx.core.links import record_path
from octopushx.shield.privacy.models import PrivacyRequest, RequestKind, RequestState


def _load(tenant, record_id: str) -> dict | None:
    request = PrivacyRequest.objects.for_tenant(tenant).filter(pk=record_id).first()
    if request is None:
        return None
    return {
        "id": str(request.pk),
        "kind": request.kind,
        "kind_label": request.get_kind_display(),
        "state": request.state,
        "source": request.source,
        "due_at": request.due_at.isoformat() if request.due_at else None,
        "created_at": request.created_at.isoformat(),
        "url": record_path("shield:privacy_request", request.pk),
    }


record_type(
    RecordType(
        name="privacy_request",
        label="Privacy request",
        variables={
            "id": Var("Id", "id"),
            "kind": Var("Kind", "choice", tuple(RequestKind.choices)),
            "kind_label": Var("Kind (in words)"),
            "state": Var("State", "choice", tuple(RequestState.choices)),
            "source": Var("Source"),
            "due_at": Var("Legal due date", "datetime"),
            "created_at": Var("Received", "datetime"),
            "url": Var("Link"),
        },
        load=_load,
        sample={
            "id": "00000000-0000-0000-0000-000000000006",
            "kind": "access",
            "kind_label": "Access",
            "state": "received",
            "source": "public",
            "due_at": "2026-02-05T09:30:00+00:00",
            "created_at": "2026-01-05T09:30:00+00:00",
            "url": "/shield/privacy/",
        },
        describe=lambda v: f"{v.get('kind_label', 'Privacy')} request",
    )
)
trigger(Trigger(event="privacy_request.created", label="Privacy request received", record_type="privacy_request",
                id_key="request_id"))  # fmt: skip
