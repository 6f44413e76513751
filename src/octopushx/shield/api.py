"""API: the audit trail (owners, admins, auditors)."""

from __future__ import annotations

from datetime import datetime

from ninja import Query, Router, Schema

from octopushx.api.auth import require
from octopushx.api.pagination import paginate
from octopushx.shield import services
from octopushx.tenancy.roles import Perm

router = Router(tags=["audit"])


class AuditOut(Schema):
    seq: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    changes: dict
    ip: str | None
    user_agent: str

    @staticmethod
    def resolve_actor(obj):
        return obj.personal.actor_label

    @staticmethod
    def resolve_changes(obj):
        return obj.personal.changes

    @staticmethod
    def resolve_ip(obj):
        return obj.personal.ip

    @staticmethod
    def resolve_user_agent(obj):
        return obj.personal.user_agent


class AuditPage(Schema):
    items: list[AuditOut]
    next: str | None


class VerifyOut(Schema):
    ok: bool
    checked: int
    broken_seq: int | None
    reason: str


@router.get("/audit", response=AuditPage, summary="Audit entries, newest first")
def list_audit(request, filters: Query[services.AuditFilter], cursor: str | None = None, limit: int = 50):
    require(request, Perm.AUDIT)
    qs = services.filtered_entries(request.tenant, filters)
    items, next_cursor = paginate(qs, cursor=cursor, limit=limit, field="seq")
    return {"items": items, "next": next_cursor}


@router.get("/audit/verify", response=VerifyOut, summary="Check the organisation's hash chain")
def verify_audit(request):
    require(request, Perm.AUDIT)
    from octopushx.core import audit

    result = audit.verify(request.tenant)
    return {"ok": result.ok, "checked": result.checked, "broken_seq": result.broken_seq, "reason": result.reason}
