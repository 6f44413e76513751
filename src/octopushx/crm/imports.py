"""Contact import from CSV or XLSX: decode, map columns, validate every row, write in chunks.

A row is validated completely before anything is written, and each chunk of rows is
written in one transaction together with the import's progress counters, so a retried
job resumes after the last committed row and never half-imports a row. Rejected rows go
to a downloadable error report (an encrypted blob).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from octopushx.core import audit, blobs, events, jobs, maintenance
from octopushx.core.bulk import fast_insert
from octopushx.core.context import Actor
from octopushx.crm import fields as rules
from octopushx.crm import services
from octopushx.crm.models import (
    Company,
    Consent,
    Contact,
    ContactEmail,
    ContactPhone,
    Import,
    ImportStatus,
    LawfulBasis,
    LeadStatus,
    Lifecycle,
    ObjectType,
)
from octopushx.tenancy.models import Membership

CHUNK = 1000
MAX_BYTES = getattr(settings, "CRM_IMPORT_MAX_BYTES", 100 * 1024 * 1024)
MATCH_KEYS = ("email", "phone", "external_id")
ON_MATCH = ("update", "skip")
SAMPLE_ROWS = 10
TARGETS: dict[str, str] = {
    "first_name": "First name",
    "last_name": "Last name",
    "full_name": "Full name (split)",
    "email": "Email",
    "phone": "Phone",
    "company": "Company name",
    "job_title": "Job title",
    "owner_email": "Owner (email)",
    "tags": "Tags",
    "lifecycle_stage": "Lifecycle stage",
    "lead_status": "Lead status",
    "street": "Street",
    "city": "City",
    "region": "Region / state",
    "postal_code": "Postal code",
    "country": "Country (2 letters)",
    "preferred_language": "Preferred language",
    "consent": "Consent",
    "lawful_basis": "Lawful basis",
    "external_id": "External id",
}
SYNONYMS: dict[str, tuple[str, ...]] = {
    "first_name": ("first name", "firstname", "given name", "forename", "first"),
    "last_name": ("last name", "lastname", "surname", "family name", "last"),
    "full_name": ("name", "full name", "fullname", "contact name", "contact"),
    "email": ("email", "e-mail", "email address", "e-mail address", "mail", "primary email"),
    "phone": ("phone", "phone number", "telephone", "tel", "mobile", "mobile phone", "cell", "primary phone"),
    "company": ("company", "company name", "organisation", "organization", "account", "employer"),
    "job_title": ("job title", "title", "position", "role", "jobtitle"),
    "owner_email": ("owner", "owner email", "contact owner"),
    "tags": ("tags", "tag", "labels"),
    "lifecycle_stage": ("lifecycle", "lifecycle stage", "stage"),
    "lead_status": ("lead status", "status"),
    "street": ("street", "address", "street address", "address line 1"),
    "city": ("city", "town"),
    "region": ("region", "state", "county", "province"),
    "postal_code": ("postal code", "postcode", "zip", "zip code", "post code"),
    "country": ("country", "country code"),
    "preferred_language": ("language", "preferred language", "locale"),
    "consent": ("consent", "marketing consent"),
    "lawful_basis": ("lawful basis", "legal basis"),
    "external_id": ("external id", "external_id", "id", "record id", "crm id"),
}
CONTACT_DEFAULTS = {
    "first_name": "",
    "last_name": "",
    "job_title": "",
    "street": "",
    "city": "",
    "region": "",
    "postal_code": "",
    "country": "",
    "lifecycle_stage": Lifecycle.LEAD,
    "lead_status": LeadStatus.NEW,
    "preferred_language": "",
    "consent": Consent.UNKNOWN,
    "consent_at": None,
    "lawful_basis": "",
    "restricted": False,
    "external_id": "",
    "merged_ids": [],
}
COMPANY_DEFAULTS = {
    "street": "",
    "city": "",
    "region": "",
    "postal_code": "",
    "country": "",
    "domain": "",
    "industry": "",
    "size": "",
    "phone": "",
    "external_id": "",
    "custom": {},
}
CHOICES = {"lifecycle_stage": Lifecycle, "lead_status": LeadStatus, "consent": Consent, "lawful_basis": LawfulBasis}


# --- reading files -----------------------------------------------------------------


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 (BOM or obvious zero bytes) or Windows-1252."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    head = data[:4096]
    if head and head.count(b"\x00") > len(head) // 4:
        for encoding in ("utf-16-le", "utf-16-be"):
            try:
                text = data.decode(encoding)
                if "\x00" not in text[:1000]:
                    return text
            except UnicodeDecodeError:
                continue
    if b"\x00" in head:
        raise ValidationError({"file": ["This is not a text file: upload a CSV or an XLSX workbook"]})
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _looks_binary(text: str) -> bool:
    sample = text[:4096]
    controls = sum(1 for c in sample if ord(c) < 32 and c not in "\r\n\t")
    return bool(sample) and controls > len(sample) // 50


def read_table(data: bytes, filename: str = "") -> tuple[list[str], Iterator[list[str]]]:
    """The header and an iterator of rows (lists of stripped strings), blank lines dropped."""
    if data[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm")):
        return _read_xlsx(data)
    text = decode(data)
    if _looks_binary(text):
        raise ValidationError({"file": ["This is not a text file: upload a CSV or an XLSX workbook"]})
    sample = text[:20000]
    try:
        dialect = csv.Sniffer().sniff(sample.split("\n", 1)[0] if "\n" in sample else sample, delimiters=",;\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = (row for row in reader)
    return _header_and_rows(rows)


def _read_xlsx(data: bytes) -> tuple[list[str], Iterator[list[str]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        raise ValidationError({"file": ["This XLSX workbook cannot be read; save it again or export it as CSV"]})
    sheet = workbook.worksheets[0]

    def cells() -> Iterator[list[str]]:
        for row in sheet.iter_rows(values_only=True):
            values = [
                ""
                if v is None
                else (
                    v.isoformat()[:10]
                    if hasattr(v, "isoformat")
                    else str(int(v))
                    if isinstance(v, float) and v.is_integer()
                    else str(v)
                )
                for v in row
            ]
            while values and values[-1] == "":
                values.pop()
            yield values

    return _header_and_rows(cells())


def _header_and_rows(rows: Iterator[list[str]]) -> tuple[list[str], Iterator[list[str]]]:
    iterator = iter(rows)
    header: list[str] = []
    for row in iterator:
        if any(cell.strip() for cell in row):
            header = [cell.strip().lstrip("\ufeff") for cell in row]
            break
    if not header:
        raise ValidationError({"file": ["The file is empty"]})
    while header and not header[-1]:
        header.pop()

    def data_rows() -> Iterator[list[str]]:
        for row in iterator:
            if any(str(cell).strip() for cell in row):
                yield [str(cell).strip() for cell in row]

    return header, data_rows()


# --- mapping -----------------------------------------------------------------------


def _norm(text: str) -> str:
    return re.sub(r"[\s_\-.]+", " ", text.strip().lower())


def auto_mapping(tenant, headers: list[str]) -> dict[str, str]:
    """Guess a target for each column: standard fields by synonym, custom fields by key or label."""
    custom = services.custom_definitions(tenant, ObjectType.CONTACT)
    by_name = {_norm(d.key): f"cf.{d.key}" for d in custom.values()}
    by_name.update({_norm(d.label): f"cf.{d.key}" for d in custom.values()})
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for header in headers:
        name = _norm(header)
        target = by_name.get(name) or next(
            (t for t, words in SYNONYMS.items() if name in {_norm(w) for w in words} or name == _norm(t)), ""
        )
        if target in used:
            target = ""
        mapping[header] = target
        if target:
            used.add(target)
    return mapping


def clean_mapping(tenant, headers: list[str], mapping: dict[str, str] | None) -> dict[str, str]:
    if mapping is None:
        return auto_mapping(tenant, headers)
    if not isinstance(mapping, dict):
        raise ValidationError({"mapping": ["An object of column name → field"]})
    custom = services.custom_definitions(tenant, ObjectType.CONTACT)
    errors, cleaned, used = [], {}, set()
    for header in headers:
        target = str(mapping.get(header) or "").strip()
        if target and target not in TARGETS and not (target.startswith("cf.") and target[3:] in custom):
            errors.append(f"{header!r} → {target!r} is not a field")
        elif target and target in used:
            errors.append(f"Two columns are mapped to {target!r}")
        cleaned[header] = target
        used.add(target)
    unknown = [h for h in mapping if h not in headers]
    if unknown:
        errors.append(f"No column named {', '.join(map(repr, unknown))} in the file")
    if errors:
        raise ValidationError({"mapping": errors})
    if not any(cleaned.values()):
        raise ValidationError({"mapping": ["Map at least one column"]})
    return cleaned


# --- rows --------------------------------------------------------------------------


@dataclass
class Row:
    number: int
    raw: list[str]
    values: dict[str, Any] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


class RowCleaner:
    """Validates one mapped row with the same rules as every other write path."""

    def __init__(self, tenant, headers: list[str], mapping: dict[str, str]):
        self.tenant = tenant
        self.region = tenant.default_region
        self.width = len(headers)
        self.columns = [(index, mapping.get(header, "")) for index, header in enumerate(headers)]
        self.custom = services.custom_definitions(tenant, ObjectType.CONTACT)
        self.members = {
            m.user.email.lower(): m.user for m in Membership.objects.filter(tenant=tenant).select_related("user")
        }

    def clean(self, number: int, raw: list[str]) -> Row:
        row = Row(number, raw)
        if len(raw) > self.width and any(cell for cell in raw[self.width :]):
            row.errors.append(f"The row has {len(raw)} cells but the header has {self.width}")
            return row
        values: dict[str, Any] = {}
        custom_raw: dict[str, Any] = {}
        for index, target in self.columns:
            if not target:
                continue
            value = raw[index].strip() if index < len(raw) else ""
            if target.startswith("cf."):
                if value:
                    custom_raw[target[3:]] = value
            elif value:
                values[target] = value
        if "full_name" in values:
            first, _, last = values.pop("full_name").partition(" ")
            values.setdefault("first_name", first)
            values.setdefault("last_name", last)
        for name in ("email", "phone"):
            if name in values:
                try:
                    values[name] = (
                        rules.clean_email(values[name])
                        if name == "email"
                        else rules.clean_phone(values[name], self.region)
                    )
                except ValueError as exc:
                    row.errors.append(f"{name}: {exc}")
        for name, choices in CHOICES.items():
            if name in values:
                wanted = values[name].strip().lower().replace(" ", "_")
                match = next(
                    (v for v, label in choices.choices if wanted in (v, label.lower().replace(" ", "_"))), None
                )
                if match is None:
                    row.errors.append(
                        f"{name}: {values[name]!r} is not one of {', '.join(v for v in choices.values if v)}"
                    )
                else:
                    values[name] = match
        if "country" in values:
            values["country"] = values["country"].upper()
            if not re.match(r"^[A-Z]{2}$", values["country"]):
                row.errors.append("country: use a two-letter code such as GB")
        if "owner_email" in values:
            owner = self.members.get(values.pop("owner_email").lower())
            if owner is None:
                row.errors.append("owner: no member of this organisation has that email")
            else:
                values["owner"] = owner
        for name in (
            "first_name",
            "last_name",
            "job_title",
            "city",
            "region",
            "postal_code",
            "external_id",
            "preferred_language",
            "company",
        ):
            if len(values.get(name, "")) > (200 if name == "company" else 100):
                row.errors.append(f"{name}: too long")
        if "street" in values and len(values["street"]) > 200:
            row.errors.append("street: too long")
        if custom_raw:
            try:
                row.custom = rules.clean_custom(self.custom, custom_raw, region=self.region, partial=True)
            except ValidationError as exc:
                row.errors.extend(f"{k.split('.', 1)[-1]}: {' '.join(v)}" for k, v in exc.message_dict.items())
        if not any(values.get(n) for n in ("first_name", "last_name", "email", "phone")) and not row.errors:
            row.errors.append("The row has no name, email or phone number")
        row.values = values
        return row


# --- creating an import ------------------------------------------------------------


def create(
    tenant,
    actor: Actor,
    *,
    file,
    filename: str = "",
    object_type: str = "contacts",
    match_on: str = "email",
    on_match: str = "update",
    mapping: Any = None,
    start: bool = True,
) -> Import:
    """Check and store the upload; with ``start`` the job is queued at once (the API), otherwise
    the import waits for the user to confirm the mapping (the web page)."""
    errors: dict[str, list[str]] = {}
    if object_type not in ("contacts", "contact"):
        errors["object"] = ["Only contacts can be imported"]
    if match_on not in MATCH_KEYS:
        errors["match_on"] = [f"One of {', '.join(MATCH_KEYS)}"]
    if on_match not in ON_MATCH:
        errors["on_match"] = ["update or skip"]
    if isinstance(mapping, str) and mapping.strip():
        try:
            mapping = json.loads(mapping)
        except ValueError:
            errors["mapping"] = ["Not valid JSON"]
    elif isinstance(mapping, str):
        mapping = None
    if file is None:
        errors["file"] = ["Attach a CSV or XLSX file"]
    if errors:
        raise ValidationError(errors)
    size = getattr(file, "size", None)
    if size is not None and size > MAX_BYTES:
        raise ValidationError({"file": [f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it"]})
    data = file.read(MAX_BYTES + 1) if hasattr(file, "read") else bytes(file)
    if len(data) > MAX_BYTES:
        raise ValidationError({"file": [f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it"]})
    headers, rows = read_table(data, filename)
    if len(set(headers)) != len(headers) or any(not h for h in headers):
        raise ValidationError({"file": ["Every column needs a distinct name in the header row"]})
    sample = []
    total = 0
    for row in rows:
        if len(sample) < SAMPLE_ROWS:
            sample.append(row)
        total += 1
    if total == 0:
        raise ValidationError({"file": ["The file has a header but no data rows"]})
    clean = clean_mapping(tenant, headers, mapping)
    blob = blobs.store(tenant, data, filename=filename or "import.csv", content_type="text/csv", purpose="crm-import")
    with transaction.atomic():
        record = Import.objects.create(
            tenant=tenant,
            object_type=ObjectType.CONTACT,
            filename=(filename or "")[:255],
            file=blob,
            match_on=match_on,
            on_match=on_match,
            mapping=clean,
            headers=headers,
            sample=sample,
            total=total,
            status=ImportStatus.QUEUED if start else ImportStatus.PENDING,
            created_by=actor.user,
        )
        audit.record(
            tenant,
            actor,
            "import.created",
            obj=record,
            changes={"filename": [None, record.filename], "rows": [None, total], "match_on": [None, match_on]},
        )
        if start:
            _submit(record)
    record.refresh_from_db()
    return record


def _submit(record: Import) -> None:
    job = jobs.submit(
        "crm.import", tenant=record.tenant, payload={"import_id": str(record.pk)}, dedupe_key=f"crm.import:{record.pk}"
    )
    Import.objects.filter(pk=record.pk).update(job=job, status=ImportStatus.QUEUED)


def start(tenant, actor: Actor, record: Import, *, mapping: dict, match_on: str, on_match: str) -> Import:
    """Confirm the mapping of a pending import and queue it."""
    if record.status != ImportStatus.PENDING:
        raise ValidationError({"__all__": ["This import has already started"]})
    errors = {}
    if match_on not in MATCH_KEYS:
        errors["match_on"] = [f"One of {', '.join(MATCH_KEYS)}"]
    if on_match not in ON_MATCH:
        errors["on_match"] = ["update or skip"]
    if errors:
        raise ValidationError(errors)
    clean = clean_mapping(tenant, record.headers, mapping)
    with transaction.atomic():
        record.mapping, record.match_on, record.on_match = clean, match_on, on_match
        record.status = ImportStatus.QUEUED
        record.save(update_fields=["mapping", "match_on", "on_match", "status", "updated_at"])
        audit.record(tenant, actor, "import.started", obj=record, changes={"mapping": [None, clean]})
        _submit(record)
    return record


def preview(record: Import) -> list[Row]:
    cleaner = RowCleaner(record.tenant, record.headers, record.mapping)
    return [cleaner.clean(index + 2, raw) for index, raw in enumerate(record.sample)]


# --- running -----------------------------------------------------------------------


class Writer:
    """Writes validated rows chunk by chunk; matches existing contacts on the chosen key."""

    def __init__(self, record: Import, actor: Actor):
        self.record = record
        self.tenant = record.tenant
        self.actor = actor
        self.owner = record.created_by
        self.companies: dict[str, Company] = {
            name.lower(): Company(pk=pk, name=name)
            for pk, name in Company.objects.for_tenant(self.tenant).values_list("pk", "name")
        }
        self.seen: dict[str, Any] = {}  # match key value -> contact id created or matched in this import
        self.created_emails: set[str] = set()
        self.created_phones: set[str] = set()
        self.failures: list[tuple[int, str, list[str]]] = []

    def _key(self, row: Row) -> str | None:
        value = row.values.get(self.record.match_on)
        return value or None

    def _existing(self, rows: list[Row]) -> dict[str, Any]:
        keys = [k for k in (self._key(r) for r in rows) if k and k not in self.seen]
        if not keys:
            return {}
        match_on = self.record.match_on
        if match_on == "email":
            found = ContactEmail.objects.filter(tenant=self.tenant, email__in=keys).values_list("email", "contact_id")
        elif match_on == "phone":
            found = ContactPhone.objects.filter(tenant=self.tenant, number__in=keys).values_list("number", "contact_id")
        else:
            found = (
                Contact.objects.for_tenant(self.tenant).filter(external_id__in=keys).values_list("external_id", "pk")
            )
        return dict(found)

    def _company(self, name: str | None, new_companies: list[dict]) -> Company | None:
        if not name:
            return None
        company = self.companies.get(name.lower())
        if company is None:
            company = Company(pk=uuid.uuid4(), name=name)
            now = timezone.now()
            new_companies.append(
                {
                    **COMPANY_DEFAULTS,
                    "id": company.pk,
                    "tenant_id": self.tenant.pk,
                    "created_at": now,
                    "updated_at": now,
                    "name": name,
                    "owner_id": self.owner.pk if self.owner else None,
                }
            )
            self.companies[name.lower()] = company
        return company

    def write_chunk(self, rows: list[Row], counts: dict[str, int]) -> None:
        existing = self._existing(rows)
        now = timezone.now()
        new_contacts: list[dict] = []
        new_emails: list[dict] = []
        new_phones: list[dict] = []
        new_companies: list[dict] = []
        tag_links: list[tuple[uuid.UUID, list[str]]] = []
        updates: list[tuple[Any, Row]] = []
        tenant_id = self.tenant.pk
        owner_id = self.owner.pk if self.owner else None
        for row in rows:
            if row.errors:
                counts["failed"] += 1
                self.failures.append((row.number, "; ".join(row.errors), row.raw))
                continue
            key = self._key(row)
            match = self.seen.get(key) if key else None
            match = match or (existing.get(key) if key else None)
            if match is not None:
                if self.record.on_match == "skip":
                    counts["skipped"] += 1
                else:
                    updates.append((match, row))
                continue
            values = dict(row.values)
            company = self._company(values.pop("company", None), new_companies)
            email, phone = values.pop("email", None), values.pop("phone", None)
            tags = values.pop("tags", None)
            owner = values.pop("owner", None)
            contact_id = uuid.uuid4()
            new_contacts.append(
                {
                    **CONTACT_DEFAULTS,
                    **values,
                    "id": contact_id,
                    "tenant_id": tenant_id,
                    "created_at": now,
                    "updated_at": now,
                    "company_id": company.pk if company else None,
                    "owner_id": owner.pk if owner else owner_id,
                    "email": email or "",
                    "phone": phone or "",
                    "custom": row.custom,
                }
            )
            if email:
                self.created_emails.add(email)
                new_emails.append(
                    {
                        "id": uuid.uuid4(),
                        "tenant_id": tenant_id,
                        "created_at": now,
                        "updated_at": now,
                        "contact_id": contact_id,
                        "email": email,
                        "label": "",
                        "is_primary": True,
                    }
                )
            if phone:
                self.created_phones.add(phone)
                new_phones.append(
                    {
                        "id": uuid.uuid4(),
                        "tenant_id": tenant_id,
                        "created_at": now,
                        "updated_at": now,
                        "contact_id": contact_id,
                        "number": phone,
                        "label": "",
                        "is_primary": True,
                    }
                )
            if tags:
                tag_links.append((contact_id, [t.strip() for t in re.split(r"[;,]", tags) if t.strip()]))
            if key:
                self.seen[key] = contact_id
            counts["created"] += 1
        fast_insert(Company, new_companies)
        fast_insert(Contact, new_contacts)
        fast_insert(ContactEmail, new_emails)
        fast_insert(ContactPhone, new_phones)
        # The same event as services.create_contact, written in this chunk's transaction.
        events.emit_many(
            self.tenant,
            (("contact.created", {"contact_id": str(c["id"]), "restricted": c["restricted"]}) for c in new_contacts),
        )
        if tag_links:
            names = sorted({n for _c, tags in tag_links for n in tags}, key=str.lower)
            tags = {t.name.lower(): t for t in services.get_or_create_tags(self.tenant, names)}
            links = {(contact_id, tags[n.lower()].pk) for contact_id, row_tags in tag_links for n in row_tags}
            fast_insert(Contact.tags.through, [{"contact_id": c, "tag_id": t} for c, t in links], with_pk=False)
        for contact_id, row in updates:
            self._update(contact_id, row, counts)

    def possible_duplicates(self) -> int:
        """Created contacts that share an email or a phone number with another contact."""
        from django.db.models import Count

        found = 0
        for model, column, values in (
            (ContactEmail, "email", self.created_emails),
            (ContactPhone, "number", self.created_phones),
        ):
            values = sorted(values)
            for start in range(0, len(values), 500):
                found += (
                    model.objects.filter(tenant=self.tenant, **{f"{column}__in": values[start : start + 500]})
                    .values(column)
                    .annotate(n=Count("contact_id", distinct=True))
                    .filter(n__gt=1)
                    .count()
                )
        return found

    def _update(self, contact_id, row: Row, counts: dict[str, int]) -> None:
        contact = Contact.objects.for_tenant(self.tenant).filter(pk=contact_id).first()
        if contact is None:
            counts["failed"] += 1
            self.failures.append((row.number, "The matching contact was deleted during the import", row.raw))
            return
        data: dict[str, Any] = {
            k: v for k, v in row.values.items() if k not in ("company", "owner", "email", "phone", "tags")
        }
        if row.values.get("owner") is not None:
            data["owner_id"] = str(row.values["owner"].pk)
        if row.values.get("company"):
            new: list[dict] = []
            company = self._company(row.values["company"], new)
            fast_insert(Company, new)
            data["company_id"] = str(company.pk)
        existing_emails = [e.email for e in contact.emails.all()]
        if row.values.get("email") and row.values["email"] not in existing_emails:
            data["emails"] = existing_emails + [row.values["email"]]
        existing_phones = [p.number for p in contact.phones.all()]
        if row.values.get("phone") and row.values["phone"] not in existing_phones:
            data["phones"] = existing_phones + [row.values["phone"]]
        if row.values.get("tags"):
            current = [t.name for t in contact.tags.all()]
            data["tags"] = current + [t.strip() for t in re.split(r"[;,]", row.values["tags"]) if t.strip()]
        if row.custom:
            data["custom_fields"] = row.custom
        try:
            with transaction.atomic():
                services.update_contact(self.tenant, self.actor, contact, data)
            counts["updated"] += 1
        except ValidationError as exc:
            counts["failed"] += 1
            self.failures.append(
                (row.number, "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()), row.raw)
            )


def _error_report(record: Import, failures: list[tuple[int, str, list[str]]]):
    def lines() -> Iterator[bytes]:
        buffer = io.StringIO()
        buffer.write("\ufeff")
        writer = csv.writer(buffer)
        writer.writerow(["row", "reason", *record.headers])
        for number, reason, raw in failures:
            writer.writerow([number, reason, *raw])
            if buffer.tell() > 65536:
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode()

    return blobs.store(
        record.tenant,
        lines(),
        filename=f"import-errors-{record.pk}.csv",
        content_type="text/csv; charset=utf-8",
        purpose="crm-import-errors",
    )


def run(record: Import, job=None) -> Import:
    """Process the file from the first uncommitted row; safe to call again after a crash."""
    record.refresh_from_db()
    if record.status in (ImportStatus.DONE, ImportStatus.FAILED):
        return record
    Import.objects.filter(pk=record.pk).update(status=ImportStatus.RUNNING)
    maintenance.large_page_cache()
    actor = (
        Actor(user=record.created_by, label_override=f"import {record.filename}"[:200])
        if record.created_by
        else Actor.system("import")
    )
    data = blobs.read_bytes(record.file)
    headers, rows = read_table(data, record.filename)
    cleaner = RowCleaner(record.tenant, headers, record.mapping)
    writer = Writer(record, actor)
    already = record.processed
    counts = {"created": record.created, "updated": record.updated, "skipped": record.skipped, "failed": record.failed}
    previous_failures = _previous_failures(record)
    writer.failures.extend(previous_failures)
    batch: list[Row] = []
    processed = 0

    def flush() -> None:
        nonlocal processed
        chunk_counts = dict(counts)
        failures_before = len(writer.failures)
        try:
            with transaction.atomic():
                writer.write_chunk(batch, chunk_counts)
                Import.objects.filter(pk=record.pk).update(processed=processed + len(batch), **chunk_counts)
        except IntegrityError:
            # Something in the chunk clashed (a concurrent edit): write row by row instead.
            del writer.failures[failures_before:]
            chunk_counts = dict(counts)
            for row in batch:
                try:
                    with transaction.atomic():
                        writer.write_chunk([row], chunk_counts)
                except IntegrityError as exc:
                    chunk_counts["failed"] += 1
                    writer.failures.append((row.number, f"Could not be saved: {exc}", row.raw))
            Import.objects.filter(pk=record.pk).update(processed=processed + len(batch), **chunk_counts)
        counts.update(chunk_counts)
        processed += len(batch)
        batch.clear()
        if job is not None:
            jobs.heartbeat(job, processed / max(record.total, 1))

    for index, raw in enumerate(rows):
        if index < already:
            processed = index + 1
            continue
        batch.append(cleaner.clean(index + 2, raw))
        if len(batch) >= CHUNK:
            flush()
    if batch:
        flush()
    report = _error_report(record, writer.failures) if writer.failures else None
    duplicates = writer.possible_duplicates()
    with transaction.atomic():
        Import.objects.filter(pk=record.pk).update(
            status=ImportStatus.DONE,
            finished_at=timezone.now(),
            error_report=report,
            processed=processed,
            total=processed,
            possible_duplicates=duplicates,
            **counts,
        )
        record.refresh_from_db()
        audit.record(
            record.tenant,
            actor,
            "contact.imported",
            obj=record,
            changes={name: [None, counts[name]] for name in ("created", "updated", "skipped", "failed")},
        )
        events.emit(record.tenant, "import.completed", {"import_id": str(record.pk), **counts})
    maintenance.refresh_statistics()  # the tables may have grown many times over
    return record


def _previous_failures(record: Import) -> list[tuple[int, str, list[str]]]:
    # Failures of chunks committed before a crash are found again by re-validating those rows.
    if not record.processed or not record.failed:
        return []
    data = blobs.read_bytes(record.file)
    headers, rows = read_table(data, record.filename)
    cleaner = RowCleaner(record.tenant, headers, record.mapping)
    failures = []
    for index, raw in enumerate(rows):
        if index >= record.processed:
            break
        row = cleaner.clean(index + 2, raw)
        if row.errors:
            failures.append((row.number, "; ".join(row.errors), row.raw))
    return failures


@jobs.handler("crm.import")
def run_import(job) -> dict:
    record = Import.objects.get(pk=job.payload["import_id"])
    try:
        record = run(record, job)
    except ValidationError as exc:
        Import.objects.filter(pk=record.pk).update(
            status=ImportStatus.FAILED, error=" ".join(exc.messages)[:2000], finished_at=timezone.now()
        )
        raise jobs.PermanentError(" ".join(exc.messages))
    except Exception as exc:
        if job.attempts >= job.max_attempts:
            Import.objects.filter(pk=record.pk).update(status=ImportStatus.FAILED, error=str(exc)[:2000])
        raise
    return {"created": record.created, "updated": record.updated, "skipped": record.skipped, "failed": record.failed}


def progress(record: Import) -> float:
    if record.status == ImportStatus.DONE:
        return 1.0
    return min(1.0, record.processed / record.total) if record.total else 0.0
