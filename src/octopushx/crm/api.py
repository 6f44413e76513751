"""API of OctoCRM: contacts, companies, deals, pipelines, tasks, notes, custom fields, search.

Lists take filters on any field (custom fields as ``cf.<key>``), ``q`` full-text, ``ordering``
(``-created_at`` by default) and cursor pagination. POSTs honour ``Idempotency-Key``.
"""

from __future__ import annotations

import hashlib

from django.db.models import prefetch_related_objects
from django.http import Http404
from ninja import File, Form, Router, Schema
from ninja.files import UploadedFile

from octopushx.api.auth import require
from octopushx.api.crud import ERRORS, Summaries, add_crud, payload_data
from octopushx.api.pagination import paginate
from octopushx.crm import queries, services
from octopushx.crm import schemas as s
from octopushx.crm.downloads import blob_response
from octopushx.crm.endpoints import idempotent, resource
from octopushx.crm.models import (
    Company,
    Contact,
    CustomField,
    Deal,
    Export,
    Import,
    Note,
    ObjectType,
    Pipeline,
    Task,
    TaskStatus,
)
from octopushx.crm.visibility import crm_settings, get_visible, is_visible, visible
from octopushx.tenancy.roles import Perm, has_perm

router = Router(tags=["crm"])


def _filters_schema(object_type: str, name: str) -> type[Schema]:
    names = list(queries.FILTERS[object_type])
    return type(name, (Schema,), {"__annotations__": dict.fromkeys(names, str | None), **dict.fromkeys(names)})


def contacts_qs(request):
    return visible(Contact, request.tenant, request.membership).prefetch_related("emails", "phones", "tags")


def companies_qs(request):
    return visible(Company, request.tenant, request.membership).prefetch_related("tags")


def deals_qs(request):
    return (
        visible(Deal, request.tenant, request.membership).select_related("stage").prefetch_related("contacts", "tags")
    )


def _listing(object_type: str, queryset):
    """Rows of a record list: filters on any field (``cf.<key>`` too), ``q`` full text."""
    return lambda request, _filters, _q: queries.listing(object_type, queryset(request), request.tenant, request.GET)


# --- contacts ----------------------------------------------------------------------


def _contact_answer(request, contact: Contact, created: bool) -> Contact:
    """The contact just written (its emails, phones and tags as the write left them), if the member
    may still see it (an owner given away to another team hides it)."""
    if not is_visible(contact, request.membership):
        raise Http404("No contact with that id")
    contact._prefetched_objects_cache = getattr(contact, "written_relations", {})  # current: written just now
    prefetch_related_objects([contact], "emails", "phones", "tags")  # reads only what the write did not keep
    if created:
        from octopushx.crm import dedupe

        contact.possible_duplicates = [other.pk for other, _r in dedupe.candidates(contact, contacts_qs(request))]
    return contact


add_crud(
    router,
    resource(
        model=Contact,
        singular="contact",
        plural="contacts",
        schema_in=s.ContactIn,
        schema_out=s.ContactOut,
        list_schema=s.ContactPage,
        filters=_filters_schema(ObjectType.CONTACT, "ContactFilters"),
        rows=_listing(ObjectType.CONTACT, lambda request: visible(Contact, request.tenant, request.membership)),
        items=s.contact_items,
        create=services.create_contact,
        update=services.update_contact,
        delete=services.delete_contact,
        answer=_contact_answer,
        summaries=Summaries(
            list="List contacts",
            create="Create a contact",
            get="One contact",
            update="Change some fields",
            delete="Delete a contact",
        ),
        docs={
            "list": "Filter on any field (``cf.<key>`` for custom fields); ``q`` matches names, emails and phone\n"
            "    numbers in any format.",
            "create": "The answer lists ``possible_duplicates``: contacts with the same email or phone, or a similar\n"
            "    name at the same company.",
        },
    ),
    __name__,
)


# --- companies ---------------------------------------------------------------------

add_crud(
    router,
    resource(
        model=Company,
        singular="company",
        plural="companies",
        schema_in=s.CompanyIn,
        schema_out=s.CompanyOut,
        list_schema=s.CompanyPage,
        filters=_filters_schema(ObjectType.COMPANY, "CompanyFilters"),
        rows=_listing(ObjectType.COMPANY, companies_qs),
        create=services.create_company,
        update=services.update_company,
        delete=services.delete_company,
        summaries=Summaries(
            list="List companies",
            create="Create a company",
            get="One company",
            update="Change some fields",
            delete="Delete a company",
        ),
    ),
    __name__,
)


# --- pipelines ---------------------------------------------------------------------


def pipelines_qs(request):
    return Pipeline.objects.for_tenant(request.tenant).prefetch_related("stages")


@router.get("/pipelines", response={200: s.PipelinePage, **ERRORS}, summary="Pipelines and their stages")
def list_pipelines(request, cursor: str | None = None, limit: int = 50):
    services.default_pipeline(request.tenant)
    items, next_cursor = paginate(pipelines_qs(request), cursor=cursor, limit=limit, descending=False)
    return {"items": items, "next": next_cursor}


@router.post("/pipelines", response={201: s.PipelineOut, **ERRORS}, summary="Create a pipeline")
def create_pipeline(request, payload: s.PipelineIn):
    require(request, Perm.ADMIN)
    return idempotent(
        request, lambda: services.create_pipeline(request.tenant, request.actor, payload_data(payload)), s.PipelineOut
    )


@router.get("/pipelines/{pipeline_id}", response={200: s.PipelineOut, **ERRORS}, summary="One pipeline")
def get_pipeline(request, pipeline_id: str):
    return Pipeline.objects.get_for_tenant(request.tenant, pipeline_id)


@router.patch("/pipelines/{pipeline_id}", response={200: s.PipelineOut, **ERRORS}, summary="Rename or change stages")
def update_pipeline(request, pipeline_id: str, payload: s.PipelineIn):
    require(request, Perm.ADMIN)
    pipeline = Pipeline.objects.get_for_tenant(request.tenant, pipeline_id)
    return services.update_pipeline(request.tenant, request.actor, pipeline, payload_data(payload))


@router.delete("/pipelines/{pipeline_id}", response={204: None, **ERRORS}, summary="Delete an empty pipeline")
def delete_pipeline(request, pipeline_id: str):
    require(request, Perm.ADMIN)
    pipeline = Pipeline.objects.get_for_tenant(request.tenant, pipeline_id)
    services.delete_pipeline(request.tenant, request.actor, pipeline)
    return 204, None


# --- deals -------------------------------------------------------------------------

add_crud(
    router,
    resource(
        model=Deal,
        singular="deal",
        plural="deals",
        schema_in=s.DealIn,
        schema_out=s.DealOut,
        list_schema=s.DealPage,
        filters=_filters_schema(ObjectType.DEAL, "DealFilters"),
        rows=_listing(ObjectType.DEAL, deals_qs),
        create=services.create_deal,
        update=services.update_deal,
        delete=services.delete_deal,
        summaries=Summaries(
            list="List deals",
            create="Create a deal",
            get="One deal",
            update="Change fields or move the stage",
            delete="Delete a deal",
        ),
    ),
    __name__,
)


# --- tasks and notes ---------------------------------------------------------------


class TaskFilters(Schema):
    assignee_id: str | None = None
    status: str | None = None
    contact_id: str | None = None
    company_id: str | None = None
    deal_id: str | None = None
    due_before: str | None = None
    overdue: bool | None = None


def _related_filters(qs, filters: Schema):
    from django.core.exceptions import ValidationError

    from octopushx.crm.queries import _value

    for name in ("assignee_id", "contact_id", "company_id", "deal_id"):
        value = getattr(filters, name, None)
        if value:
            qs = qs.filter(**{name: _value(name, "id", value, "")})
    status = getattr(filters, "status", None)
    if status:
        qs = qs.filter(status=status)
    if getattr(filters, "kind", None):
        qs = qs.filter(kind=filters.kind)
    due_before = getattr(filters, "due_before", None)
    if due_before:
        qs = qs.filter(due_at__lt=_value("due_before", "date", due_before, ""))
    if getattr(filters, "overdue", None):
        from django.utils import timezone

        qs = qs.filter(status="open", due_at__lt=timezone.now())
    if status and status not in TaskStatus.values:
        raise ValidationError({"status": [f"One of {', '.join(TaskStatus.values)}"]})
    return qs


class NoteFilters(Schema):
    contact_id: str | None = None
    company_id: str | None = None
    deal_id: str | None = None
    kind: str | None = None


add_crud(
    router,
    resource(
        model=Task,
        singular="task",
        plural="tasks",
        schema_in=s.TaskIn,
        schema_out=s.TaskOut,
        list_schema=s.TaskPage,
        filters=TaskFilters,
        rows=lambda request, filters, q: queries.search_tasks(
            _related_filters(visible(Task, request.tenant, request.membership), filters), request.tenant, q
        ),
        create=services.create_task,
        update=services.update_task,
        delete=services.delete_task,
        delete_perm=Perm.WRITE,
        summaries=Summaries(
            list="List tasks",
            create="Create a task",
            get="One task",
            update="Change a task (status done completes it)",
            delete="Delete a task",
        ),
    ),
    __name__,
)


@router.post("/tasks/{task_id}/complete", response={200: s.TaskOut, **ERRORS}, summary="Mark a task done")
def complete_task(request, task_id: str):
    require(request, Perm.WRITE)
    task = get_visible(Task, request.tenant, request.membership, task_id)
    return services.complete_task(request.tenant, request.actor, task)


add_crud(
    router,
    resource(
        model=Note,
        singular="note",
        plural="notes",
        schema_in=s.NoteIn,
        schema_out=s.NoteOut,
        list_schema=s.NotePage,
        filters=NoteFilters,
        rows=lambda request, filters, q: queries.search_notes(
            _related_filters(visible(Note, request.tenant, request.membership), filters), request.tenant, q
        ),
        create=services.create_note,
        update=services.update_note,
        delete=services.delete_note,
        delete_perm=Perm.WRITE,
        summaries=Summaries(
            list="List notes and logged emails",
            create="Add a note or log an email",
            get="One note",
            update="Edit a note",
            delete="Delete a note",
        ),
        docs={
            "create": "``body`` is HTML, sanitised (no scripts, styles or event handlers); ``kind=email`` logs an email."
        },
    ),
    __name__,
)


# --- custom fields -----------------------------------------------------------------


@router.get("/custom-fields", response={200: s.CustomFieldPage, **ERRORS}, summary="Custom field definitions")
def list_custom_fields(request, object_type: str | None = None, cursor: str | None = None, limit: int = 100):
    qs = CustomField.objects.for_tenant(request.tenant)
    if object_type:
        qs = qs.filter(object_type=object_type)
    items, next_cursor = paginate(qs, cursor=cursor, limit=limit, descending=False)
    return {"items": items, "next": next_cursor}


@router.post("/custom-fields", response={201: s.CustomFieldOut, **ERRORS}, summary="Define a custom field")
def create_custom_field(request, payload: s.CustomFieldIn):
    require(request, Perm.ADMIN)
    return idempotent(
        request,
        lambda: services.create_custom_field(request.tenant, request.actor, payload_data(payload)),
        s.CustomFieldOut,
    )


@router.get("/custom-fields/{custom_field_id}", response={200: s.CustomFieldOut, **ERRORS}, summary="One definition")
def get_custom_field(request, custom_field_id: str):
    return CustomField.objects.get_for_tenant(request.tenant, custom_field_id)


@router.patch(
    "/custom-fields/{custom_field_id}", response={200: s.CustomFieldOut, **ERRORS}, summary="Change a definition"
)
def update_custom_field(request, custom_field_id: str, payload: s.CustomFieldIn):
    require(request, Perm.ADMIN)
    field = CustomField.objects.get_for_tenant(request.tenant, custom_field_id)
    return services.update_custom_field(request.tenant, request.actor, field, payload_data(payload))


@router.delete("/custom-fields/{custom_field_id}", response={204: None, **ERRORS}, summary="Remove a definition")
def delete_custom_field(request, custom_field_id: str):
    require(request, Perm.ADMIN)
    field = CustomField.objects.get_for_tenant(request.tenant, custom_field_id)
    services.delete_custom_field(request.tenant, request.actor, field)
    return 204, None


# --- search and settings -----------------------------------------------------------


@router.get("/search", response={200: s.SearchOut, **ERRORS}, summary="Search contacts, companies, deals and notes")
def search(request, q: str = "", limit: int = 5):
    from octopushx.crm import search as global_search

    return {"items": global_search.search(request.tenant, request.membership, q, limit=max(1, min(limit, 50)))}


@router.get("/crm/settings", response={200: s.SettingsOut, **ERRORS}, summary="CRM settings of the organisation")
def get_settings(request):
    return crm_settings(request.tenant)


@router.patch("/crm/settings", response={200: s.SettingsOut, **ERRORS}, summary="Change CRM settings (admins)")
def update_settings(request, payload: s.SettingsIn):
    require(request, Perm.ADMIN)
    return services.update_settings(request.tenant, request.actor, **payload_data(payload))


# --- imports and exports -----------------------------------------------------------


def _own(request, model):
    """Imports or exports the caller started (an admin sees every one of the organisation)."""
    qs = model.objects.for_tenant(request.tenant)
    if not has_perm(request.membership.role, Perm.ADMIN):
        qs = qs.filter(created_by=request.user)
    return qs


def _own_record(request, model, record_id):
    record = model.objects.get_for_tenant(request.tenant, record_id)
    if not _own(request, model).filter(pk=record.pk).exists():
        raise Http404("Not found")
    return record


@router.post("/imports", response={201: s.ImportOut, **ERRORS}, summary="Import contacts from CSV or XLSX")
def create_import(
    request,
    file: UploadedFile = File(..., description="CSV (any encoding, detected) or XLSX"),  # noqa: B008
    object_type: str = Form("contacts", alias="object"),
    match_on: str = Form("email", description="email, phone or external_id"),
    on_match: str = Form("update", description="update or skip the contacts that match"),
    mapping: str | None = Form(None, description='JSON: {"column name": "field"}; automatic when left out'),
    value_mapping: str | None = Form(
        None,
        description='JSON: {"column name": {"value in the file": "option"}} for choice fields; values of '
        "HubSpot, Pipedrive and Salesforce exports are recognised without it. An empty option leaves the value out",
    ),
):
    """Answers at once with the import's id and status; a job does the work. Poll ``GET /imports/{id}``."""
    require(request, Perm.WRITE)
    from octopushx.crm import imports

    if file.size and file.size > imports.MAX_BYTES:
        from django.core.exceptions import ValidationError

        limit = imports.MAX_BYTES // (1024 * 1024)
        raise ValidationError({"file": [f"The file is larger than {limit} MB; split it"]})
    content = file.read()
    digest = hashlib.sha256(
        b"\n".join(
            [content, object_type.encode(), match_on.encode(), on_match.encode(), (mapping or "").encode()]
            + ([value_mapping.encode()] if value_mapping else [])  # keys stored before value_mapping still match
        )
    ).hexdigest()
    return idempotent(
        request,
        lambda: imports.create(
            request.tenant,
            request.actor,
            file=content,
            filename=file.name or "",
            object_type=object_type,
            match_on=match_on,
            on_match=on_match,
            mapping=mapping,
            value_mapping=value_mapping,
        ),
        s.ImportOut,
        digest=digest,
    )


@router.get("/imports", response={200: s.ImportPage, **ERRORS}, summary="Imports, newest first")
def list_imports(request, cursor: str | None = None, limit: int = 50):
    require(request, Perm.WRITE)
    items, next_cursor = paginate(_own(request, Import), cursor=cursor, limit=limit)
    return {"items": items, "next": next_cursor}


@router.get("/imports/{import_id}", response={200: s.ImportOut, **ERRORS}, summary="Status and counts of an import")
def get_import(request, import_id: str):
    require(request, Perm.WRITE)
    return _own_record(request, Import, import_id)


@router.get(
    "/imports/{import_id}/errors",
    url_name="crm_import_errors",
    response={200: None, **ERRORS},
    summary="The rejected rows with their reasons (CSV)",
)
def import_errors(request, import_id: str):
    record = get_import(request, import_id)
    if record.error_report is None:
        raise Http404("This import has no rejected rows")
    return blob_response(record.error_report, "text/csv; charset=utf-8")


@router.post("/exports", response={201: s.ExportOut, **ERRORS}, summary="Export a filtered list (CSV or XLSX)")
def create_export(request, payload: s.ExportIn):
    """Small exports are written at once; large ones by a job (poll ``GET /exports/{id}``).
    Restricted contacts are never exported."""
    require(request, Perm.EXPORT)
    from octopushx.crm import exports

    return idempotent(
        request,
        lambda: exports.start(
            request.tenant,
            request.actor,
            payload.object.rstrip("s").replace("companie", "company"),
            filters=payload.filters,
            ids=payload.ids,
            fmt=payload.format,
            membership=request.membership,
        ),
        s.ExportOut,
    )


@router.get("/exports/{export_id}", response={200: s.ExportOut, **ERRORS}, summary="Status of an export")
def get_export(request, export_id: str):
    require(request, Perm.EXPORT)
    return _own_record(request, Export, export_id)


@router.get(
    "/exports/{export_id}/download",
    url_name="crm_export_download",
    response={200: None, **ERRORS},
    summary="Download the exported file",
)
def download_export(request, export_id: str):
    record = get_export(request, export_id)
    if record.file is None:
        raise Http404("The export is not ready")
    return blob_response(record.file)


@router.get(
    "/contacts/{contact_id}/timeline",
    response={200: dict, **ERRORS},
    summary="A contact's activity timeline, newest first",
)
def contact_timeline(request, contact_id: str, kind: str | None = None):
    from octopushx.crm import timeline

    contact = get_visible(Contact, request.tenant, request.membership, contact_id)
    return {"items": [entry.as_dict() for entry in timeline.build(contact, kind or None)], "next": None}


@router.get("/duplicates", response={200: dict, **ERRORS}, summary="Likely duplicate contacts")
def list_duplicates(request, limit: int = 100):
    require(request, Perm.DELETE)
    from octopushx.crm import dedupe

    pairs = dedupe.find(request.tenant, request.membership, limit=max(1, min(limit, 500)))
    items = [
        s.DuplicateOut(
            first_id=p.first.pk,
            first_name=p.first.full_name,
            second_id=p.second.pk,
            second_name=p.second.full_name,
            reason=p.reason,
            score=p.score,
        ).model_dump(mode="json")
        for p in pairs
    ]
    return {"items": items, "next": None}


@router.post(
    "/contacts/{contact_id}/merge",
    response={200: s.ContactOut, **ERRORS},
    summary="Merge another contact into this one",
)
def merge_contacts(request, contact_id: str, payload: s.MergeIn):
    """Every email, phone, tag, note, task, deal, call and timeline entry of ``remove_id`` is kept
    on this contact; the other contact is deleted. Audited."""
    require(request, Perm.DELETE)
    from octopushx.crm import dedupe

    keep = get_visible(Contact, request.tenant, request.membership, contact_id)
    try:
        remove = get_visible(Contact, request.tenant, request.membership, payload.remove_id)
    except Http404:
        from django.core.exceptions import ValidationError

        raise ValidationError({"remove_id": ["No contact with that id"]})
    dedupe.merge(request.tenant, request.actor, keep, remove)
    return contacts_qs(request).get(pk=keep.pk)
