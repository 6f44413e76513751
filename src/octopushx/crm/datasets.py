"""The CRM's reportable datasets: contacts, companies, deals, tasks and notes.

Rows come through ``crm.visibility`` (the same scoping as the CRM lists), so a report counts exactly
what the member's lists show. Drill-down URLs use the CRM list's query-string filters
(``crm.queries.FILTERS``); a filter the list cannot express leaves the drill-down out.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import urlencode

from django.db.models import (
    DecimalField,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Subquery,
    TextField,
    UUIDField,
    Value,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.urls import reverse

from octopushx.core.datasets import Dataset, Field, register
from octopushx.crm.models import (
    Company,
    Consent,
    Contact,
    CustomField,
    Deal,
    DealStageChange,
    FieldType,
    LeadStatus,
    Lifecycle,
    Note,
    NoteKind,
    ObjectType,
    StageKind,
    Task,
    TaskStatus,
)
from octopushx.crm.visibility import visible
from octopushx.tenancy.models import Membership


def team_of(user_path: str):
    """The team of the member at ``user_path`` in the row's tenant (a subquery: no duplicated rows)."""

    def expression(tenant):
        members = Membership.objects.filter(tenant_id=OuterRef("tenant_id"), user_id=OuterRef(user_path))
        return Subquery(members.values("team_id")[:1], output_field=UUIDField())

    return expression


def _text(key: str):
    """A custom value as text (a bare ``KT`` is compared as JSON: ``= 'pro'`` would not match)."""
    return Cast(KT(f"custom__{key}"), TextField())


def _custom_fields(object_type: str):
    def extra(tenant) -> dict[str, Field]:
        found: dict[str, Field] = {}
        for cf in CustomField.objects.for_tenant(tenant).filter(object_type=object_type):
            name = f"cf.{cf.key}"
            if cf.field_type in (FieldType.NUMBER, FieldType.CURRENCY):
                found[name] = Field(
                    cf.label, "number", annotate=lambda t, key=cf.key: Cast(KT(f"custom__{key}"), FloatField())
                )
            elif cf.field_type == FieldType.SELECT:
                choices = tuple((str(o), str(o)) for o in (cf.options or []))
                found[name] = Field(cf.label, "choice", choices=choices, annotate=lambda t, key=cf.key: _text(key))
            elif cf.field_type == FieldType.DATE:
                found[name] = Field(cf.label, "text", annotate=lambda t, key=cf.key: _text(key))
            elif cf.field_type in (FieldType.TEXT, FieldType.BOOLEAN, FieldType.URL, FieldType.EMAIL, FieldType.PHONE):
                found[name] = Field(
                    cf.label,
                    "text",
                    groupable=cf.field_type == FieldType.BOOLEAN,
                    annotate=lambda t, key=cf.key: _text(key),
                )
        return found

    return extra


# dataset field -> {op: CRM list query parameter}; the list's own vocabulary (crm.queries.FILTERS)
LIST_PARAMS: dict[str, dict[str, dict[str, str]]] = {
    ObjectType.CONTACT: {
        "owner": {"eq": "owner_id"},
        "company": {"eq": "company_id"},
        "lifecycle_stage": {"eq": "lifecycle_stage"},
        "lead_status": {"eq": "lead_status"},
        "consent": {"eq": "consent"},
        "restricted": {"eq": "restricted"},
        "country": {"eq": "country"},
        "tag": {"eq": "tag"},
        "created_at": {"gte": "created_after", "lt": "created_before"},
    },
    ObjectType.COMPANY: {
        "owner": {"eq": "owner_id"},
        "size": {"eq": "size"},
        "country": {"eq": "country"},
        "tag": {"eq": "tag"},
        "created_at": {"gte": "created_after", "lt": "created_before"},
    },
    ObjectType.DEAL: {
        "owner": {"eq": "owner_id"},
        "pipeline": {"eq": "pipeline_id"},
        "stage": {"eq": "stage_id"},
        "company": {"eq": "company_id"},
        "status": {"eq": "status"},
        "currency": {"eq": "currency"},
        "value": {"gte": "value_min", "lte": "value_max"},
        "expected_close": {
            "gte": "expected_close_after",
            "lte": "expected_close_before",
            "is_empty": "no_expected_close",
        },
        "tag": {"eq": "tag"},
        "created_at": {"gte": "created_after", "lt": "created_before"},
        "closed_at": {"gte": "closed_after", "lt": "closed_before"},
        "last_activity_at": {"gte": "active_after", "lt": "quiet_since"},
        "reached_stages": {"eq": "reached_stage_ids"},  # not a dataset field: the funnels' steps
    },
    # the task and note lists (crm.queries.ACTIVITY_FILTERS; the task list's status is ``show``)
    "task": {
        "assignee": {"eq": "assignee_id"},
        "status": {"eq": "show"},
        "created_at": {"gte": "created_after", "lt": "created_before"},
        "completed_at": {"gte": "completed_after", "lt": "completed_before"},
        "due_at": {"gte": "due_after", "lt": "due_before"},
    },
    "note": {
        "author": {"eq": "author_id"},
        "kind": {"eq": "kind"},
        "created_at": {"gte": "created_after", "lt": "created_before"},
    },
}


def _list_url(object_type: str, url_name: str, defaults: tuple[tuple[str, str], ...] = ()):
    """``defaults``: parameters the list needs to show every visible record (the task list shows the
    viewer's open tasks unless told otherwise)."""
    params = LIST_PARAMS[object_type]

    def build(filters: list[dict]) -> str | None:
        query: dict[str, object] = {}
        for f in filters:
            name = params.get(f["field"], {}).get(f["op"])
            value = True if f["op"] == "is_empty" else f.get("value")
            if f["op"] == "lte" and f["field"] == "created_at" and type(value) is dt.date:
                # the list's created_before is exclusive: the day after the period's last day
                name = params["created_at"]["lt"]
                value = (value.date() if isinstance(value, dt.datetime) else value) + dt.timedelta(days=1)
            if name is None or value is None or value == "":
                return None  # the list cannot show exactly these records
            if name in query and query[name] != value:
                # two bounds on one field (a week inside the period): the narrower one
                if name.endswith(("_after", "_min")):
                    value = max(query[name], value)
                elif name.endswith(("_before", "_max")):
                    value = min(query[name], value)
                else:
                    return None
            query[name] = value
        for name, value in defaults:
            query.setdefault(name, value)
        shown = []
        for name, value in query.items():
            if isinstance(value, bool):
                value = "true" if value else "false"
            elif isinstance(value, dt.datetime | dt.date):
                value = value.isoformat()
            shown.append((name, str(value)))
        url = reverse(f"crm:{url_name}")
        return f"{url}?{urlencode(shown)}" if shown else url

    return build


def _choices(enum) -> tuple[tuple[str, str], ...]:
    return tuple((str(value), str(label)) for value, label in enum.choices)


CONTACTS = register(
    Dataset(
        name="contacts",
        label="Contacts",
        rows=lambda tenant, membership: visible(Contact, tenant, membership),
        fields={
            "owner": Field("Owner", "user", expr="owner_id"),
            "team": Field("Team", "team", annotate=team_of("owner_id")),
            "company": Field("Company", "fk", expr="company_id", label_expr="company__name"),
            "lifecycle_stage": Field("Lifecycle stage", "choice", choices=_choices(Lifecycle)),
            "lead_status": Field("Lead status", "choice", choices=_choices(LeadStatus)),
            "consent": Field("Consent", "choice", choices=_choices(Consent)),
            "restricted": Field("Restricted", "bool"),
            "country": Field("Country", "text"),
            "city": Field("City", "text"),
            "job_title": Field("Job title", "text", groupable=False),
            "preferred_language": Field("Language", "text"),
            "tag": Field("Tag", "tag", expr="tags__name"),
            "created_at": Field("Created", "datetime"),
            "updated_at": Field("Updated", "datetime"),
        },
        list_url=_list_url(ObjectType.CONTACT, "contacts"),
        extra_fields=_custom_fields(ObjectType.CONTACT),
    )
)

COMPANIES = register(
    Dataset(
        name="companies",
        label="Companies",
        rows=lambda tenant, membership: visible(Company, tenant, membership),
        fields={
            "owner": Field("Owner", "user", expr="owner_id"),
            "team": Field("Team", "team", annotate=team_of("owner_id")),
            "industry": Field("Industry", "text"),
            "size": Field("Size", "text"),
            "country": Field("Country", "text"),
            "city": Field("City", "text"),
            "tag": Field("Tag", "tag", expr="tags__name"),
            "created_at": Field("Created", "datetime"),
            "updated_at": Field("Updated", "datetime"),
        },
        list_url=_list_url(ObjectType.COMPANY, "companies"),
        extra_fields=_custom_fields(ObjectType.COMPANY),
    )
)

DEALS = register(
    Dataset(
        name="deals",
        label="Deals",
        rows=lambda tenant, membership: visible(Deal, tenant, membership),
        fields={
            "value": Field("Value", "money"),
            "weighted_value": Field(
                "Weighted value (value × stage probability)",
                "money",
                annotate=lambda tenant: ExpressionWrapper(
                    F("value") * F("stage__probability") * Value(Decimal("0.01")),
                    output_field=DecimalField(max_digits=18, decimal_places=4),
                ),
                filterable=False,
            ),
            "probability": Field("Stage probability (%)", "number", expr="stage__probability"),
            "currency": Field("Currency", "text"),
            "pipeline": Field("Pipeline", "fk", expr="pipeline_id", label_expr="pipeline__name"),
            "stage": Field("Stage", "fk", expr="stage_id", label_expr="stage__name", order_expr="stage__position"),
            "status": Field("Status", "choice", choices=_choices(StageKind)),
            "owner": Field("Owner", "user", expr="owner_id"),
            "team": Field("Team", "team", annotate=team_of("owner_id")),
            "company": Field("Company", "fk", expr="company_id", label_expr="company__name"),
            "tag": Field("Tag", "tag", expr="tags__name"),
            "expected_close": Field("Expected close", "date"),
            "closed_at": Field("Closed", "datetime"),
            "last_activity_at": Field("Last activity", "datetime"),
            "created_at": Field("Created", "datetime"),
            "updated_at": Field("Updated", "datetime"),
        },
        list_url=_list_url(ObjectType.DEAL, "deals"),
        currency_field="currency",
        extra_fields=_custom_fields(ObjectType.DEAL),
    )
)

TASKS = register(
    Dataset(
        name="tasks",
        label="Tasks",
        rows=lambda tenant, membership: visible(Task, tenant, membership),
        fields={
            "assignee": Field("Assignee", "user", expr="assignee_id"),
            "team": Field("Team", "team", annotate=team_of("assignee_id")),
            "status": Field("Status", "choice", choices=_choices(TaskStatus)),
            "due_at": Field("Due", "datetime"),
            "completed_at": Field("Completed", "datetime"),
            "created_at": Field("Created", "datetime"),
            "updated_at": Field("Updated", "datetime"),
        },
        list_url=_list_url("task", "tasks", (("whose", "all"), ("show", "all"))),
    )
)

NOTES = register(
    Dataset(
        name="notes",
        label="Notes",
        rows=lambda tenant, membership: visible(Note, tenant, membership),
        fields={
            "author": Field("Author", "user", expr="author_id"),
            "team": Field("Team", "team", annotate=team_of("author_id")),
            "kind": Field("Kind", "choice", choices=_choices(NoteKind)),
            "created_at": Field("Created", "datetime"),
        },
        list_url=_list_url("note", "notes"),
    )
)


def _stage_changes(tenant, membership):
    """Moves of the deals the member may see (the deal's visibility, not the mover's)."""
    deals = visible(Deal, tenant, membership)
    return DealStageChange.objects.for_tenant(tenant).filter(deal_id__in=deals.values("pk"))


STAGE_CHANGES = register(
    Dataset(
        name="deal_stage_changes",
        label="Deal stage history",
        rows=_stage_changes,
        fields={
            "deal": Field("Deal", "fk", expr="deal_id", label_expr="deal__name"),
            "owner": Field("Deal owner", "user", expr="deal__owner_id"),
            "team": Field("Team", "team", annotate=team_of("deal__owner_id")),
            "pipeline": Field("Pipeline", "fk", expr="pipeline_id", label_expr="pipeline__name"),
            "from_stage": Field(
                "From stage",
                "fk",
                expr="from_stage_id",
                label_expr="from_stage_name",
                order_expr="from_stage__position",
            ),
            "to_stage": Field(
                "To stage", "fk", expr="to_stage_id", label_expr="to_stage_name", order_expr="to_stage__position"
            ),
            "to_kind": Field("Reached", "choice", choices=_choices(StageKind)),
            "actor": Field("Moved by", "user", expr="actor_id"),
            "changed_at": Field("Moved", "datetime"),
        },
        default_date_field="changed_at",
        list_url=None,
    )
)
