"""API schemas of the CRM: what goes in (all optional for PATCH) and what comes out."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.urls import reverse
from ninja import Schema
from pydantic import ConfigDict, Field


class EmailItem(Schema):
    email: str
    label: str = ""
    primary: bool = False


class PhoneItem(Schema):
    number: str
    label: str = ""
    primary: bool = False


class TaggedOut(Schema):
    """The tags and custom field values that contacts, companies and deals answer alike."""

    @staticmethod
    def resolve_tags(obj):
        return sorted(t.name for t in obj.tags.all())

    @staticmethod
    def resolve_custom_fields(obj):
        return obj.custom


class ContactIn(Schema):
    """Send ``email``/``phone`` as shorthand for the primary ones, or the full ``emails``/``phones`` lists."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "phone": "020 7946 0018"},
                {
                    "first_name": "Grace",
                    "emails": [{"email": "grace@example.com", "label": "work", "primary": True}, "g@home.example"],
                    "phones": ["+1 202 555 0143"],
                    "tags": ["vip"],
                    "custom_fields": {"plan": "Gold"},
                },
            ]
        }
    )

    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    emails: list[EmailItem | str] | None = None
    phones: list[PhoneItem | str] | None = None
    company_id: str | None = None
    job_title: str | None = None
    owner_id: str | None = None
    tags: list[str] | None = None
    lifecycle_stage: str | None = None
    lead_status: str | None = None
    street: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None
    preferred_language: str | None = None
    consent: str | None = None
    consent_at: str | None = None
    lawful_basis: str | None = None
    restricted: bool | None = None
    external_id: str | None = None
    custom_fields: dict[str, Any] | None = None


class ContactOut(TaggedOut):
    id: UUID
    first_name: str
    last_name: str
    full_name: str
    email: str = Field(description="The primary email")
    phone: str = Field(description="The primary phone number, E.164")
    emails: list[str]
    phones: list[str] = Field(description="E.164, primary first")
    email_details: list[EmailItem]
    phone_details: list[PhoneItem]
    company_id: UUID | None
    job_title: str
    owner_id: UUID | None
    tags: list[str]
    lifecycle_stage: str
    lead_status: str
    street: str
    city: str
    region: str
    postal_code: str
    country: str
    preferred_language: str
    consent: str
    consent_at: datetime | None
    lawful_basis: str
    restricted: bool
    external_id: str
    custom_fields: dict[str, Any]
    possible_duplicates: list[UUID] = Field(default_factory=list, description="On create only")
    original_created_at: datetime | None = Field(
        None, description="When the record was created in the system it was imported from"
    )
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_possible_duplicates(obj):
        return getattr(obj, "possible_duplicates", [])

    @staticmethod
    def resolve_emails(obj):
        return [e.email for e in obj.emails.all()]

    @staticmethod
    def resolve_phones(obj):
        return [p.number for p in obj.phones.all()]

    @staticmethod
    def resolve_email_details(obj):
        return [{"email": e.email, "label": e.label, "primary": e.is_primary} for e in obj.emails.all()]

    @staticmethod
    def resolve_phone_details(obj):
        return [{"number": p.number, "label": p.label, "primary": p.is_primary} for p in obj.phones.all()]


_CONTACT_LISTS = {"emails", "phones", "email_details", "phone_details", "tags", "custom_fields", "possible_duplicates"}
_CONTACT_PLAIN = [name for name in ContactOut.model_fields if name not in _CONTACT_LISTS]


def contact_items(contacts: list) -> list[dict]:
    """A page of contacts as ``ContactOut`` answers them, built in bulk.

    Through ``ContactOut`` every field of every row passes ninja's attribute wrapper, and a
    prefetch builds a queryset per row and relation: together most of a list request's time on a
    large tenant. Here each relation is one query of plain values. A test holds both to one answer.
    """
    from octopushx.crm.models import Contact, ContactEmail, ContactPhone

    ids = [c.pk for c in contacts]
    emails: dict = {pk: [] for pk in ids}
    phones: dict = {pk: [] for pk in ids}
    tags: dict = {pk: [] for pk in ids}
    for contact_id, email, label, primary in ContactEmail.objects.filter(contact_id__in=ids).values_list(
        "contact_id", "email", "label", "is_primary"
    ):
        emails[contact_id].append({"email": email, "label": label, "primary": primary})
    for contact_id, number, label, primary in ContactPhone.objects.filter(contact_id__in=ids).values_list(
        "contact_id", "number", "label", "is_primary"
    ):
        phones[contact_id].append({"number": number, "label": label, "primary": primary})
    for contact_id, name in Contact.tags.through.objects.filter(contact_id__in=ids).values_list(
        "contact_id", "tag__name"
    ):
        tags[contact_id].append(name)
    items = []
    for contact in contacts:
        item = {name: getattr(contact, name) for name in _CONTACT_PLAIN}
        item.update(
            emails=[e["email"] for e in emails[contact.pk]],
            phones=[p["number"] for p in phones[contact.pk]],
            email_details=emails[contact.pk],
            phone_details=phones[contact.pk],
            tags=sorted(tags[contact.pk]),
            custom_fields=contact.custom,
            possible_duplicates=[],
        )
        items.append(item)
    return items


class CompanyIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "Initech", "domain": "initech.example", "industry": "Software"}]}
    )

    name: str | None = None
    domain: str | None = None
    industry: str | None = None
    size: str | None = None
    phone: str | None = None
    street: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None
    owner_id: str | None = None
    tags: list[str] | None = None
    external_id: str | None = None
    custom_fields: dict[str, Any] | None = None


class CompanyOut(TaggedOut):
    id: UUID
    name: str
    domain: str
    industry: str
    size: str
    phone: str
    street: str
    city: str
    region: str
    postal_code: str
    country: str
    owner_id: UUID | None
    tags: list[str]
    external_id: str
    custom_fields: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class StageIn(Schema):
    id: str | None = None
    name: str
    probability: int = 0
    kind: str = "open"


class StageOut(Schema):
    id: UUID
    name: str
    position: int
    probability: int
    kind: str


class PipelineIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Renewals",
                    "stages": [
                        {"name": "Due", "probability": 50},
                        {"name": "Renewed", "probability": 100, "kind": "won"},
                        {"name": "Churned", "probability": 0, "kind": "lost"},
                    ],
                }
            ]
        }
    )

    name: str | None = None
    is_default: bool | None = None
    stages: list[StageIn] | None = None


class PipelineOut(Schema):
    id: UUID
    name: str
    position: int
    is_default: bool
    stages: list[StageOut]

    @staticmethod
    def resolve_stages(obj):
        return list(obj.stages.all())


class DealIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "Initech renewal", "value": "12000.00", "currency": "GBP"}]}
    )

    name: str | None = None
    value: Any = None
    currency: str | None = None
    pipeline_id: str | None = None
    stage_id: str | None = None
    expected_close: str | None = None
    close_reason: str | None = None
    owner_id: str | None = None
    company_id: str | None = None
    contact_ids: list[str] | None = None
    tags: list[str] | None = None
    custom_fields: dict[str, Any] | None = None


class DealOut(TaggedOut):
    id: UUID
    name: str
    value: Decimal
    currency: str
    pipeline_id: UUID
    stage_id: UUID
    stage_name: str
    status: str
    expected_close: date | None
    closed_at: datetime | None
    close_reason: str
    owner_id: UUID | None
    company_id: UUID | None
    contact_ids: list[UUID]
    tags: list[str]
    custom_fields: dict[str, Any]
    last_activity_at: datetime | None = Field(
        None,
        description="The latest edit, note, task change or stage move (the list filters quiet_since, active_after)",
    )
    stage_entered_at: datetime | None = Field(None, description="When the deal entered its current stage")
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_stage_name(obj):
        return obj.stage.name

    @staticmethod
    def resolve_contact_ids(obj):
        return [c.pk for c in obj.contacts.all()]


class TaskIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"title": "Call back about the quote", "due_at": "2026-12-01T10:00:00Z"}]}
    )

    title: str | None = None
    description: str | None = None
    due_at: str | None = None
    remind_at: str | None = None
    assignee_id: str | None = None
    status: str | None = None
    contact_id: str | None = None
    company_id: str | None = None
    deal_id: str | None = None


class TaskOut(Schema):
    id: UUID
    title: str
    description: str
    due_at: datetime | None
    remind_at: datetime | None
    assignee_id: UUID | None
    status: str
    completed_at: datetime | None
    contact_id: UUID | None
    company_id: UUID | None
    deal_id: UUID | None
    created_at: datetime
    updated_at: datetime


class NoteIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"body": "<p>Met at the <strong>expo</strong>.</p>", "contact_id": "…"}]}
    )

    body: str | None = None
    kind: str | None = None
    subject: str | None = None
    contact_id: str | None = None
    company_id: str | None = None
    deal_id: str | None = None


class NoteOut(Schema):
    id: UUID
    kind: str
    subject: str
    body: str
    author_id: UUID | None
    contact_id: UUID | None
    company_id: UUID | None
    deal_id: UUID | None
    created_at: datetime
    updated_at: datetime


class CustomFieldIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"object_type": "contact", "label": "Plan", "field_type": "select", "options": ["Free", "Gold"]}
            ]
        }
    )

    object_type: str | None = None
    key: str | None = None
    label: str | None = None
    field_type: str | None = None
    options: list[str] | None = None
    required: bool | None = None
    position: int | None = None


class CustomFieldOut(Schema):
    id: UUID
    object_type: str
    key: str
    label: str
    field_type: str
    options: list[str]
    required: bool
    position: int


class SearchHit(Schema):
    type: str
    id: UUID
    title: str
    subtitle: str
    url: str


class SearchOut(Schema):
    items: list[SearchHit]


class SettingsIn(Schema):
    agent_visibility: str | None = None
    default_currency: str | None = None
    import_hidden_matches: str | None = Field(
        None, description="report or skip: an import's row matching a contact the importer may not see"
    )


class SettingsOut(Schema):
    agent_visibility: str
    default_currency: str
    import_hidden_matches: str


# --- imports, exports, duplicates --------------------------------------------------


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
    with_problems: int = Field(
        0, description="Rows written without some invalid values (each listed in the error report)"
    )
    possible_duplicates: int = Field(0, description="Created contacts sharing an email or phone with another one")
    encoding: str = Field("", description="The CSV's character encoding, as detected (empty for XLSX)")
    value_mapping: dict[str, dict[str, str]] = Field(default_factory=dict)
    error: str
    error_report: str | None = Field(
        None, description="Download link of the error report (CSV): rejected rows and values left out"
    )
    created_at: datetime
    finished_at: datetime | None

    @staticmethod
    def resolve_value_mapping(obj):
        from octopushx.crm.imports import SKIP

        return {h: {k: ("" if v == SKIP else v) for k, v in values.items()} for h, values in obj.value_mapping.items()}

    @staticmethod
    def resolve_progress(obj):
        from octopushx.crm.imports import progress

        return progress(obj)

    @staticmethod
    def resolve_error_report(obj):
        if not obj.error_report_id:
            return None
        return reverse("api:crm_import_errors", kwargs={"import_id": obj.pk})


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
    error: str = ""  # why it failed (status "failed")
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


class DuplicateOut(Schema):
    first_id: UUID
    first_name: str
    second_id: UUID
    second_name: str
    reason: str
    score: int


class MergeIn(Schema):
    remove_id: str = Field(description="The contact folded into this one (it is deleted)")


def page_of(item: type[Schema], name: str) -> type[Schema]:
    return type(name, (Schema,), {"__annotations__": {"items": list[item], "next": str | None}})


ContactPage = page_of(ContactOut, "ContactPage")
CompanyPage = page_of(CompanyOut, "CompanyPage")
DealPage = page_of(DealOut, "DealPage")
TaskPage = page_of(TaskOut, "TaskPage")
NotePage = page_of(NoteOut, "NotePage")
PipelinePage = page_of(PipelineOut, "PipelinePage")
CustomFieldPage = page_of(CustomFieldOut, "CustomFieldPage")
ImportPage = page_of(ImportOut, "ImportPage")
