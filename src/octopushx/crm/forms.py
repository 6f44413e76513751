"""Web forms of the CRM. They only collect input: the services validate it, and their
field errors (``emails.1``, ``custom_fields.plan``, ``company_id``…) are put back on the
matching form field."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from octopushx.core.text import CleanTextFormMixin
from octopushx.crm import pickers
from octopushx.crm.models import (
    Company,
    Consent,
    Contact,
    FieldType,
    LawfulBasis,
    LeadStatus,
    Lifecycle,
    ObjectType,
    Stage,
    TaskStatus,
)
from octopushx.crm.services import custom_definitions

CUSTOM = "cf_"


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").replace(",", "\n").splitlines() if line.strip()]


def _picked(value) -> str | None:
    """The id a service takes for a picked row (a member's user id), or None when nothing is picked."""
    if value is None:
        return None
    if hasattr(value, "user_id"):
        return str(value.user_id)
    return str(value.pk)


def custom_form_field(definition) -> forms.Field:
    kind = definition.field_type
    common = {"label": definition.label, "required": False}
    options = [(o, o) for o in definition.options]
    if kind == FieldType.LONG_TEXT:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)
    if kind == FieldType.DATE:
        return forms.CharField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if kind == FieldType.BOOLEAN:
        return forms.BooleanField(**common)
    if kind == FieldType.SELECT:
        return forms.ChoiceField(choices=[("", "—")] + options, **common)
    if kind == FieldType.MULTI_SELECT:
        return forms.MultipleChoiceField(choices=options, widget=forms.CheckboxSelectMultiple, **common)
    if kind in (FieldType.NUMBER, FieldType.CURRENCY):
        return forms.CharField(widget=forms.TextInput(attrs={"inputmode": "decimal"}), **common)
    if kind == FieldType.URL:
        return forms.CharField(widget=forms.URLInput(), **common)
    if kind == FieldType.EMAIL:
        return forms.CharField(widget=forms.EmailInput(), **common)
    if kind == FieldType.PHONE:
        return forms.CharField(widget=forms.TextInput(attrs={"type": "tel"}), **common)
    return forms.CharField(**common)


class RecordForm(CleanTextFormMixin, forms.Form):
    """Base: adds the tenant's custom fields and maps service errors onto fields."""

    object_type: str = ""
    error_fields: dict[str, str] = {}
    # The form's parts, in order: (title, field names). Fields in no section go under "More".
    sections: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def __init__(self, *args, tenant, membership, instance=None, **kwargs):
        self.tenant, self.membership, self.instance = tenant, membership, instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_from(instance)
        super().__init__(*args, **kwargs)
        self.definitions = custom_definitions(tenant, self.object_type) if self.object_type else {}
        if "owner" in self.fields:
            self.fields["owner"] = pickers.member_field(tenant, label="Owner")
            if instance is None and membership is not None and not self.is_bound:
                # A new record is the creator's unless they hand it to someone else.
                self.initial.setdefault("owner", str(membership.user_id))
        for key, definition in self.definitions.items():
            self.fields[CUSTOM + key] = custom_form_field(definition)
            if instance is not None and key in instance.custom and not self.is_bound:
                self.initial[CUSTOM + key] = instance.custom[key]

    def initial_from(self, instance) -> dict:
        return {}

    @property
    def custom_fields(self):
        return [self[CUSTOM + key] for key in self.definitions]

    @property
    def standard_fields(self):
        return [self[name] for name in self.fields if not name.startswith(CUSTOM)]

    @property
    def grouped(self) -> list[tuple[str, list]]:
        """``[(title, [bound fields])]`` by ``sections``; custom fields last."""
        placed = {name for _, names in self.sections for name in names}
        groups = [(title, [self[n] for n in names if n in self.fields]) for title, names in self.sections]
        rest = [self[n] for n in self.fields if n not in placed and not n.startswith(CUSTOM)]
        if rest:
            groups.append(("More", rest))
        if self.definitions:
            groups.append(("Custom fields", self.custom_fields))
        return [(title, fields) for title, fields in groups if fields]

    def custom_data(self) -> dict:
        values = {}
        for key, definition in self.definitions.items():
            value = self.cleaned_data.get(CUSTOM + key)
            if definition.field_type == FieldType.BOOLEAN:
                values[key] = bool(value)
            else:
                values[key] = value if value not in (None, "", []) else None
        return values

    def apply_errors(self, exc: ValidationError) -> None:
        messages = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        for key, errors in messages.items():
            name = key
            if key.startswith("custom_fields."):
                name = CUSTOM + key.split(".", 1)[1]
            else:
                for prefix, target in self.error_fields.items():
                    if key == prefix or key.startswith(prefix + "."):
                        name = target
                        break
            self.add_error(name if name in self.fields else None, errors)


class ContactForm(RecordForm):
    object_type = ObjectType.CONTACT
    error_fields = {
        "emails.0": "email",
        "emails": "more_emails",
        "phones.0": "phone",
        "phones": "more_phones",
        "company_id": "company",
        "owner_id": "owner",
    }
    sections = (
        ("Person", ("first_name", "last_name", "job_title", "company", "owner")),
        ("Reach them", ("email", "phone", "more_emails", "more_phones", "preferred_language")),
        ("Sales", ("lifecycle_stage", "lead_status", "tags")),
        ("Address", ("street", "city", "region", "postal_code", "country")),
        ("Privacy", ("consent", "lawful_basis", "restricted")),
        ("Other", ("external_id",)),
    )

    first_name = forms.CharField(required=False, max_length=100)
    last_name = forms.CharField(required=False, max_length=100)
    email = forms.CharField(required=False, label="Email", widget=forms.EmailInput())
    more_emails = forms.CharField(
        required=False, label="Other emails", widget=forms.Textarea(attrs={"rows": 2}), help_text="One per line"
    )
    phone = forms.CharField(
        required=False,
        label="Phone",
        widget=forms.TextInput(attrs={"type": "tel"}),
        help_text="Any format; stored in international form",
    )
    more_phones = forms.CharField(
        required=False, label="Other phones", widget=forms.Textarea(attrs={"rows": 2}), help_text="One per line"
    )
    company = forms.Field(required=False)
    job_title = forms.CharField(required=False, max_length=120)
    owner = forms.Field(required=False)
    tags = forms.CharField(required=False, help_text="Comma-separated")
    lifecycle_stage = forms.ChoiceField(choices=Lifecycle.choices, initial=Lifecycle.LEAD)
    lead_status = forms.ChoiceField(choices=LeadStatus.choices, initial=LeadStatus.NEW)
    street = forms.CharField(required=False)
    city = forms.CharField(required=False)
    region = forms.CharField(required=False)
    postal_code = forms.CharField(required=False)
    country = forms.CharField(required=False, max_length=2, help_text="Two letters, e.g. GB")
    preferred_language = forms.CharField(required=False, max_length=16)
    consent = forms.ChoiceField(choices=Consent.choices, initial=Consent.UNKNOWN)
    lawful_basis = forms.ChoiceField(choices=LawfulBasis.choices, required=False)
    restricted = forms.BooleanField(
        required=False,
        label="Restrict processing (GDPR)",
        help_text="Kept, but never sent to AI analysis, workflows or exports",
    )
    external_id = forms.CharField(required=False, max_length=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["company"] = pickers.company_field(self.tenant, self.membership, label="Company")

    def initial_from(self, contact: Contact) -> dict:
        emails = [e.email for e in contact.emails.all()]
        phones = [p.number for p in contact.phones.all()]
        data = {
            name: getattr(contact, name)
            for name in (
                "first_name",
                "last_name",
                "job_title",
                "lifecycle_stage",
                "lead_status",
                "street",
                "city",
                "region",
                "postal_code",
                "country",
                "preferred_language",
                "consent",
                "lawful_basis",
                "restricted",
                "external_id",
            )
        }
        data.update(
            email=emails[0] if emails else "",
            more_emails="\n".join(emails[1:]),
            phone=phones[0] if phones else "",
            more_phones="\n".join(phones[1:]),
            company=str(contact.company_id or ""),
            owner=str(contact.owner_id or ""),
            tags=", ".join(t.name for t in contact.tags.all()),
        )
        return data

    def to_data(self) -> dict:
        data = dict(self.cleaned_data)
        emails = ([data["email"]] if data.get("email") else []) + _lines(data.pop("more_emails", ""))
        phones = ([data["phone"]] if data.get("phone") else []) + [
            line for line in (data.pop("more_phones", "") or "").splitlines() if line.strip()
        ]
        data.pop("email", None)
        data.pop("phone", None)
        for key in list(data):
            if key.startswith(CUSTOM):
                data.pop(key)
        data.update(
            emails=emails,
            phones=phones,
            company_id=_picked(data.pop("company")),
            owner_id=_picked(data.pop("owner")),
            tags=_lines(data.pop("tags", "")),
            custom_fields=self.custom_data(),
        )
        return data


class CompanyForm(RecordForm):
    object_type = ObjectType.COMPANY
    error_fields = {"owner_id": "owner"}
    sections = (
        ("Company", ("name", "domain", "industry", "size", "phone", "owner", "tags")),
        ("Address", ("street", "city", "region", "postal_code", "country")),
        ("Other", ("external_id",)),
    )

    name = forms.CharField(max_length=200)
    domain = forms.CharField(required=False)
    industry = forms.CharField(required=False)
    size = forms.ChoiceField(
        required=False,
        choices=[("", "—")] + [(s, s) for s in ("1-10", "11-50", "51-200", "201-1000", "1001-5000", "5000+")],
    )
    phone = forms.CharField(required=False, widget=forms.TextInput(attrs={"type": "tel"}))
    owner = forms.Field(required=False)
    tags = forms.CharField(required=False, help_text="Comma-separated")
    street = forms.CharField(required=False)
    city = forms.CharField(required=False)
    region = forms.CharField(required=False)
    postal_code = forms.CharField(required=False)
    country = forms.CharField(required=False, max_length=2)
    external_id = forms.CharField(required=False)

    def initial_from(self, company: Company) -> dict:
        data = {
            name: getattr(company, name)
            for name in (
                "name",
                "domain",
                "industry",
                "size",
                "phone",
                "street",
                "city",
                "region",
                "postal_code",
                "country",
                "external_id",
            )
        }
        data.update(owner=str(company.owner_id or ""), tags=", ".join(t.name for t in company.tags.all()))
        return data

    def to_data(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if not k.startswith(CUSTOM)}
        data.update(
            owner_id=_picked(data.pop("owner")), tags=_lines(data.pop("tags", "")), custom_fields=self.custom_data()
        )
        return data


class DealForm(RecordForm):
    object_type = ObjectType.DEAL
    error_fields = {
        "owner_id": "owner",
        "stage_id": "stage",
        "pipeline_id": "stage",
        "company_id": "company",
        "contact_ids": "contacts",
    }
    sections = (
        ("Deal", ("name", "value", "currency", "stage", "expected_close", "owner")),
        ("Who it is with", ("company", "contacts")),
        ("Outcome", ("close_reason", "tags")),
    )

    name = forms.CharField(max_length=200)
    value = forms.CharField(required=False, widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    currency = forms.CharField(required=False, max_length=3)
    stage = forms.ChoiceField(label="Pipeline and stage")
    expected_close = forms.CharField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    owner = forms.Field(required=False)
    company = forms.Field(required=False)
    contacts = forms.Field(required=False)
    close_reason = forms.CharField(required=False, label="Won / lost reason")
    tags = forms.CharField(required=False, help_text="Comma-separated")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stages = (
            Stage.objects.for_tenant(self.tenant)
            .select_related("pipeline")
            .order_by("pipeline__position", "pipeline__name", "position")
        )
        self.fields["stage"].choices = [(str(s.pk), f"{s.pipeline.name} · {s.name}") for s in stages]
        self.fields["company"] = pickers.company_field(self.tenant, self.membership, label="Company")
        self.fields["contacts"] = pickers.contact_field(self.tenant, self.membership, many=True, label="Contacts")

    def initial_from(self, deal) -> dict:
        return {
            "name": deal.name,
            "value": deal.value,
            "currency": deal.currency,
            "stage": str(deal.stage_id),
            "expected_close": deal.expected_close.isoformat() if deal.expected_close else "",
            "owner": str(deal.owner_id or ""),
            "company": str(deal.company_id or ""),
            "contacts": [str(pk) for pk in deal.contacts.values_list("pk", flat=True)],
            "close_reason": deal.close_reason,
            "tags": ", ".join(t.name for t in deal.tags.all()),
        }

    def to_data(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if not k.startswith(CUSTOM)}
        stage = Stage.objects.for_tenant(self.tenant).filter(pk=data.pop("stage")).first()
        data.update(
            stage_id=str(stage.pk) if stage else None,
            pipeline_id=str(stage.pipeline_id) if stage else None,
            owner_id=_picked(data.pop("owner")),
            company_id=_picked(data.pop("company")),
            contact_ids=[str(c.pk) for c in data.pop("contacts") or []],
            tags=_lines(data.pop("tags", "")),
            expected_close=data.get("expected_close") or None,
            custom_fields=self.custom_data(),
        )
        if not data.get("currency"):
            data.pop("currency")
        return data


class TaskForm(CleanTextFormMixin, forms.Form):
    title = forms.CharField(max_length=200)
    due_at = forms.CharField(required=False, label="Due", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    remind_at = forms.CharField(
        required=False, label="Remind me", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    assignee = forms.Field(required=False)
    status = forms.ChoiceField(choices=TaskStatus.choices, initial=TaskStatus.OPEN, required=False)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    RELATED = ("contact", "company", "deal")

    def __init__(self, *args, tenant, membership, related: bool = True, **kwargs):
        """``related``: offer pickers for the contact, company or deal (not on a record's own page)."""
        super().__init__(*args, **kwargs)
        self.fields["assignee"] = pickers.member_field(tenant, label="Assignee", help_text="Left empty: you")
        if not self.is_bound and membership is not None:
            self.initial.setdefault("assignee", str(membership.user_id))
        if related:
            self.fields["contact"] = pickers.contact_field(tenant, membership, label="Contact")
            self.fields["company"] = pickers.company_field(tenant, membership, label="Company")
            self.fields["deal"] = pickers.deal_field(tenant, membership, label="Deal")

    def clean(self):
        data = super().clean()
        if sum(1 for name in self.RELATED if data.get(name)) > 1:
            raise ValidationError("A task relates to one contact, company or deal at most: keep one of them.")
        return data

    def to_data(self) -> dict:
        data = dict(self.cleaned_data)
        assignee = data.pop("assignee")
        if assignee:
            data["assignee_id"] = _picked(assignee)
        for name in self.RELATED:
            row = data.pop(name, None)
            if row is not None:
                data[f"{name}_id"] = _picked(row)
        if not data.get("status"):
            data.pop("status", None)
        return data

    def apply_errors(self, exc: ValidationError) -> None:
        for key, errors in exc.message_dict.items():
            name = "assignee" if key == "assignee_id" else key.removesuffix("_id")
            self.add_error(name if name in self.fields else None, errors)


class ServiceErrorsMixin:
    """Put a service's ValidationError on the form: each message on its field, the rest on top."""

    def apply_errors(self, exc: ValidationError) -> None:
        for key, errors in exc.message_dict.items():
            self.add_error(key if key in self.fields else None, errors)


class CustomFieldForm(CleanTextFormMixin, ServiceErrorsMixin, forms.Form):
    object_type = forms.ChoiceField(choices=ObjectType.choices)
    label = forms.CharField(max_length=120)
    field_type = forms.ChoiceField(choices=FieldType.choices)
    options = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="For select fields: one option per line"
    )
    required = forms.BooleanField(required=False)


class CustomFieldEditForm(CleanTextFormMixin, ServiceErrorsMixin, forms.Form):
    """What can change on an existing field: its key and type stay, so stored values keep their meaning."""

    label = forms.CharField(max_length=120)
    options = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="One option per line. Records keep a value you remove; it no longer shows as a choice.",
    )
    required = forms.BooleanField(required=False)

    def __init__(self, *args, selectable: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not selectable:
            del self.fields["options"]


class PipelineForm(CleanTextFormMixin, forms.Form):
    name = forms.CharField(max_length=120)
    stages = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        help_text="One stage per line: name, probability, kind (open, won or lost). Empty: the standard stages.",
    )

    def to_data(self) -> dict:
        data = {"name": self.cleaned_data["name"]}
        lines = [line for line in self.cleaned_data.get("stages", "").splitlines() if line.strip()]
        if lines:
            stages = []
            for line in lines:
                parts = [p.strip() for p in line.split(",")]
                stages.append(
                    {
                        "name": parts[0],
                        "probability": parts[1] if len(parts) > 1 and parts[1] else 0,
                        "kind": parts[2] if len(parts) > 2 and parts[2] else "open",
                    }
                )
            data["stages"] = stages
        return data

    def apply_errors(self, exc: ValidationError) -> None:
        for key, errors in exc.message_dict.items():
            self.add_error("stages" if key.startswith("stages") else key if key in self.fields else None, errors)
