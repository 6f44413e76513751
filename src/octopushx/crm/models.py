"""OctoCRM records: contacts, companies, pipelines, deals, tasks, notes, tags and custom fields.

Every model is tenant-owned (``TenantModel``) and reached only through ``for_tenant`` /
``get_for_tenant``. Emails and phone numbers live in their own indexed tables so a call
can be matched to a contact by its E.164 number and search stays fast on large tenants.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from octopushx.core.models import TenantModel


class ObjectType(models.TextChoices):
    CONTACT = "contact", "Contact"
    COMPANY = "company", "Company"
    DEAL = "deal", "Deal"


class Visibility(models.TextChoices):
    OWN = "own", "Agents see the records they own"
    TEAM = "team", "Agents see the records of their team"
    ALL = "all", "Everyone sees every record"


class HiddenMatch(models.TextChoices):
    """What an import does with a row matching a record the importing member may not see."""

    REPORT = "report", "Reject the row as \u201cexists, not yours\u201d (listed in the error report)"
    SKIP = "skip", "Skip the row silently (counted as skipped)"


class CrmSettings(TenantModel):
    """Tenant-level CRM policy; one row per tenant, created on first use."""

    agent_visibility = models.CharField(max_length=8, choices=Visibility.choices, default=Visibility.OWN)
    default_currency = models.CharField(max_length=3, default="GBP")
    import_hidden_matches = models.CharField(max_length=8, choices=HiddenMatch.choices, default=HiddenMatch.REPORT)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="crm_settings_one_per_tenant")]


class Tag(TenantModel):
    name = models.CharField(max_length=60)
    color = models.CharField(max_length=7, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="crm_tag_unique_name")]

    def __str__(self) -> str:
        return self.name


class FieldType(models.TextChoices):
    TEXT = "text", "Text"
    LONG_TEXT = "long_text", "Long text"
    NUMBER = "number", "Number"
    CURRENCY = "currency", "Currency"
    DATE = "date", "Date"
    BOOLEAN = "boolean", "Yes / no"
    SELECT = "select", "Single select"
    MULTI_SELECT = "multi_select", "Multi select"
    URL = "url", "URL"
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone"


class CustomField(TenantModel):
    """A tenant-defined field on contacts, companies or deals; values live in ``custom`` JSON."""

    object_type = models.CharField(max_length=16, choices=ObjectType.choices)
    key = models.SlugField(max_length=60)
    label = models.CharField(max_length=120)
    field_type = models.CharField(max_length=16, choices=FieldType.choices)
    options = models.JSONField(default=list, blank=True)
    required = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["object_type", "position", "label"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "object_type", "key"], name="crm_custom_field_unique_key")
        ]

    def __str__(self) -> str:
        return self.label


class Address(models.Model):
    street = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True)

    class Meta:
        abstract = True


class Company(TenantModel, Address):
    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=200, blank=True)
    industry = models.CharField(max_length=100, blank=True)
    size = models.CharField(max_length=20, blank=True)
    phone = models.CharField(max_length=20, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="companies")
    external_id = models.CharField(max_length=100, blank=True)
    custom = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "companies"
        indexes = [
            models.Index(fields=["tenant", "name"]),
            models.Index(fields=["tenant", "domain"]),
            models.Index(fields=["tenant", "owner"]),
            models.Index(fields=["tenant", "-created_at"]),
        ]

    def __str__(self) -> str:
        return self.name


class Lifecycle(models.TextChoices):
    SUBSCRIBER = "subscriber", "Subscriber"
    LEAD = "lead", "Lead"
    MQL = "mql", "Marketing qualified lead"
    SQL = "sql", "Sales qualified lead"
    OPPORTUNITY = "opportunity", "Opportunity"
    CUSTOMER = "customer", "Customer"
    EVANGELIST = "evangelist", "Evangelist"
    OTHER = "other", "Other"


class LeadStatus(models.TextChoices):
    NEW = "new", "New"
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    CONNECTED = "connected", "Connected"
    UNQUALIFIED = "unqualified", "Unqualified"
    BAD_TIMING = "bad_timing", "Bad timing"


class Consent(models.TextChoices):
    UNKNOWN = "unknown", "Unknown"
    GRANTED = "granted", "Granted"
    WITHDRAWN = "withdrawn", "Withdrawn"


class LawfulBasis(models.TextChoices):
    NONE = "", "Not recorded"
    CONSENT = "consent", "Consent"
    CONTRACT = "contract", "Contract"
    LEGAL_OBLIGATION = "legal_obligation", "Legal obligation"
    VITAL_INTERESTS = "vital_interests", "Vital interests"
    PUBLIC_TASK = "public_task", "Public task"
    LEGITIMATE_INTERESTS = "legitimate_interests", "Legitimate interests"


class Contact(TenantModel, Address):
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    # Primary email and phone are copied here so lists sort and show them without joins.
    email = models.CharField(max_length=254, blank=True)
    phone = models.CharField(max_length=20, blank=True)
    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts")
    job_title = models.CharField(max_length=120, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="contacts")
    lifecycle_stage = models.CharField(max_length=16, choices=Lifecycle.choices, default=Lifecycle.LEAD)
    lead_status = models.CharField(max_length=16, choices=LeadStatus.choices, default=LeadStatus.NEW)
    preferred_language = models.CharField(max_length=16, blank=True)
    consent = models.CharField(max_length=16, choices=Consent.choices, default=Consent.UNKNOWN)
    consent_at = models.DateTimeField(null=True, blank=True)
    lawful_basis = models.CharField(max_length=24, choices=LawfulBasis.choices, blank=True, default="")
    restricted = models.BooleanField(default=False, help_text="GDPR restriction of processing")
    external_id = models.CharField(max_length=100, blank=True)
    custom = models.JSONField(default=dict, blank=True)
    merged_ids = models.JSONField(default=list, blank=True, help_text="Contacts merged into this one")
    original_created_at = models.DateTimeField(
        null=True, blank=True, help_text="When the record was created in the system it was imported from"
    )

    class Meta:
        ordering = ["last_name", "first_name"]
        indexes = [
            models.Index(fields=["tenant", "last_name", "first_name"]),
            models.Index(fields=["tenant", "first_name"]),
            models.Index(fields=["tenant", "email"]),
            # An agent's own contacts in name order, the list page's default: no walk past everyone else's.
            models.Index(fields=["tenant", "owner", "last_name", "first_name"]),
            # ... and newest first, the order of search results: a page walks their rows alone.
            models.Index(fields=["tenant", "owner", "-created_at"], name="crm_contact_owner_new_idx"),
            # the ids of the contacts a member owns, read from the index alone (which tasks and notes
            # an agent sees: crm.visibility)
            models.Index(fields=["tenant", "owner", "id"], name="crm_contact_owner_ids_idx"),
            # A company's contacts newest first (the API's order): SQLite walked the whole tenant's
            # (tenant, created) index instead, skipping other companies' rows. No tenant column:
            # company ids are unique anyway, and with one SQLite took it to scan the whole tenant.
            models.Index(fields=["company", "-created_at"], name="crm_contact_company_new_idx"),
            models.Index(fields=["tenant", "lifecycle_stage"]),
            models.Index(fields=["tenant", "lead_status"]),
            models.Index(fields=["tenant", "external_id"]),
            models.Index(fields=["tenant", "-created_at"]),
            models.Index(fields=["tenant", "-updated_at"]),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or self.email or self.phone or "(no name)"


class ContactEmail(TenantModel):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="emails")
    email = models.CharField(max_length=254)
    label = models.CharField(max_length=30, blank=True)
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_primary", "created_at"]
        indexes = [models.Index(fields=["tenant", "email"])]


class ContactPhone(TenantModel):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(max_length=20, help_text="E.164")
    label = models.CharField(max_length=30, blank=True)
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_primary", "created_at"]
        indexes = [models.Index(fields=["tenant", "number"])]


class StageKind(models.TextChoices):
    OPEN = "open", "Open"
    WON = "won", "Won"
    LOST = "lost", "Lost"


class Pipeline(TenantModel):
    name = models.CharField(max_length=120)
    position = models.PositiveIntegerField(default=0)
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class Stage(TenantModel):
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(max_length=120)
    position = models.PositiveIntegerField(default=0)
    probability = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=8, choices=StageKind.choices, default=StageKind.OPEN)

    class Meta:
        ordering = ["pipeline", "position"]

    def __str__(self) -> str:
        return self.name


class LastActivityField(models.DateTimeField):
    """``Deal.last_activity_at`` on a save of the deal: the ``updated_at`` that save has just set (an edit
    is activity), to the microsecond; ``updated_at`` comes first in the field order, so it is set by then."""

    def pre_save(self, model_instance, add):
        setattr(model_instance, self.attname, model_instance.updated_at)
        return model_instance.updated_at


class Deal(TenantModel):
    name = models.CharField(max_length=200)
    value = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, default="GBP")
    pipeline = models.ForeignKey(Pipeline, on_delete=models.PROTECT, related_name="deals")
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="deals")
    status = models.CharField(max_length=8, choices=StageKind.choices, default=StageKind.OPEN)
    expected_close = models.DateField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=300, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="deals")
    contacts = models.ManyToManyField(Contact, blank=True, related_name="deals")
    tags = models.ManyToManyField(Tag, blank=True, related_name="deals")
    custom = models.JSONField(default=dict, blank=True)
    # Kept by crm.activity: the latest edit, note, task change or stage move; when it entered its stage.
    last_activity_at = LastActivityField(null=True, blank=True)
    stage_entered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # stale deals (reports): the quietest open deals first, without a look-up per deal
            models.Index(fields=["tenant", "status", "last_activity_at"], name="crm_deal_quiet_idx"),
            models.Index(fields=["tenant", "stage"]),
            models.Index(fields=["tenant", "pipeline", "status"]),
            models.Index(fields=["tenant", "owner"]),
            models.Index(fields=["tenant", "expected_close"]),
            models.Index(fields=["tenant", "-created_at"]),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        fields = kwargs.get("update_fields")
        if fields is not None and "updated_at" in fields:  # an edit is activity (crm.activity)
            kwargs["update_fields"] = {*fields, "last_activity_at"}
        super().save(*args, **kwargs)


class DealStageChange(TenantModel):
    """One move of a deal into a stage, kept forever (append-only): funnels and time in stage read it.

    Written by ``services.deals`` on create (``from_stage`` empty) and on every stage change, in the
    same transaction. Stage names are copied so the history survives a renamed or deleted stage.
    Rows backfilled from the audit trail (crm 0015) say so in ``backfilled``.
    """

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_changes")
    pipeline = models.ForeignKey(Pipeline, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    from_stage = models.ForeignKey(Stage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    to_stage = models.ForeignKey(Stage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    from_stage_name = models.CharField(max_length=120, blank=True)
    to_stage_name = models.CharField(max_length=120, blank=True)
    to_kind = models.CharField(max_length=8, choices=StageKind.choices, default=StageKind.OPEN)
    changed_at = models.DateTimeField()
    # When the deal had entered ``from_stage`` (the move before this one); empty on a deal's first
    # move. Time in stage is ``changed_at - from_entered_at``, read without the deal's history.
    from_entered_at = models.DateTimeField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    backfilled = models.BooleanField(default=False)

    class Meta:
        ordering = ["changed_at", "created_at"]
        indexes = [
            models.Index(fields=["tenant", "deal", "changed_at"]),
            models.Index(fields=["tenant", "to_stage", "changed_at"]),
            # the moves made in a period (time in stage) without reading every deal's history
            models.Index(fields=["tenant", "changed_at"], name="crm_stagechange_when_idx"),
        ]

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("Deal stage history is append-only")
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        return f"{self.from_stage_name or '(new)'} -> {self.to_stage_name}"


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


class Related(models.Model):
    """A task or note belongs to at most one contact, company or deal."""

    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    deal = models.ForeignKey(Deal, null=True, blank=True, on_delete=models.CASCADE, related_name="+")

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db, field_names, values):
        row = super().from_db(db, field_names, values)
        row._loaded_deal_id = row.__dict__.get("deal_id")  # crm.activity: the deal it may leave
        return row

    @property
    def related(self):
        return self.contact or self.company or self.deal


class Task(TenantModel, Related):
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    remind_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "created_at"]
        indexes = [
            models.Index(fields=["tenant", "assignee", "status", "due_at"]),
            models.Index(fields=["tenant", "status", "remind_at"]),
            models.Index(fields=["tenant", "-created_at"]),
            # tasks completed in a period (reports) without reading every done task
            models.Index(fields=["tenant", "completed_at"], name="crm_task_completed_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class NoteKind(models.TextChoices):
    NOTE = "note", "Note"
    EMAIL = "email", "Logged email"


class Note(TenantModel, Related):
    kind = models.CharField(max_length=8, choices=NoteKind.choices, default=NoteKind.NOTE)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(help_text="Sanitised HTML")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "-created_at"])]

    def __str__(self) -> str:
        return self.subject or self.get_kind_display()


class SavedView(TenantModel):
    """A named list filter (query string) of one user, or shared with the whole tenant."""

    object_type = models.CharField(max_length=16, choices=ObjectType.choices)
    name = models.CharField(max_length=120)
    query = models.CharField(max_length=2000, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    shared = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]


class IdempotencyKey(TenantModel):
    """The first response to a POST carrying ``Idempotency-Key``; replays by the same caller get it back.

    ``scope`` is the caller (``Actor.ref``: the member, and the token when one is used), so a key
    another member or token happens to send starts its own request rather than reading this one.
    """

    scope = models.CharField(max_length=64, default="")
    key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "scope", "key"], name="crm_idempotency_unique_scoped_key")
        ]


class ImportStatus(models.TextChoices):
    PENDING = "pending", "Waiting for the column mapping"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class Import(TenantModel):
    """One uploaded file being turned into records; the job updates counts as it goes."""

    object_type = models.CharField(max_length=16, choices=ObjectType.choices, default=ObjectType.CONTACT)
    filename = models.CharField(max_length=255, blank=True)
    file = models.ForeignKey("core.Blob", null=True, on_delete=models.SET_NULL, related_name="+")
    match_on = models.CharField(max_length=16, default="email")
    on_match = models.CharField(max_length=8, default="update")
    mapping = models.JSONField(default=dict, blank=True)
    headers = models.JSONField(default=list, blank=True)
    sample = models.JSONField(default=list, blank=True, help_text="The first rows, for the mapping preview")
    encoding = models.CharField(max_length=32, blank=True, help_text="The CSV's character encoding, as detected")
    value_mapping = models.JSONField(
        default=dict, blank=True, help_text="Per column: a value found in the file → the option it stands for"
    )
    file_check = models.JSONField(default=dict, blank=True, help_text="The whole-file check: per-column problems")
    status = models.CharField(max_length=10, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    with_problems = models.PositiveIntegerField(default=0, help_text="Rows written without some invalid values")
    possible_duplicates = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    error_report = models.ForeignKey("core.Blob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]


class Export(TenantModel):
    """A list (with its filters) written to CSV or XLSX by a job, stored as an encrypted blob."""

    object_type = models.CharField(max_length=16, choices=ObjectType.choices)
    format = models.CharField(max_length=4, default="csv")
    filters = models.JSONField(default=dict, blank=True)
    ids = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    rows = models.PositiveIntegerField(default=0)
    skipped_restricted = models.PositiveIntegerField(default=0)
    file = models.ForeignKey("core.Blob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]


class Merge(TenantModel):
    """A merge of two contacts, with what is needed to undo it (within the session that made it)."""

    kept = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    removed_id = models.UUIDField()
    removed = models.JSONField(default=dict, help_text="The removed contact's fields")
    kept_before = models.JSONField(default=dict, help_text="The kept contact's fields before the merge")
    moved = models.JSONField(default=dict, help_text="Ids of the rows moved from the removed contact")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"merge into {self.kept_id}"

    @property
    def removed_name(self) -> str:
        name = " ".join(filter(None, (self.removed.get("first_name"), self.removed.get("last_name"))))
        return name or "a contact"
