"""Writing an import's checked rows, a chunk at a time, and its report of rejected rows."""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from octopushx.core import blobs, events
from octopushx.core.bulk import fast_insert
from octopushx.core.context import Actor
from octopushx.crm import services
from octopushx.crm.exports import safe_cell
from octopushx.crm.imports.rows import Issue, Row
from octopushx.crm.models import (
    Company,
    Consent,
    Contact,
    ContactEmail,
    ContactPhone,
    HiddenMatch,
    Import,
    LeadStatus,
    Lifecycle,
)
from octopushx.crm.visibility import crm_settings, restrict, visible_owner_ids
from octopushx.tenancy.models import Membership

Failure = tuple[int, list[Issue], list[str]]  # row number, what is wrong, the row's cells

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
    "original_created_at": None,
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


class Writer:
    """Writes validated rows chunk by chunk; matches existing contacts on the chosen key, among
    those the importing member may see (and so change): an import is no way round visibility."""

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
        self.hidden: set[str] = set()  # match key values of contacts the member may not see
        self.created_emails: set[str] = set()
        self.created_phones: set[str] = set()
        self.failures: list[Failure] = []
        # An import started by a person matches only what that person sees; one without a person
        # (the system) sees everything. A member who has left sees nothing.
        self.membership = (
            Membership.objects.filter(tenant=self.tenant, user=record.created_by).first() if record.created_by else None
        )
        self.sees_all = record.created_by is None or visible_owner_ids(self.membership) is None
        self.hidden_policy = crm_settings(self.tenant).import_hidden_matches

    def visible_contacts(self):
        contacts = Contact.objects.for_tenant(self.tenant)
        return contacts if self.sees_all else restrict(contacts, self.membership)

    def _key(self, row: Row) -> str | None:
        value = row.values.get(self.record.match_on)
        return value or None

    def _existing(self, rows: list[Row]) -> dict[str, Any]:
        keys = [k for k in (self._key(r) for r in rows) if k and k not in self.seen and k not in self.hidden]
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
        found = list(found)
        if self.sees_all:
            return dict(found)
        allowed = set(self.visible_contacts().filter(pk__in={pk for _k, pk in found}).values_list("pk", flat=True))
        matches: dict[str, Any] = {}
        for key, pk in found:
            if pk in allowed:
                matches[key] = pk
        self.hidden.update(key for key, _pk in found if key not in matches)
        return matches

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
                self.failures.append((row.number, row.issues, row.raw))
                continue
            key = self._key(row)
            match = self.seen.get(key) if key else None
            match = match or (existing.get(key) if key else None)
            if match is None and key in self.hidden:
                # Someone else's contact: never changed, never shown; said so or skipped as the admin chose.
                if self.hidden_policy == HiddenMatch.SKIP:
                    counts["skipped"] += 1
                else:
                    counts["failed"] += 1
                    column = self._match_column()
                    reason = f"A contact with this {self.record.match_on.replace('_', ' ')} exists and is not yours"
                    self.failures.append((row.number, [Issue(column, key, reason, fatal=True)], row.raw))
                continue
            if match is not None:
                if self.record.on_match == "skip":
                    counts["skipped"] += 1
                else:
                    updates.append((match, row))
                continue
            self._note_problems(row, counts)
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
            # The contact's primary email and phone rows, alike but for the value's column.
            primary = {"tenant_id": tenant_id, "created_at": now, "updated_at": now, "contact_id": contact_id,
                       "label": "", "is_primary": True}  # fmt: skip
            if email:
                self.created_emails.add(email)
                new_emails.append({**primary, "id": uuid.uuid4(), "email": email})
            if phone:
                self.created_phones.add(phone)
                new_phones.append({**primary, "id": uuid.uuid4(), "number": phone})
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

    def _match_column(self) -> str:
        targets = {"email": "email", "phone": "phone", "external_id": "external_id"}
        wanted = targets[self.record.match_on]
        return next((h for h, t in self.record.mapping.items() if t == wanted), self.record.match_on)

    def _note_problems(self, row: Row, counts: dict[str, int]) -> None:
        """A written row whose invalid values were left out: counted, and listed in the report."""
        if row.problems:
            counts["with_problems"] = counts.get("with_problems", 0) + 1
            self.failures.append((row.number, row.problems, row.raw))

    def possible_duplicates(self) -> int:
        """Created contacts that share an email or a phone number with another contact the
        importing member sees (a hidden contact is not even counted)."""
        from django.db.models import Count

        found = 0
        contacts = None if self.sees_all else self.visible_contacts()
        for model, column, values in (
            (ContactEmail, "email", self.created_emails),
            (ContactPhone, "number", self.created_phones),
        ):
            values = sorted(values)
            for start in range(0, len(values), 500):
                rows = model.objects.filter(tenant=self.tenant, **{f"{column}__in": values[start : start + 500]})
                if contacts is not None:
                    rows = rows.filter(contact__in=contacts)
                found += rows.values(column).annotate(n=Count("contact_id", distinct=True)).filter(n__gt=1).count()
        return found

    def _update(self, contact_id, row: Row, counts: dict[str, int]) -> None:
        contact = Contact.objects.for_tenant(self.tenant).filter(pk=contact_id).first()
        if contact is None:
            counts["failed"] += 1
            self.failures.append(
                (row.number, [Issue("", "", "The matching contact was deleted during the import", True)], row.raw)
            )
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
            self._note_problems(row, counts)
        except ValidationError as exc:
            counts["failed"] += 1
            issues = [Issue(k, "", " ".join(v), fatal=True) for k, v in exc.message_dict.items()]
            self.failures.append((row.number, issues, row.raw))


REPORT_HEADER = ["row", "reason", "column", "value", "result"]


def _error_report(record: Import, failures: list[Failure]):
    """One line per problem: the row, why, the column and its value, whether the row was imported
    (without that value) or not, then the row's cells. Every cell is guarded against formulas."""

    def lines() -> Iterator[bytes]:
        buffer = io.StringIO()
        buffer.write("\ufeff")
        writer = csv.writer(buffer)
        writer.writerow([safe_cell(cell) for cell in [*REPORT_HEADER, *record.headers]])
        for number, issues, raw in sorted(failures, key=lambda failure: failure[0]):
            cells = [safe_cell(cell) for cell in raw]
            rejected = any(issue.fatal for issue in issues)
            for issue in issues:
                result = "row not imported" if rejected else "imported without this value"
                writer.writerow([number, safe_cell(issue.reason), safe_cell(issue.column), safe_cell(issue.value),
                                 result, *cells])  # fmt: skip
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
