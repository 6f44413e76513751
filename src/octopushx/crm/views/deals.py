"""Deal pages: list, bulk actions, detail, create, edit, delete, and the pipeline board."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Sum
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from octopushx.core.models import AuditEntry
from octopushx.crm import services
from octopushx.crm.fields import display_money
from octopushx.crm.models import Deal, ObjectType, Pipeline, Stage, StageKind
from octopushx.crm.views._shared import _back, _errors_text
from octopushx.crm.views.lists import _bulk, _listing
from octopushx.crm.views.records import _delete, _detail, _form_view
from octopushx.crm.visibility import crm_settings, get_visible, visible
from octopushx.tenancy.roles import Perm, has_perm
from octopushx.tenancy.views import requires

# Its forms show a forbidden character as an error on the field (core.text.FormTextMiddleware).
FORMS_CHECK_TEXT = True


@requires(Perm.READ)
def deal_list(request):
    qs = visible(Deal, request.tenant, request.membership).select_related("stage", "company", "owner")
    context = _listing(request, ObjectType.DEAL, qs)
    stages = (
        Stage.objects.for_tenant(request.tenant).select_related("pipeline").order_by("pipeline__position", "position")
    )
    context.update(
        title="Deals",
        new_url=reverse("crm:deal_new"),
        bulk_url=reverse("crm:deals_bulk"),
        stages=stages,
        statuses=StageKind.choices,
    )
    return render(request, "crm/list.html", context)


@requires(Perm.READ)
@require_POST
def deals_bulk(request):
    return _bulk(request, ObjectType.DEAL)


@requires(Perm.READ)
def deal_detail(request, deal_id):
    deal = get_visible(Deal, request.tenant, request.membership, deal_id)
    contacts = deal.contacts.all()
    related = [
        {
            "title": "Contacts",
            "icon": "users",
            "rows": [
                (c.full_name, reverse("crm:contact", args=[c.pk]), " · ".join(p for p in (c.job_title, c.email) if p))
                for c in contacts
            ],
        }
    ]
    if deal.company_id:
        related.insert(
            0,
            {
                "title": "Company",
                "icon": "building",
                "rows": [(str(deal.company), reverse("crm:company", args=[deal.company_id]), deal.company.domain)],
            },
        )
    stages = deal.pipeline.stages.all()
    return _detail(request, ObjectType.DEAL, deal, related, {"stages": stages})


@requires(Perm.WRITE)
def deal_new(request):
    services.default_pipeline(request.tenant)
    return _form_view(request, ObjectType.DEAL)


@requires(Perm.WRITE)
def deal_edit(request, deal_id):
    return _form_view(request, ObjectType.DEAL, get_visible(Deal, request.tenant, request.membership, deal_id))


@requires(Perm.DELETE)
def deal_delete(request, deal_id):
    return _delete(request, ObjectType.DEAL, get_visible(Deal, request.tenant, request.membership, deal_id))


# An open deal with no stage change for this many days is marked stale on the board.
STALE_DAYS = 30
BOARD_LIMIT = 2000


def _stage_totals(tenant, membership, pipeline) -> dict[str, dict]:
    """Per stage: how many deals and their sum, as a number ("12500.00") and as people read it ("£12,500")."""
    rows = (
        visible(Deal, tenant, membership)
        .filter(pipeline=pipeline)
        .values("stage_id")
        .annotate(count=Count("id"), total=Sum("value"))
    )
    currency = crm_settings(tenant).default_currency
    totals = {
        str(s.pk): {"count": 0, "total": "0.00", "text": display_money(0, currency)} for s in pipeline.stages.all()
    }
    for row in rows:
        total = row["total"] or Decimal(0)
        totals[str(row["stage_id"])] = {
            "count": row["count"],
            "total": f"{total:.2f}",
            "text": display_money(total, currency),
        }
    return totals


def _stage_since(tenant, deals: list[Deal]) -> dict[str, datetime]:
    """When each deal last changed stage (from the audit trail), else when it was created."""
    since = {str(d.pk): d.created_at for d in deals}
    ids = list(since)
    for start in range(0, len(ids), 500):  # well under any database's limit on bound parameters
        rows = (
            AuditEntry.objects.filter(
                tenant=tenant, object_type="deal", action="deal.stage_changed", object_id__in=ids[start : start + 500]
            )
            .values("object_id")
            .annotate(last=Max("at"))
        )
        for row in rows:
            since[row["object_id"]] = max(since[row["object_id"]], row["last"])
    return since


def _initials(user) -> str:
    name = user.display_name if user else ""
    parts = [p for p in name.replace(".", " ").split() if p]
    return "".join(p[0] for p in parts[:2]).upper() or "?"


def _card(deal: Deal, since: datetime, now: datetime) -> dict:
    days = max((now - since).days, 0)
    is_open = deal.status == StageKind.OPEN
    return {
        "deal": deal,
        "value": display_money(deal.value, deal.currency),
        "owner": str(deal.owner) if deal.owner else "",
        "initials": _initials(deal.owner) if deal.owner else "",
        "days": days,
        "stale": is_open and days >= STALE_DAYS,
        "overdue": is_open and deal.expected_close is not None and deal.expected_close < now.date(),
    }


def _board(request, pipeline):
    deals = list(
        visible(Deal, request.tenant, request.membership)
        .filter(pipeline=pipeline)
        .select_related("company", "owner")
        .order_by("-updated_at")[:BOARD_LIMIT]
    )
    since = _stage_since(request.tenant, deals)
    now = timezone.now()
    by_stage: dict = {}
    for deal in deals:
        by_stage.setdefault(deal.stage_id, []).append(_card(deal, since[str(deal.pk)], now))
    totals = _stage_totals(request.tenant, request.membership, pipeline)
    columns = [{"stage": s, "cards": by_stage.get(s.pk, []), **totals[str(s.pk)]} for s in pipeline.stages.all()]
    return render(
        request,
        "crm/board.html",
        {
            "pipeline": pipeline,
            "columns": columns,
            "pipelines": Pipeline.objects.for_tenant(request.tenant),
            "currency": crm_settings(request.tenant).default_currency,
            "can_write": has_perm(request.membership.role, Perm.WRITE),
            "stale_days": STALE_DAYS,
            "truncated": len(deals) >= BOARD_LIMIT,
        },
    )


@requires(Perm.READ)
def board(request):
    return _board(request, services.default_pipeline(request.tenant))


@requires(Perm.READ)
def pipeline_board(request, pipeline_id):
    return _board(request, Pipeline.objects.get_for_tenant(request.tenant, pipeline_id))


@requires(Perm.WRITE)
@require_POST
def deal_move(request, deal_id):
    """Drag and drop on the board (JSON for the script, a redirect for the plain form)."""
    deal = get_visible(Deal, request.tenant, request.membership, deal_id)
    try:
        services.move_deal(request.tenant, request.actor, deal, request.POST.get("stage_id"))
    except ValidationError as exc:
        if request.headers.get("Accept", "").startswith("application/json"):
            return JsonResponse({"detail": "The deal was not moved", "errors": exc.message_dict}, status=422)
        messages.error(request, _errors_text(exc))
        return redirect("crm:pipeline_board", pipeline_id=deal.pipeline_id)
    if request.headers.get("Accept", "").startswith("application/json"):
        deal.refresh_from_db()
        return JsonResponse(
            {
                "deal_id": str(deal.pk),
                "stage_id": str(deal.stage_id),
                "status": deal.status,
                "totals": _stage_totals(request.tenant, request.membership, deal.pipeline),
            }
        )
    return redirect(_back(request, reverse("crm:pipeline_board", args=[deal.pipeline_id])))
