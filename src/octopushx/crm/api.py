"""API of OctoCRM: contacts, companies, deals, pipelines, tasks, notes, custom fields, search.

Lists take filters on any field (custom fields as ``cf.<key>``), ``q`` full-text, ``ordering``
(``-created_at`` by default) and cursor pagination. POSTs honour ``Idempotency-Key``.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction
from django.http import Http404, JsonResponse, StreamingHttpResponse
from django.urls import reverse
from ninja import File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from pydantic import ConfigDict, Field

from octopushx.api.auth import require
from octopushx.api.errors import ErrorOut
from octopushx.api.pagination import paginate
from octopushx.core import blobs
from octopushx.crm import queries, services
from octopushx.crm import schemas as s
from octopushx.crm.models import (
    Company,
    Contact,
    CustomField,
    Deal,
    Export,
    IdempotencyKey,
    Note,
    ObjectType,
    Pipeline,
    Task,
    TaskStatus,
)
from octopushx.crm.visibility import crm_settings, get_visible, visible
from octopushx.tenancy.roles import Perm, has_perm

router = Router(tags=["crm"])
ERRORS = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def _filters_schema(object_type: str, name: str) -> type[Schema]:
    names = list(queries.FILTERS[object_type])
    return type(name, (Schema,), {"__annotations__": dict.fromkeys(names, str | None), **dict.fromkeys(names)})


ContactFilters = _filters_schema(ObjectType.CONTACT, "ContactFilters")
CompanyFilters = _filters_schema(ObjectType.COMPANY, "CompanyFilters")
DealFilters = _filters_schema(ObjectType.DEAL, "DealFilters")


def _data(payload: Schema) -> dict:
    return payload.dict(exclude_unset=True)


def idempotent(request, build, out: type[Schema], status: int = 201, digest: str | None = None):
    """Run ``build()`` once per ``Idempotency-Key``; a replay answers the first response."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return JsonResponse(out.from_orm(build()).model_dump(mode="json"), status=status)
    if len(key) > 200:
        from django.core.exceptions import ValidationError

        raise ValidationError({"Idempotency-Key": ["At most 200 characters"]})
    digest = (
        digest or hashlib.sha256(request.method.encode() + request.path.encode() + b"\n" + request.body).hexdigest()
    )

    def replay(found: IdempotencyKey):
        if found.request_hash != digest:
            from django.core.exceptions import ValidationError

            raise ValidationError(
                {"Idempotency-Key": ["This key was already used for a different request; send a new key"]}
            )
        return JsonResponse(found.response, status=found.status_code)

    found = IdempotencyKey.objects.for_tenant(request.tenant).filter(key=key).first()
    if found is not None:
        return replay(found)
    try:
        with transaction.atomic():
            body = out.from_orm(build()).model_dump(mode="json")
            IdempotencyKey.objects.create(
                tenant=request.tenant, key=key, request_hash=digest, status_code=status, response=body
            )
    except IntegrityError:
        found = IdempotencyKey.objects.for_tenant(request.tenant).filter(key=key).first()
        if found is None:
            raise
        return replay(found)
    return JsonResponse(body, status=status)


def _page(request, qs, object_type: str, cursor, limit, default="-created_at"):
    field, descending = queries.ordering(object_type, request.GET.get("ordering"), default)
    items, next_cursor = paginate(qs, cursor=cursor, limit=limit, field=field, descending=descending)
    return {"items": items, "next": next_cursor}


def contacts_qs(request):
    return visible(Contact, request.tenant, request.membership).prefetch_related("emails", "phones", "tags")


def companies_qs(request):
    return visible(Company, request.tenant, request.membership).prefetch_related("tags")


def deals_qs(request):
    return (
        visible(Deal, request.tenant, request.membership).select_related("stage").prefetch_related("contacts", "tags")
    )


# --- contacts ----------------------------------------------------------------------


@router.get("/contacts", response={200: s.ContactPage, **ERRORS}, summary="List contacts")
def list_contacts(
    request,
    filters: Query[ContactFilters],
    q: str = "",
    ordering: str = "-created_at",
    cursor: str | None = None,
    limit: int = 50,
):
    """Filter on any field (``cf.<key>`` for custom fields); ``q`` matches names, emails and phone
    numbers in any format."""
    qs = queries.listing(ObjectType.CONTACT, contacts_qs(request), request.tenant, request.GET)
    return _page(request, qs, ObjectType.CONTACT, cursor, limit)


@router.post("/contacts", response={201: s.ContactOut, **ERRORS}, summary="Create a contact")
def create_contact(request, payload: s.ContactIn):
    """The answer lists ``possible_duplicates``: contacts with the same email or phone, or a similar
    name at the same company."""
    require(request, Perm.WRITE)

    def build():
        from octopushx.crm import dedupe

        contact = services.create_contact(request.tenant, request.actor, _data(payload))
        contact = contacts_qs(request).get(pk=contact.pk)
        contact.possible_duplicates = [other.pk for other, _r in dedupe.candidates(contact, contacts_qs(request))]
        return contact

    return idempotent(request, build, s.ContactOut)


@router.get("/contacts/{contact_id}", response={200: s.ContactOut, **ERRORS}, summary="One contact")
def get_contact(request, contact_id: str):
    return get_visible(Contact, request.tenant, request.membership, contact_id)


@router.patch("/contacts/{contact_id}", response={200: s.ContactOut, **ERRORS}, summary="Change some fields")
def update_contact(request, contact_id: str, payload: s.ContactIn):
    require(request, Perm.WRITE)
    contact = get_visible(Contact, request.tenant, request.membership, contact_id)
    services.update_contact(request.tenant, request.actor, contact, _data(payload))
    return contacts_qs(request).get(pk=contact.pk)


@router.delete("/contacts/{contact_id}", response={204: None, **ERRORS}, summary="Delete a contact")
def delete_contact(request, contact_id: str):
    require(request, Perm.DELETE)
    contact = get_visible(Contact, request.tenant, request.membership, contact_id)
    services.delete_contact(request.tenant, request.actor, contact)
    return 204, None


# --- companies ---------------------------------------------------------------------


@router.get("/companies", response={200: s.CompanyPage, **ERRORS}, summary="List companies")
def list_companies(
    request,
    filters: Query[CompanyFilters],
    q: str = "",
    ordering: str = "-created_at",
    cursor: str | None = None,
    limit: int = 50,
):
    qs = queries.listing(ObjectType.COMPANY, companies_qs(request), request.tenant, request.GET)
    return _page(request, qs, ObjectType.COMPANY, cursor, limit)


@router.post("/companies", response={201: s.CompanyOut, **ERRORS}, summary="Create a company")
def create_company(request, payload: s.CompanyIn):
    require(request, Perm.WRITE)
    return idempotent(
        request, lambda: services.create_company(request.tenant, request.actor, _data(payload)), s.CompanyOut
    )


@router.get("/companies/{company_id}", response={200: s.CompanyOut, **ERRORS}, summary="One company")
def get_company(request, company_id: str):
    return get_visible(Company, request.tenant, request.membership, company_id)


@router.patch("/companies/{company_id}", response={200: s.CompanyOut, **ERRORS}, summary="Change some fields")
def update_company(request, company_id: str, payload: s.CompanyIn):
    require(request, Perm.WRITE)
    company = get_visible(Company, request.tenant, request.membership, company_id)
    return services.update_company(request.tenant, request.actor, company, _data(payload))


@router.delete("/companies/{company_id}", response={204: None, **ERRORS}, summary="Delete a company")
def delete_company(request, company_id: str):
    require(request, Perm.DELETE)
    company = get_visible(Company, request.tenant, request.membership, company_id)
    services.delete_company(request.tenant, request.actor, company)
    return 204, None


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
        request, lambda: services.create_pipeline(request.tenant, request.actor, _data(payload)), s.PipelineOut
    )


@router.get("/pipelines/{pipeline_id}", response={200: s.PipelineOut, **ERRORS}, summary="One pipeline")
def get_pipeline(request, pipeline_id: str):
    return Pipeline.objects.get_for_tenant(request.tenant, pipeline_id)


@router.patch("/pipelines/{pipeline_id}", response={200: s.PipelineOut, **ERRORS}, summary="Rename or change stages")
def update_pipeline(request, pipeline_id: str, payload: s.PipelineIn):
    require(request, Perm.ADMIN)
    pipeline = Pipeline.objects.get_for_tenant(request.tenant, pipeline_id)
    return services.update_pipeline(request.tenant, request.actor, pipeline, _data(payload))


@router.delete("/pipelines/{pipeline_id}", response={204: None, **ERRORS}, summary="Delete an empty pipeline")
def delete_pipeline(request, pipeline_id: str):
    require(request, Perm.ADMIN)
    pipeline = Pipeline.objects.get_for_tenant(request.tenant, pipeline_id)
    services.delete_pipeline(request.tenant, request.actor, pipeline)
    return 204, None


# --- deals -------------------------------------------------------------------------


@router.get("/deals", response={200: s.DealPage, **ERRORS}, summary="List deals")
def list_deals(
    request,
    filters: Query[DealFilters],
    q: str = "",
    ordering: str = "-created_at",
    cursor: str | None = None,
    limit: int = 50,
):
    qs = queries.listing(ObjectType.DEAL, deals_qs(request), request.tenant, request.GET)
    return _page(request, qs, ObjectType.DEAL, cursor, limit)


@router.post("/deals", response={201: s.DealOut, **ERRORS}, summary="Create a deal")
def create_deal(request, payload: s.DealIn):
    require(request, Perm.WRITE)
    return idempotent(request, lambda: services.create_deal(request.tenant, request.actor, _data(payload)), s.DealOut)


@router.get("/deals/{deal_id}", response={200: s.DealOut, **ERRORS}, summary="One deal")
def get_deal(request, deal_id: str):
    return get_visible(Deal, request.tenant, request.membership, deal_id)


@router.patch("/deals/{deal_id}", response={200: s.DealOut, **ERRORS}, summary="Change fields or move the stage")
def update_deal(request, deal_id: str, payload: s.DealIn):
    require(request, Perm.WRITE)
    deal = get_visible(Deal, request.tenant, request.membership, deal_id)
    return services.update_deal(request.tenant, request.actor, deal, _data(payload))


@router.delete("/deals/{deal_id}", response={204: None, **ERRORS}, summary="Delete a deal")
def delete_deal(request, deal_id: str):
    require(request, Perm.DELETE)
    deal = get_visible(Deal, request.tenant, request.membership, deal_id)
    services.delete_deal(request.tenant, request.actor, deal)
    return 204, None


# --- tasks -------------------------------------------------------------------------


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


@router.get("/tasks", response={200: s.TaskPage, **ERRORS}, summary="List tasks")
def list_tasks(
    request,
    filters: Query[TaskFilters],
    q: str = "",
    ordering: str = "-created_at",
    cursor: str | None = None,
    limit: int = 50,
):
    qs = _related_filters(visible(Task, request.tenant, request.membership), filters)
    qs = queries.search_tasks(qs, request.tenant, q)
    return _page(request, qs, "task", cursor, limit)


@router.post("/tasks", response={201: s.TaskOut, **ERRORS}, summary="Create a task")
def create_task(request, payload: s.TaskIn):
    require(request, Perm.WRITE)
    return idempotent(request, lambda: services.create_task(request.tenant, request.actor, _data(payload)), s.TaskOut)


@router.get("/tasks/{task_id}", response={200: s.TaskOut, **ERRORS}, summary="One task")
def get_task(request, task_id: str):
    return get_visible(Task, request.tenant, request.membership, task_id)


@router.patch(
    "/tasks/{task_id}", response={200: s.TaskOut, **ERRORS}, summary="Change a task (status done completes it)"
)
def update_task(request, task_id: str, payload: s.TaskIn):
    require(request, Perm.WRITE)
    task = get_visible(Task, request.tenant, request.membership, task_id)
    return services.update_task(request.tenant, request.actor, task, _data(payload))


@router.post("/tasks/{task_id}/complete", response={200: s.TaskOut, **ERRORS}, summary="Mark a task done")
def complete_task(request, task_id: str):
    require(request, Perm.WRITE)
    task = get_visible(Task, request.tenant, request.membership, task_id)
    return services.complete_task(request.tenant, request.actor, task)


@router.delete("/tasks/{task_id}", response={204: None, **ERRORS}, summary="Delete a task")
def delete_task(request, task_id: str):
    require(request, Perm.WRITE)
    task = get_visible(Task, request.tenant, request.membership, task_id)
    services.delete_task(request.tenant, request.actor, task)
    return 204, None


# --- notes -------------------------------------------------------------------------


class NoteFilters(Schema):
    contact_id: str | None = None
    company_id: str | None = None
    deal_id: str | None = None
    kind: str | None = None


@router.get("/notes", response={200: s.NotePage, **ERRORS}, summary="List notes and logged emails")
def list_notes(request, filters: Query[NoteFilters], q: str = "", cursor: str | None = None, limit: int = 50):
    qs = _related_filters(visible(Note, request.tenant, request.membership), filters)
    qs = queries.search_notes(qs, request.tenant, q)
    return _page(request, qs, "note", cursor, limit)


@router.post("/notes", response={201: s.NoteOut, **ERRORS}, summary="Add a note or log an email")
def create_note(request, payload: s.NoteIn):
    """``body`` is HTML, sanitised (no scripts, styles or event handlers); ``kind=email`` logs an email."""
    require(request, Perm.WRITE)
    return idempotent(request, lambda: services.create_note(request.tenant, request.actor, _data(payload)), s.NoteOut)


@router.get("/notes/{note_id}", response={200: s.NoteOut, **ERRORS}, summary="One note")
def get_note(request, note_id: str):
    return get_visible(Note, request.tenant, request.membership, note_id)


@router.patch("/notes/{note_id}", response={200: s.NoteOut, **ERRORS}, summary="Edit a note")
def update_note(request, note_id: str, payload: s.NoteIn):
    require(request, Perm.WRITE)
    note = get_visible(Note, request.tenant, request.membership, note_id)
    return services.update_note(request.tenant, request.actor, note, _data(payload))


@router.delete("/notes/{note_id}", response={204: None, **ERRORS}, summary="Delete a note")
def delete_note(request, note_id: str):
    require(request, Perm.WRITE)
    note = get_visible(Note, request.tenant, request.membership, note_id)
    services.delete_note(request.tenant, request.actor, note)
    return 204, None


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
        request, lambda: services.create_custom_field(request.tenant, request.actor, _data(payload)), s.CustomFieldOut
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
    return services.update_custom_field(request.tenant, request.actor, field, _data(payload))


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
    return services.update_settings(request.tenant, request.actor, **_data(payload))


# --- imports and exports -----------------------------------------------------------


class ImportOut(Schema):
    id: UUID
    status: str
    object: str = "contacts"
    filename: str
    match_on: str
    on_match: str
    mapping: dict[str, str]
    total: int
    processed: int
    progress: float
    created: int
    updated: int
    skipped: int
    failed: int
    possible_duplicates: int = Field(0, description="Created contacts sharing an email or phone with another one")
    error: str
    error_report: str | None = Field(None, description="Download link of the rejected rows (CSV)")
    created_at: datetime
    finished_at: datetime | None

    @staticmethod
    def resolve_progress(obj):
        from octopushx.crm.imports import progress

        return progress(obj)

    @staticmethod
    def resolve_error_report(obj):
        if not obj.error_report_id:
            return None
        return reverse("api:crm_import_errors", kwargs={"import_id": obj.pk})


class ImportPage(Schema):
    items: list[ImportOut]
    next: str | None


@router.post("/imports", response={201: ImportOut, **ERRORS}, summary="Import contacts from CSV or XLSX")
def create_import(
    request,
    file: UploadedFile = File(..., description="CSV (UTF-8 ± BOM, UTF-16, Windows-1252) or XLSX"),  # noqa: B008
    object_type: str = Form("contacts", alias="object"),
    match_on: str = Form("email", description="email, phone or external_id"),
    on_match: str = Form("update", description="update or skip the contacts that match"),
    mapping: str | None = Form(None, description='JSON: {"column name": "field"}; automatic when left out'),
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
        b"\n".join([content, object_type.encode(), match_on.encode(), on_match.encode(), (mapping or "").encode()])
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
        ),
        ImportOut,
        digest=digest,
    )


@router.get("/imports", response={200: ImportPage, **ERRORS}, summary="Imports, newest first")
def list_imports(request, cursor: str | None = None, limit: int = 50):
    require(request, Perm.WRITE)
    items, next_cursor = paginate(_imports(request), cursor=cursor, limit=limit)
    return {"items": items, "next": next_cursor}


def _imports(request):
    from octopushx.crm.models import Import

    qs = Import.objects.for_tenant(request.tenant)
    if not has_perm(request.membership.role, Perm.ADMIN):
        qs = qs.filter(created_by=request.user)
    return qs


@router.get("/imports/{import_id}", response={200: ImportOut, **ERRORS}, summary="Status and counts of an import")
def get_import(request, import_id: str):
    require(request, Perm.WRITE)
    from octopushx.crm.models import Import

    record = Import.objects.get_for_tenant(request.tenant, import_id)
    return _imports(request).get(pk=record.pk) if _imports(request).filter(pk=record.pk).exists() else _404()


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
    response = StreamingHttpResponse(blobs.read(record.error_report), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{record.error_report.filename}"'
    return response


def _404():
    raise Http404("Not found")


class ExportIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"object": "contact", "format": "xlsx", "filters": {"lifecycle_stage": "customer"}}]
        }
    )

    object: str = Field(description="contact, company or deal")
    format: str = "csv"
    filters: dict[str, Any] = Field(default_factory=dict, description="The list filters, as on the list endpoint")
    ids: list[str] | None = Field(None, description="Export exactly these records instead")


class ExportOut(Schema):
    id: UUID
    status: str
    object: str
    format: str
    rows: int
    skipped_restricted: int
    download: str | None
    created_at: datetime
    finished_at: datetime | None

    @staticmethod
    def resolve_object(obj):
        return obj.object_type

    @staticmethod
    def resolve_download(obj):
        if not obj.file_id:
            return None
        return reverse("api:crm_export_download", kwargs={"export_id": obj.pk})


def _exports(request):
    qs = Export.objects.for_tenant(request.tenant)
    if not has_perm(request.membership.role, Perm.ADMIN):
        qs = qs.filter(created_by=request.user)
    return qs


@router.post("/exports", response={201: ExportOut, **ERRORS}, summary="Export a filtered list (CSV or XLSX)")
def create_export(request, payload: ExportIn):
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
        ExportOut,
    )


@router.get("/exports/{export_id}", response={200: ExportOut, **ERRORS}, summary="Status of an export")
def get_export(request, export_id: str):
    require(request, Perm.EXPORT)
    record = Export.objects.get_for_tenant(request.tenant, export_id)
    if not _exports(request).filter(pk=record.pk).exists():
        raise Http404("Not found")
    return record


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
    response = StreamingHttpResponse(blobs.read(record.file), content_type=record.file.content_type)
    response["Content-Disposition"] = f'attachment; filename="{record.file.filename}"'
    return response


@router.get(
    "/contacts/{contact_id}/timeline",
    response={200: dict, **ERRORS},
    summary="A contact's activity timeline, newest first",
)
def contact_timeline(request, contact_id: str, kind: str | None = None):
    from octopushx.crm import timeline

    contact = get_visible(Contact, request.tenant, request.membership, contact_id)
    return {"items": [entry.as_dict() for entry in timeline.build(contact, kind or None)], "next": None}


class DuplicateOut(Schema):
    first_id: UUID
    first_name: str
    second_id: UUID
    second_name: str
    reason: str
    score: int


class MergeIn(Schema):
    remove_id: str = Field(description="The contact folded into this one (it is deleted)")


@router.get("/duplicates", response={200: dict, **ERRORS}, summary="Likely duplicate contacts")
def list_duplicates(request, limit: int = 100):
    require(request, Perm.DELETE)
    from octopushx.crm import dedupe

    pairs = dedupe.find(request.tenant, request.membership, limit=max(1, min(limit, 500)))
    items = [
        DuplicateOut(
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
def merge_contacts(request, contact_id: str, payload: MergeIn):
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
