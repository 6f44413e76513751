"""Home panels from the CRM: the member's tasks for today and their deals about to close."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Q, Sum
from django.utils import timezone

from octopushx.core.home import panel
from octopushx.crm.models import Deal, StageKind, Task, TaskStatus
from octopushx.crm.visibility import visible

CLOSING_WITHIN = timedelta(days=30)
SHOWN = 6


@panel("home/tasks.html", order=10)
def my_tasks(request) -> dict:
    now = timezone.now()
    end_of_today = timezone.localtime(now).replace(hour=23, minute=59, second=59)
    mine = visible(Task, request.tenant, request.membership).filter(assignee=request.user, status=TaskStatus.OPEN)
    counts = mine.aggregate(
        open=Count("pk"),
        overdue=Count("pk", filter=Q(due_at__lt=now)),
        today=Count("pk", filter=Q(due_at__gte=now, due_at__lte=end_of_today)),
        dated=Count("pk", filter=Q(due_at__isnull=False)),
    )
    upcoming = mine.exclude(due_at__isnull=True).select_related("contact", "company", "deal").order_by("due_at")
    tasks = list(upcoming[:SHOWN])
    # The list shows the first few; the badges count all, and say how many more wait behind "see all".
    return {
        "counts": counts,
        "tasks": tasks,
        "now": now,
        "dated": counts["dated"],
        "more": counts["dated"] > len(tasks),
    }


@panel("home/deals.html", order=30)
def closing_deals(request) -> dict:
    today = timezone.localdate()
    deals = (
        visible(Deal, request.tenant, request.membership)
        .filter(owner=request.user, status=StageKind.OPEN, expected_close__lte=today + CLOSING_WITHIN)
        .select_related("stage", "company")
        .order_by("expected_close")
    )
    totals = list(deals.values("currency").annotate(total=Sum("value"), count=Count("pk")).order_by("-total"))
    shown_of = sum(total["count"] for total in totals)
    return {
        "deals": list(deals[:SHOWN]),
        "totals": totals,
        "shown_of": shown_of,
        "today": today,
        "within": CLOSING_WITHIN.days,
    }
