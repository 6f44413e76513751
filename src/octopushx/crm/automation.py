"""OctoCRM in Octopush Studio: contacts, companies, deals and tasks as workflow records, the CRM's
events as triggers, and its services as steps (create task, update field, tags, owner, note,
create or update a contact)."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from octopushx.core import memo
from octopushx.core.automation import Action, Param, RecordType, Trigger, Var, action, record_type, restriction, trigger
from octopushx.core.links import record_path
from octopushx.crm import services
from octopushx.crm.models import Company, Consent, Contact, Deal, Lifecycle, Task, TaskStatus
from octopushx.crm.services._shared import member_row, row_key
from octopushx.tenancy.models import Membership
from octopushx.tenancy.roles import Role


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _member(user) -> dict:
    if user is None:
        return {"id": None, "email": "", "name": ""}
    return {"id": str(user.pk), "email": user.email, "name": user.full_name or user.email}


_OWNER_VARS = {
    "owner.id": Var("Owner id", "id"),
    "owner.email": Var("Owner email"),
    "owner.name": Var("Owner name"),
}

# --- contacts ------------------------------------------------------------------------------


def contact_values(contact: Contact, tags: list[str] | None = None) -> dict:
    return {
        "id": str(contact.pk),
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "full_name": " ".join(p for p in (contact.first_name, contact.last_name) if p),
        "email": contact.email,
        "phone": contact.phone,
        "job_title": contact.job_title,
        "company_name": contact.company.name if contact.company_id else "",
        "company_id": str(contact.company_id) if contact.company_id else None,
        "owner": _member(contact.owner),
        "tags": sorted(t.name for t in contact.tags.all()) if tags is None else tags,
        "lifecycle_stage": contact.lifecycle_stage,
        "lead_status": contact.lead_status,
        "consent": contact.consent,
        "preferred_language": contact.preferred_language,
        "restricted": contact.restricted,
        "city": contact.city,
        "country": contact.country,
        "custom": dict(contact.custom),
        "created_at": _iso(contact.created_at),
        "url": record_path("crm:contact", contact.pk),
    }


def _load_contact(tenant, record_id: str) -> dict | None:
    contact = Contact.objects.for_tenant(tenant).select_related("company", "owner").filter(pk=record_id).first()
    if contact is None:
        return None
    tags = sorted(contact.tags.values_list("name", flat=True))
    return contact_values(contact, tags=tags)


def _load_contacts(tenant, record_ids: list[str]) -> dict[str, dict]:
    """Many contacts' variables in two queries (a worker starting a batch of runs)."""
    contacts = list(Contact.objects.for_tenant(tenant).select_related("company", "owner").filter(pk__in=record_ids))
    tags: dict = {contact.pk: [] for contact in contacts}
    for contact_id, name in Contact.tags.through.objects.filter(contact_id__in=list(tags)).values_list(
        "contact_id", "tag__name"
    ):
        tags[contact_id].append(name)
    for contact in contacts:  # the steps that follow (create a task on it, tag it) need not read it again
        memo.keep(row_key(Contact, tenant, contact.pk), contact)
    return {str(contact.pk): contact_values(contact, tags=sorted(tags[contact.pk])) for contact in contacts}


def _search_contacts(tenant, query: str, limit: int) -> list[tuple[str, str]]:
    qs = Contact.objects.for_tenant(tenant)
    if query:
        qs = qs.filter(Q(first_name__icontains=query) | Q(last_name__icontains=query) | Q(email__icontains=query))
    return [(str(c.pk), f"{c.first_name} {c.last_name}".strip() or c.email) for c in qs.order_by("-created_at")[:limit]]


record_type(
    RecordType(
        name="contact",
        label="Contact",
        variables={
            "id": Var("Id", "id"),
            "first_name": Var("First name"),
            "last_name": Var("Last name"),
            "full_name": Var("Full name"),
            "email": Var("Email"),
            "phone": Var("Phone"),
            "job_title": Var("Job title"),
            "company_name": Var("Company name"),
            **_OWNER_VARS,
            "tags": Var("Tags", "list"),
            "lifecycle_stage": Var("Lifecycle stage", "choice", tuple(Lifecycle.choices)),
            "lead_status": Var("Lead status"),
            "consent": Var("Consent", "choice", tuple(Consent.choices)),
            "preferred_language": Var("Preferred language"),
            "city": Var("City"),
            "country": Var("Country"),
            "custom": Var("Custom fields", "object"),
            "created_at": Var("Created", "datetime"),
            "url": Var("Link"),
        },
        load=_load_contact,
        load_many=_load_contacts,
        values_of=contact_values,
        sample={
            "id": "00000000-0000-0000-0000-000000000001",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "full_name": "Ada Lovelace",
            "email": "ada@example.com",
            "phone": "+442079460000",
            "job_title": "Head of Operations",
            "company_name": "Analytical Engines Ltd",
            "company_id": None,
            "owner": {"id": None, "email": "owner@example.com", "name": "Olive Owner"},
            "tags": ["vip"],
            "lifecycle_stage": "lead",
            "lead_status": "new",
            "consent": "granted",
            "preferred_language": "en",
            "restricted": False,
            "city": "London",
            "country": "GB",
            "custom": {},
            "created_at": "2026-01-05T09:30:00+00:00",
            "url": "/crm/contacts/",
        },
        contact_of=lambda tenant, values: values.get("id"),
        url=lambda record_id: record_path("crm:contact", record_id),
        describe=lambda v: v.get("full_name") or v.get("email") or "Contact",
        search=_search_contacts,
    )
)


@restriction
def _contact_restricted(tenant, contact_id: str) -> bool:
    try:
        return Contact.objects.for_tenant(tenant).filter(pk=contact_id, restricted=True).exists()
    except Exception:  # a malformed id is nobody
        return False


# --- companies, deals, tasks ---------------------------------------------------------------


def _load_company(tenant, record_id: str) -> dict | None:
    company = Company.objects.for_tenant(tenant).select_related("owner").filter(pk=record_id).first()
    if company is None:
        return None
    return {
        "id": str(company.pk),
        "name": company.name,
        "domain": company.domain,
        "industry": company.industry,
        "owner": _member(company.owner),
        "custom": dict(company.custom),
        "created_at": _iso(company.created_at),
        "url": record_path("crm:company", company.pk),
    }


def _load_deal(tenant, record_id: str) -> dict | None:
    deal = (
        Deal.objects.for_tenant(tenant)
        .select_related("owner", "stage", "pipeline", "company")
        .prefetch_related("contacts")
        .filter(pk=record_id)
        .first()
    )
    if deal is None:
        return None
    contact = deal.contacts.all().first()
    return {
        "id": str(deal.pk),
        "name": deal.name,
        "value": float(deal.value),
        "currency": deal.currency,
        "stage": deal.stage.name,
        "pipeline": deal.pipeline.name,
        "status": deal.status,
        "expected_close": _iso(deal.expected_close),
        "company_name": deal.company.name if deal.company_id else "",
        "contact_id": str(contact.pk) if contact else None,
        "owner": _member(deal.owner),
        "custom": dict(deal.custom),
        "created_at": _iso(deal.created_at),
        "url": record_path("crm:deal", deal.pk),
    }


def _load_task(tenant, record_id: str) -> dict | None:
    task = Task.objects.for_tenant(tenant).select_related("assignee").filter(pk=record_id).first()
    if task is None:
        return None
    return {
        "id": str(task.pk),
        "title": task.title,
        "description": task.description,
        "due_at": _iso(task.due_at),
        "status": task.status,
        "assignee": _member(task.assignee),
        "owner": _member(task.assignee),
        "contact_id": str(task.contact_id) if task.contact_id else None,
        "overdue": bool(task.due_at and task.due_at < timezone.now() and task.status == TaskStatus.OPEN),
        "created_at": _iso(task.created_at),
    }


def _search(model, field: str):
    def search(tenant, query: str, limit: int) -> list[tuple[str, str]]:
        qs = model.objects.for_tenant(tenant)
        if query:
            qs = qs.filter(**{f"{field}__icontains": query})
        return [(str(row.pk), getattr(row, field)) for row in qs.order_by("-created_at")[:limit]]

    return search


record_type(
    RecordType(
        name="company",
        label="Company",
        variables={
            "id": Var("Id", "id"),
            "name": Var("Name"),
            "domain": Var("Domain"),
            "industry": Var("Industry"),
            **_OWNER_VARS,
            "custom": Var("Custom fields", "object"),
            "created_at": Var("Created", "datetime"),
            "url": Var("Link"),
        },
        load=_load_company,
        sample={
            "id": "00000000-0000-0000-0000-000000000002",
            "name": "Analytical Engines Ltd",
            "domain": "engines.example",
            "industry": "Manufacturing",
            "owner": {"id": None, "email": "owner@example.com", "name": "Olive Owner"},
            "custom": {},
            "created_at": "2026-01-05T09:30:00+00:00",
            "url": "/crm/companies/",
        },
        url=lambda record_id: record_path("crm:company", record_id),
        describe=lambda v: v.get("name") or "Company",
        search=_search(Company, "name"),
    )
)
record_type(
    RecordType(
        name="deal",
        label="Deal",
        variables={
            "id": Var("Id", "id"),
            "name": Var("Name"),
            "value": Var("Value", "number"),
            "currency": Var("Currency"),
            "stage": Var("Stage"),
            "pipeline": Var("Pipeline"),
            "status": Var("Status", "choice", (("open", "Open"), ("won", "Won"), ("lost", "Lost"))),
            "expected_close": Var("Expected close", "date"),
            "company_name": Var("Company name"),
            **_OWNER_VARS,
            "custom": Var("Custom fields", "object"),
            "created_at": Var("Created", "datetime"),
            "url": Var("Link"),
        },
        load=_load_deal,
        sample={
            "id": "00000000-0000-0000-0000-000000000003",
            "name": "Engines renewal",
            "value": 12000.0,
            "currency": "GBP",
            "stage": "Won",
            "pipeline": "Sales",
            "status": "won",
            "expected_close": "2026-02-28",
            "company_name": "Analytical Engines Ltd",
            "contact_id": None,
            "owner": {"id": None, "email": "owner@example.com", "name": "Olive Owner"},
            "custom": {},
            "created_at": "2026-01-05T09:30:00+00:00",
            "url": "/crm/deals/",
        },
        contact_of=lambda tenant, values: values.get("contact_id"),
        url=lambda record_id: record_path("crm:deal", record_id),
        describe=lambda v: v.get("name") or "Deal",
        search=_search(Deal, "name"),
    )
)
record_type(
    RecordType(
        name="task",
        label="Task",
        variables={
            "id": Var("Id", "id"),
            "title": Var("Title"),
            "description": Var("Description"),
            "due_at": Var("Due", "datetime"),
            "status": Var("Status", "choice", tuple(TaskStatus.choices)),
            "overdue": Var("Overdue", "bool"),
            "assignee.id": Var("Assignee id", "id"),
            "assignee.email": Var("Assignee email"),
            "assignee.name": Var("Assignee name"),
            "created_at": Var("Created", "datetime"),
        },
        load=_load_task,
        sample={
            "id": "00000000-0000-0000-0000-000000000004",
            "title": "Send the renewal quote",
            "description": "",
            "due_at": "2026-01-06T09:00:00+00:00",
            "status": "open",
            "overdue": True,
            "assignee": {"id": None, "email": "agent@example.com", "name": "Alex Agent"},
            "owner": {"id": None, "email": "agent@example.com", "name": "Alex Agent"},
            "contact_id": None,
            "created_at": "2026-01-05T09:30:00+00:00",
        },
        contact_of=lambda tenant, values: values.get("contact_id"),
        describe=lambda v: v.get("title") or "Task",
        search=_search(Task, "title"),
    )
)

for event, label, rt, key, watch in (
    ("contact.created", "Contact created", "contact", "contact_id", False),
    ("contact.updated", "Contact updated", "contact", "contact_id", True),
    ("company.created", "Company created", "company", "company_id", False),
    ("company.updated", "Company updated", "company", "company_id", True),
    ("deal.created", "Deal created", "deal", "deal_id", False),
    ("deal.updated", "Deal updated", "deal", "deal_id", True),
    ("deal.stage_changed", "Deal moved to another stage", "deal", "deal_id", False),
    ("deal.won", "Deal won", "deal", "deal_id", False),
    ("deal.lost", "Deal lost", "deal", "deal_id", False),
    ("task.created", "Task created", "task", "task_id", False),
    ("task.completed", "Task completed", "task", "task_id", False),
):
    trigger(Trigger(event=event, label=label, record_type=rt, id_key=key, watch=watch))


# --- who a step assigns to -----------------------------------------------------------------


def resolve_member(tenant, spec: str, record: dict, sequence):
    """A member from ``record_owner``, ``manager`` (the record owner's team manager),
    ``round_robin:<team id>`` or a member's user id; ``None`` when nobody fits."""
    spec = (spec or "record_owner").strip()
    members = Membership.objects.filter(tenant=tenant).select_related("user")
    owner_id = (record.get("owner") or {}).get("id")
    if spec == "record_owner":
        found = member_row(tenant, owner_id) if owner_id else None
        return found.user if found else None
    if spec == "manager":
        own = members.filter(user_id=owner_id).first() if owner_id else None
        if own is None or own.team_id is None:
            return None
        manager = members.filter(team_id=own.team_id, role=Role.MANAGER).order_by("created_at").first()
        return manager.user if manager else None
    if spec.startswith("round_robin:"):
        team = members.filter(team_id=spec.split(":", 1)[1]).exclude(role=Role.AUDITOR).order_by("created_at")
        pool = list(team)
        return pool[sequence() % len(pool)].user if pool else None
    found = members.filter(user_id=spec).first()
    return found.user if found else None


def resolve_or_owner(tenant, spec: str, record: dict, sequence):
    """``resolve_member``, falling back to the record's owner when nobody fits (a team without a
    manager, an empty team); the note says so in the run history."""
    member = resolve_member(tenant, spec, record, sequence)
    if member is not None or spec == "record_owner":
        return member, ""
    owner = resolve_member(tenant, "record_owner", record, sequence)
    if owner is None:
        return None, f"Nobody fits {spec!r} and the record has no owner: left unassigned"
    return owner, f"Nobody fits {spec!r}: assigned to the record's owner"


ASSIGNEE = Param(
    "assignee",
    "Assign to",
    "member",
    help="The record's owner, their team's manager, a team in turn (round robin) or one member",
)


def _link(ctx) -> dict:
    """The ``*_id`` a task or note takes to belong to the run's record (or the person it is about)."""
    if ctx.record_type in ("contact", "company", "deal"):
        return {f"{ctx.record_type}_id": ctx.record_id}
    contact = ctx.record.get("contact_id")
    return {"contact_id": contact} if contact else {}


def _create_task(ctx) -> dict:
    assignee, note = resolve_or_owner(ctx.tenant, ctx.params.get("assignee", "record_owner"), ctx.record, ctx.sequence)
    days = int(ctx.params.get("due_in_days") or 0)
    task = services.create_task(
        ctx.tenant,
        ctx.actor,
        {
            "title": ctx.params["title"],
            "description": ctx.params.get("description", ""),
            "due_at": (timezone.now() + timedelta(days=days)).isoformat()
            if days or "due_in_days" in ctx.params
            else None,
            "assignee_id": str(assignee.pk) if assignee else None,
            **_link(ctx),
        },
    )
    out = {"task_id": str(task.pk), "title": task.title, "assignee": assignee.email if assignee else ""}
    return {**out, "note": note} if note else out


action(
    Action(
        type="create_task",
        label="Create task",
        icon="ti-checkbox",
        record_types=(),
        params=(
            Param("title", "Title", "template"),
            Param("description", "Description", "template", required=False),
            Param("due_in_days", "Due in (days)", "number", required=False),
            ASSIGNEE,
        ),
        run=_create_task,
        batchable=True,
        describe=lambda p: f"Create task “{p.get('title', '')}”",
    )
)

_UPDATABLE = {
    "contact": ("first_name", "last_name", "job_title", "lifecycle_stage", "lead_status", "preferred_language"),
    "company": ("name", "domain", "industry"),
    "deal": ("name", "value", "expected_close"),
    "task": ("title", "description", "status"),
}


def _update_field(ctx) -> dict:
    field = ctx.params["field"]
    value = ctx.params.get("value", "")
    loaders = {"contact": Contact, "company": Company, "deal": Deal, "task": Task}
    model = loaders.get(ctx.record_type)
    if model is None:
        raise ValueError(f"A {ctx.record_type} record has no fields this step can change")
    row = model.objects.for_tenant(ctx.tenant).get(pk=ctx.record_id)
    if field.startswith("custom."):
        data = {"custom_fields": {field.split(".", 1)[1]: value}}
    else:
        if field not in _UPDATABLE[ctx.record_type]:
            raise ValueError(f"The field {field!r} cannot be changed by a workflow")
        data = {field: value}
    old = (row.custom or {}).get(field[7:]) if field.startswith("custom.") else getattr(row, field)
    update = getattr(services, f"update_{ctx.record_type}")
    update(ctx.tenant, ctx.actor, row, data)
    return {"field": field, "old": None if old is None else str(old), "new": value}


def _validate_update(tenant, params: dict) -> dict[str, str]:
    field = params.get("field", "")
    if not field:
        return {"field": "Choose the field to change"}
    known = {f for fields in _UPDATABLE.values() for f in fields}
    if not field.startswith("custom.") and field not in known:
        return {"field": f"Unknown field {field!r}"}
    return {}


action(
    Action(
        type="update_field",
        label="Update a field",
        icon="ti-pencil",
        record_types=("contact", "company", "deal", "task"),
        params=(Param("field", "Field", "field"), Param("value", "New value", "template", required=False)),
        run=_update_field,
        batchable=True,
        describe=lambda p: f"Set {p.get('field', '')} to “{p.get('value', '')}”",
        validate=_validate_update,
    )
)


def _tag(add: bool):
    def run(ctx) -> dict:
        names = [n.strip() for n in str(ctx.params.get("tag", "")).split(",") if n.strip()]
        tags, changed = services.change_tags(
            ctx.tenant, ctx.actor, ctx.record_id, add=names if add else (), remove=() if add else names
        )
        return {"tags": tags, "changed": changed}

    return run


for _type, _label, _icon, _add in (
    ("add_tag", "Add tag", "ti-tag", True),
    ("remove_tag", "Remove tag", "ti-tag-off", False),
):
    action(
        Action(
            type=_type,
            label=_label,
            icon=_icon,
            record_types=("contact",),
            params=(Param("tag", "Tag", "tags", help="One tag, or several separated by commas"),),
            run=_tag(_add),
            batchable=True,
            describe=lambda p, _label=_label: f"{_label} “{p.get('tag', '')}”",
        )
    )


def _assign_owner(ctx) -> dict:
    member = resolve_member(ctx.tenant, ctx.params.get("assignee", ""), ctx.record, ctx.sequence)
    if member is None:
        raise ValueError("Nobody fits this assignment (no owner, manager or team member)")
    model = {"contact": Contact, "company": Company, "deal": Deal}[ctx.record_type]
    row = model.objects.for_tenant(ctx.tenant).get(pk=ctx.record_id)
    getattr(services, f"update_{ctx.record_type}")(ctx.tenant, ctx.actor, row, {"owner_id": str(member.pk)})
    return {"owner": member.email}


action(
    Action(
        type="assign_owner",
        label="Assign owner",
        icon="ti-user-check",
        record_types=("contact", "company", "deal"),
        params=(ASSIGNEE,),
        run=_assign_owner,
        batchable=True,
        describe=lambda p: "Assign the owner",
    )
)


def _create_note(ctx) -> dict:
    body = ctx.params["body"]
    if ctx.ai_label:
        body = f"<p><strong>{ctx.ai_label}</strong></p>{body}"
    note = services.create_note(
        ctx.tenant, ctx.actor, {"subject": ctx.params.get("subject", ""), "body": body, **_link(ctx)}
    )
    return {"note_id": str(note.pk)}


action(
    Action(
        type="create_note",
        label="Create note",
        icon="ti-notes",
        record_types=(),
        params=(Param("subject", "Subject", "template", required=False), Param("body", "Note", "template")),
        run=_create_note,
        batchable=True,
        describe=lambda p: "Add a note",
    )
)


def _upsert_contact(ctx) -> dict:
    email = str(ctx.params.get("email", "")).strip().lower()
    if not email or "@" not in email:
        raise ValueError("The email to find or create the contact by is empty or not an email")
    data = {k: ctx.params[k] for k in ("first_name", "last_name", "phone", "job_title") if ctx.params.get(k)}
    tags = [n.strip() for n in str(ctx.params.get("tags", "")).split(",") if n.strip()]
    contact = Contact.objects.for_tenant(ctx.tenant).filter(email__iexact=email).first()
    if contact is not None:
        if contact.restricted:
            return {"contact_id": str(contact.pk), "created": False, "skipped": "restricted"}
        if tags:
            data["tags"] = sorted({*(t.name for t in contact.tags.all()), *tags})
        services.update_contact(ctx.tenant, ctx.actor, contact, data)
        return {"contact_id": str(contact.pk), "created": False}
    contact = services.create_contact(ctx.tenant, ctx.actor, {"email": email, **data, "tags": tags})
    return {"contact_id": str(contact.pk), "created": True}


action(
    Action(
        type="upsert_contact",
        label="Create or update a contact",
        icon="ti-user-plus",
        record_types=(),
        params=(
            Param("email", "Email", "template"),
            Param("first_name", "First name", "template", required=False),
            Param("last_name", "Last name", "template", required=False),
            Param("phone", "Phone", "template", required=False),
            Param("job_title", "Job title", "template", required=False),
            Param("tags", "Tags", "tags", required=False),
        ),
        run=_upsert_contact,
        describe=lambda p: f"Create or update the contact {p.get('email', '')}",
        acts_on_contact=False,
    )
)


def contact_email(tenant, contact_id: str) -> tuple[str, str]:
    """The contact's email and, when they must not be emailed, why (no email, consent, restriction)."""
    contact = Contact.objects.for_tenant(tenant).filter(pk=contact_id).first()
    if contact is None:
        return "", "the contact no longer exists"
    if contact.restricted:
        return contact.email, "restricted"
    if contact.consent == Consent.WITHDRAWN:
        return contact.email, "the contact has withdrawn consent"
    if not contact.email:
        return "", "the contact has no email address"
    return contact.email, ""


# --- members (schedules "for each member") -------------------------------------------------


def _load_member(tenant, record_id: str) -> dict | None:
    membership = Membership.objects.filter(tenant=tenant, user_id=record_id).select_related("user", "team").first()
    if membership is None:
        return None
    user = membership.user
    open_tasks = Task.objects.for_tenant(tenant).filter(assignee_id=user.pk, status=TaskStatus.OPEN)
    overdue = list(open_tasks.filter(due_at__lt=timezone.now()).order_by("due_at")[:50])
    return {
        "id": str(user.pk),
        "email": user.email,
        "name": user.full_name or user.email,
        "role": membership.role,
        "team": membership.team.name if membership.team_id else "",
        "owner": {"id": str(user.pk), "email": user.email, "name": user.full_name or user.email},
        "open_tasks_count": open_tasks.count(),
        "overdue_count": len(overdue),
        "overdue_tasks": [f"{t.title} (due {t.due_at:%d %b})" for t in overdue],
    }


record_type(
    RecordType(
        name="member",
        label="Member",
        variables={
            "id": Var("Id", "id"),
            "email": Var("Email"),
            "name": Var("Name"),
            "role": Var("Role", "choice", tuple(Role.choices)),
            "team": Var("Team"),
            "open_tasks_count": Var("Open tasks", "number"),
            "overdue_count": Var("Overdue tasks", "number"),
            "overdue_tasks": Var("Overdue tasks (titles)", "list"),
        },
        load=_load_member,
        sample={
            "id": "00000000-0000-0000-0000-000000000007",
            "email": "agent@example.com",
            "name": "Alex Agent",
            "role": "agent",
            "team": "Support",
            "owner": {"id": None, "email": "agent@example.com", "name": "Alex Agent"},
            "open_tasks_count": 7,
            "overdue_count": 2,
            "overdue_tasks": ["Call back Ada Lovelace (due 03 Jan)", "Send the renewal quote (due 04 Jan)"],
        },
        describe=lambda v: v.get("name") or "Member",
    )
)
