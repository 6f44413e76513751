"""OctoCRM in Octopush Shield: what data-subject requests find, export and erase in the CRM.

Contacts (with their notes, tasks and deal links), companies that name the person in their
own fields, and the stored files of imports and exports whose rows name the person. Files
are rewritten rather than deleted: a contact export loses the person's rows (a company or
deal export keeps its rows with the mentions replaced by ``[erased]``), an uploaded import
file keeps each row in its place with the person's cells replaced by ``[erased]`` (so its
counts, progress and error-report row numbers stay true) and its error report loses them.
"""

from __future__ import annotations

from django.apps import apps
from django.db import transaction
from django.urls import reverse
from django.utils.html import strip_tags
from django.utils.text import Truncator
from django.utils.timezone import localtime

from octopushx.core import audit, blobs
from octopushx.core.context import Actor
from octopushx.crm.models import (
    Company,
    Contact,
    ContactEmail,
    ContactPhone,
    CustomField,
    Deal,
    Export,
    FieldType,
    Import,
    Note,
    ObjectType,
    Task,
)
from octopushx.shield.privacy import tables
from octopushx.shield.privacy.subjects import ERASED, Found, Identity, Markers, as_json, normalise_phone, register

# --- contacts, notes, tasks, deals -----------------------------------------------------------


def find_contacts(tenant, identity: Identity, found: Found) -> list[str]:
    """Contacts by id, any of their emails or any of their numbers; their details become markers."""
    from django.db.models import Q

    query = Q(pk__in=[])
    if identity.contact_id:
        query |= Q(pk=identity.contact_id)
    if identity.email:
        email = identity.email.strip().lower()
        query |= Q(email__iexact=email) | Q(
            pk__in=ContactEmail.objects.for_tenant(tenant).filter(email__iexact=email).values("contact_id")
        )
    if identity.phone:
        number = normalise_phone(tenant, identity.phone)
        query |= Q(phone=number) | Q(
            pk__in=ContactPhone.objects.for_tenant(tenant).filter(number=number).values("contact_id")
        )
    try:
        contacts = list(Contact.objects.for_tenant(tenant).filter(query).prefetch_related("emails", "phones"))
    except Exception:  # a malformed contact id finds nobody
        return []
    for contact in contacts:
        _add_markers(found.markers, contact)
    return [str(contact.pk) for contact in contacts]


def _add_markers(markers: Markers, contact: Contact) -> None:
    markers.add_email(contact.email)
    markers.add_phone(contact.phone)
    markers.add_name(contact.first_name, contact.last_name)
    for extra in contact.emails.all():
        markers.add_email(extra.email)
    for extra in contact.phones.all():
        markers.add_phone(extra.number)


def export_contacts(tenant, ids) -> dict[str, bytes]:
    from octopushx.crm.services import contact_snapshot

    rows = [
        {"id": str(contact.pk), **contact_snapshot(contact), "created_at": contact.created_at}
        for contact in Contact.objects.for_tenant(tenant).filter(pk__in=ids)
    ]
    return {"contacts.json": as_json(rows)}


def erase_contacts(tenant, actor: Actor, ids) -> int:
    from octopushx.crm.services import delete_contact

    count = 0
    for contact in Contact.objects.for_tenant(tenant).filter(pk__in=ids):
        delete_contact(tenant, actor, contact)
        count += 1
    return count


def describe_contacts(tenant, ids) -> list[tuple[str, str]]:
    contacts = Contact.objects.for_tenant(tenant).filter(pk__in=ids).order_by("last_name", "first_name")
    return [
        (" — ".join(filter(None, (contact.full_name, contact.email, contact.phone))) or str(contact.pk),
         reverse("crm:contact", args=[contact.pk]))
        for contact in contacts
    ]  # fmt: skip


def rectify_contacts(tenant, actor: Actor, ids, changes: dict) -> int:
    """Correct the fields of each contact through the contact service (validated and audited)."""
    from octopushx.crm.services import update_contact

    contacts = list(Contact.objects.for_tenant(tenant).filter(pk__in=ids))
    for contact in contacts:
        update_contact(tenant, actor, contact, dict(changes))
    return len(contacts)


def restrict_contacts(tenant, actor: Actor, ids, restricted: bool, withdraw_consent: bool = False) -> int:
    """Set or lift restriction of processing (an objection also withdraws consent)."""
    from octopushx.crm.services import update_contact

    data: dict = {"restricted": restricted}
    if withdraw_consent:
        data["consent"] = "withdrawn"
    contacts = list(Contact.objects.for_tenant(tenant).filter(pk__in=ids))
    for contact in contacts:
        update_contact(tenant, actor, contact, data)
    return len(contacts)


def _on(moment) -> str:
    moment = localtime(moment)
    return f"{moment.day} {moment:%b %Y}"


def describe_notes(tenant, ids) -> list[tuple[str, str]]:
    notes = Note.objects.for_tenant(tenant).filter(pk__in=ids).order_by("created_at")
    return [
        (f"{note.get_kind_display()} of {_on(note.created_at)}: "
         f"{Truncator(note.subject or strip_tags(note.body)).chars(80)}",
         reverse("crm:contact", args=[note.contact_id]) if note.contact_id else "")
        for note in notes
    ]  # fmt: skip


def describe_tasks(tenant, ids) -> list[tuple[str, str]]:
    tasks = Task.objects.for_tenant(tenant).filter(pk__in=ids).order_by("created_at")
    return [
        (f"{Truncator(task.title).chars(80)} ({task.get_status_display().lower()})",
         reverse("crm:contact", args=[task.contact_id]) if task.contact_id else "")
        for task in tasks
    ]  # fmt: skip


def describe_deals(tenant, ids) -> list[tuple[str, str]]:
    deals = Deal.objects.for_tenant(tenant).filter(pk__in=ids).order_by("name")
    return [(deal.name, reverse("crm:deal", args=[deal.pk])) for deal in deals]


def describe_companies(tenant, ids) -> list[tuple[str, str]]:
    companies = Company.objects.for_tenant(tenant).filter(pk__in=ids).order_by("name")
    return [(company.name, reverse("crm:company", args=[company.pk])) for company in companies]


def describe_imports(tenant, ids) -> list[tuple[str, str]]:
    records = Import.objects.for_tenant(tenant).filter(pk__in=ids).order_by("created_at")
    return [
        (f"{record.filename} (imported {_on(record.created_at)})", reverse("crm:import", args=[record.pk]))
        for record in records
    ]


def describe_exports(tenant, ids) -> list[tuple[str, str]]:
    exports = Export.objects.for_tenant(tenant).filter(pk__in=ids).order_by("created_at")
    return [
        (f"{export.get_object_type_display()} list, {export.format.upper()}, exported {_on(export.created_at)}",
         reverse("crm:export", args=[export.pk]))
        for export in exports
    ]  # fmt: skip


def _related_finder(model_name: str):
    def find_related(tenant, identity: Identity, found: Found) -> list[str]:
        if not found.contact_ids:
            return []
        model = apps.get_model("crm", model_name)
        rows = model.objects.for_tenant(tenant).filter(contact_id__in=found.contact_ids)
        return [str(pk) for pk in rows.values_list("pk", flat=True)]

    return find_related


def _export_related(model_name: str, filename: str, fields: tuple[str, ...]):
    def export_related(tenant, ids) -> dict[str, bytes]:
        model = apps.get_model("crm", model_name)
        rows = [
            {"id": str(obj.pk), **{f: getattr(obj, f) for f in fields}, "created_at": obj.created_at}
            for obj in model.objects.for_tenant(tenant).filter(pk__in=ids)
        ]
        return {filename: as_json(rows)}

    return export_related


def _erase_related(model_name: str, service: str):
    def erase_related(tenant, actor: Actor, ids) -> int:
        from octopushx.crm import services

        model = apps.get_model("crm", model_name)
        delete = getattr(services, service)
        count = 0
        for obj in model.objects.for_tenant(tenant).filter(pk__in=ids):
            delete(tenant, actor, obj)
            count += 1
        return count

    return erase_related


def find_deals(tenant, identity: Identity, found: Found) -> list[str]:
    if not found.contact_ids:
        return []
    deals = Deal.objects.for_tenant(tenant).filter(contacts__in=found.contact_ids).distinct()
    return [str(pk) for pk in deals.values_list("pk", flat=True)]


def export_deals(tenant, ids) -> dict[str, bytes]:
    rows = [
        {"id": str(d.pk), "name": d.name, "value": str(d.value), "currency": d.currency, "status": d.status,
         "created_at": d.created_at}
        for d in Deal.objects.for_tenant(tenant).filter(pk__in=ids)
    ]  # fmt: skip
    return {"deals.json": as_json(rows)}


def unlink_deals(tenant, actor: Actor, ids) -> int:
    """Deals are the business's records: the person is unlinked, the deal stays.

    The contact's deletion (later in the same erasure) removes the links, so nothing changes
    here; the count is of the deals the person is unlinked from."""
    return len(ids)


# --- companies that name the person ----------------------------------------------------------

COMPANY_FIELDS = {  # field → longest stored value (the company service's limits)
    "name": 200, "industry": 100, "size": 100, "external_id": 100, "street": 200, "city": 100, "region": 100,
    "postal_code": 100,
}  # fmt: skip
CUSTOM_TEXT = {FieldType.TEXT: 255, FieldType.LONG_TEXT: 20000}
CUSTOM_CLEARED = (FieldType.EMAIL, FieldType.PHONE)


def _company_custom(tenant) -> dict[str, str]:
    kinds = (*CUSTOM_TEXT, *CUSTOM_CLEARED)
    definitions = CustomField.objects.for_tenant(tenant).filter(object_type=ObjectType.COMPANY, field_type__in=kinds)
    return dict(definitions.values_list("key", "field_type"))


def company_mentions(company: Company, custom: dict[str, str], markers: Markers) -> dict[str, str]:
    """The company's own fields (not its domain) that name the person, with their values."""
    mentions = {name: getattr(company, name) for name in COMPANY_FIELDS if markers.matches(getattr(company, name))}
    if company.phone and markers.matches(company.phone):
        mentions["phone"] = company.phone
    for key in custom:
        value = company.custom.get(key)
        if isinstance(value, str) and markers.matches(value):
            mentions[f"custom_fields.{key}"] = value
    return mentions


def find_companies(tenant, identity: Identity, found: Found) -> list[str]:
    if not found.markers:
        return []
    custom = _company_custom(tenant)
    return [
        str(company.pk)
        for company in Company.objects.for_tenant(tenant).iterator(chunk_size=2000)
        if company_mentions(company, custom, found.markers)
    ]


def export_companies(tenant, ids, found: Found) -> dict[str, bytes]:
    custom = _company_custom(tenant)
    rows = [
        {"id": str(company.pk), "name": company.name, "fields_naming_you": company_mentions(company, custom, found.markers)}
        for company in Company.objects.for_tenant(tenant).filter(pk__in=ids)
    ]  # fmt: skip
    return {"companies.json": as_json(rows)}


def erase_companies(tenant, actor: Actor, ids, found: Found) -> int:
    """Replace each mention with ``[erased]`` (a phone or email field is cleared), through the service."""
    from octopushx.crm.services import update_company

    custom = _company_custom(tenant)
    count = 0
    for company in Company.objects.for_tenant(tenant).filter(pk__in=ids):
        mentions = company_mentions(company, custom, found.markers)
        if not mentions:
            continue
        data: dict = {}
        values: dict = {}
        for name, value in mentions.items():
            if name == "phone":
                data["phone"] = ""
            elif name.startswith("custom_fields."):
                key = name.split(".", 1)[1]
                kind = custom[key]
                values[key] = None if kind in CUSTOM_CLEARED else found.markers.scrub(value)[: CUSTOM_TEXT[kind]]
            else:
                data[name] = found.markers.scrub(value)[: COMPANY_FIELDS[name]] or ERASED
        if values:
            data["custom_fields"] = values
        update_company(tenant, actor, company, data)
        count += 1
    return count


# --- imports and exports: the stored files --------------------------------------------------


def _read(blob) -> bytes:
    return blobs.read_bytes(blob) if blob is not None else b""


def _import_names_person(record: Import, markers: Markers) -> bool:
    if any(markers.row_matches(row) for row in record.sample or []) or markers.matches(record.filename):
        return True
    if record.file is not None and tables.names_person(_read(record.file), record.filename, markers):
        return True
    return record.error_report is not None and tables.names_person(_read(record.error_report), "", markers)


def find_imports(tenant, identity: Identity, found: Found) -> list[str]:
    """Imports whose uploaded file, error report or preview rows name the person (files decrypted)."""
    if not found.markers:
        return []
    records = Import.objects.for_tenant(tenant).select_related("file", "error_report")
    return [str(r.pk) for r in records.order_by("created_at") if _import_names_person(r, found.markers)]


def export_imports(tenant, ids, found: Found) -> dict[str, bytes]:
    rows = []
    for record in Import.objects.for_tenant(tenant).filter(pk__in=ids).select_related("file", "error_report"):
        uploaded = tables.person_rows(_read(record.file), record.filename, found.markers) if record.file else []
        rejected = tables.person_rows(_read(record.error_report), "", found.markers) if record.error_report else []
        rows.append({"id": str(record.pk), "filename": record.filename, "created_at": record.created_at,
                     "status": record.status, "rows_in_uploaded_file": uploaded, "rows_in_error_report": rejected})  # fmt: skip
    return {"imports.json": as_json(rows)}


def _replace_blob(tenant, old, data: bytes, filename: str, purpose: str):
    return blobs.store(tenant, data, filename=filename, content_type=old.content_type, purpose=purpose)


def erase_imports(tenant, actor: Actor, ids, found: Found) -> int:
    """Rewrite each import's files without the person; the import's counts stay as they were."""
    markers = found.markers
    count = 0
    for record in Import.objects.for_tenant(tenant).filter(pk__in=ids).select_related("file", "error_report"):
        replaced, changes = [], {}
        updates: dict = {}
        if record.file is not None:
            # Rows keep their place: a paused import resumes at the right row, report numbers stay true.
            data, rows = tables.rewrite(_read(record.file), record.filename, markers, mode="overwrite")
            if rows:
                updates["file"] = _replace_blob(
                    tenant, record.file, data, markers.scrub(record.file.filename), "crm-import"
                )
                replaced.append(record.file)
                changes["file_rows_erased"] = [None, rows]
        if record.error_report is not None:
            data, rows = tables.rewrite(_read(record.error_report), "", markers, mode="drop")
            if rows:
                updates["error_report"] = _replace_blob(
                    tenant, record.error_report, data, record.error_report.filename, "crm-import-errors"
                )
                replaced.append(record.error_report)
                changes["error_report_rows_erased"] = [None, rows]
        sample = [[ERASED if str(c).strip() else c for c in row] if markers.row_matches(row) else row
                  for row in record.sample or []]  # fmt: skip
        if sample != (record.sample or []):
            updates["sample"] = sample
            changes["preview_rows_erased"] = [None, sum(a != b for a, b in zip(sample, record.sample, strict=True))]
        if markers.matches(record.filename):
            updates["filename"] = markers.scrub(record.filename)[:255]
            changes["filename"] = [None, "erased"]
        if markers.matches(record.error):
            updates["error"] = markers.scrub(record.error)
        with transaction.atomic():
            Import.objects.filter(pk=record.pk).update(**updates)
            audit.record(tenant, actor, "import.subject_erased", obj=record, changes=changes)
        for blob in replaced:
            blobs.delete(blob)
        count += 1
    return count


def find_exports(tenant, identity: Identity, found: Found) -> list[str]:
    """Exports whose written file or saved filters name the person (files decrypted)."""
    if not found.markers:
        return []
    ids = []
    for export in Export.objects.for_tenant(tenant).select_related("file").order_by("created_at"):
        if found.markers.matches(as_json(export.filters).decode()) or (
            export.file is not None and tables.names_person(_read(export.file), export.file.filename, found.markers)
        ):
            ids.append(str(export.pk))
    return ids


def export_exports(tenant, ids, found: Found) -> dict[str, bytes]:
    rows = []
    for export in Export.objects.for_tenant(tenant).filter(pk__in=ids).select_related("file"):
        lines = tables.person_rows(_read(export.file), export.file.filename, found.markers) if export.file else []
        rows.append({"id": str(export.pk), "list": export.object_type, "format": export.format,
                     "created_at": export.created_at, "rows_naming_you": lines})  # fmt: skip
    return {"exports.json": as_json(rows)}


def _scrub_filters(value, markers: Markers):
    if isinstance(value, str):
        return markers.scrub(value)
    if isinstance(value, list):
        return [_scrub_filters(v, markers) for v in value]
    if isinstance(value, dict):
        return {k: _scrub_filters(v, markers) for k, v in value.items()}
    return value


def erase_exports(tenant, actor: Actor, ids, found: Found) -> int:
    """Rewrite each export file without the person; a filter naming them is scrubbed."""
    markers = found.markers
    count = 0
    for export in Export.objects.for_tenant(tenant).filter(pk__in=ids).select_related("file"):
        updates: dict = {}
        changes: dict = {}
        old = None
        if export.file is not None:
            # A contact list loses the person's row; a company or deal list keeps the row without them.
            mode = "drop" if export.object_type == ObjectType.CONTACT else "scrub"
            data, rows = tables.rewrite(_read(export.file), export.file.filename, markers, mode=mode)
            if rows:
                old = export.file
                updates["file"] = _replace_blob(tenant, old, data, old.filename, "crm-export")
                changes["rows_erased"] = [None, rows]
        filters = _scrub_filters(export.filters, markers)
        if filters != export.filters:
            updates["filters"] = filters
            changes["filters"] = [None, "erased"]
        with transaction.atomic():
            Export.objects.filter(pk=export.pk).update(**updates)
            audit.record(tenant, actor, "export.subject_erased", obj=export, changes=changes)
        if old is not None:
            blobs.delete(old)
        count += 1
    return count


register("contacts", label="Contacts", find=find_contacts, export=export_contacts, erase=erase_contacts, order=60,
         history="all", noun=("contact", "contacts"), describe=describe_contacts, hold_scope="contact",
         rectify=rectify_contacts, restrict=restrict_contacts,
         notes={"contacts.json": "your contact record: names, email addresses, phone numbers, address, consent"})  # fmt: skip
register("notes", label="Notes", find=_related_finder("Note"),
         export=_export_related("Note", "notes.json", ("subject", "body")),
         erase=_erase_related("Note", "delete_note"), order=10, history="all", noun=("note", "notes"),
         describe=describe_notes,
         notes={"notes.json": "notes written about you"})  # fmt: skip
register("tasks", label="Tasks", find=_related_finder("Task"),
         export=_export_related("Task", "tasks.json", ("title", "description", "status", "due_at")),
         erase=_erase_related("Task", "delete_task"), order=10, history="all", noun=("task", "tasks"),
         describe=describe_tasks,
         notes={"tasks.json": "tasks linked to you"})  # fmt: skip
register("deals", label="Deals (the person is unlinked)", find=find_deals, export=export_deals,
         erase=unlink_deals, order=20, notes={"deals.json": "deals you are linked to"},
         noun=("deal", "deals"), outcome="kept, the person unlinked", describe=describe_deals)  # fmt: skip
register("companies", label="Companies naming the person (those values erased)", find=find_companies,
         export=export_companies, erase=erase_companies, order=30, with_found=True, history="mentions",
         noun=("company", "companies"), outcome="kept with the values naming the person erased",
         describe=describe_companies,
         notes={"companies.json": "companies whose own details (name, address, phone or custom fields) name you, "
                                  "with those details"})  # fmt: skip
register("imports", label="Imported files naming the person (their rows erased)", find=find_imports,
         export=export_imports, erase=erase_imports, order=30, with_found=True, history="mentions",
         noun=("import file", "import files"), outcome="kept with the person's rows erased",
         describe=describe_imports,
         notes={"imports.json": "spreadsheets uploaded to import contacts that had rows about you: those rows, "
                                "from the uploaded file and from its error report"})  # fmt: skip
register("exports", label="Exported lists naming the person (their rows removed)", find=find_exports,
         export=export_exports, erase=erase_exports, order=30, with_found=True, history="mentions",
         noun=("exported list", "exported lists"), outcome="kept with the person's rows removed",
         describe=describe_exports,
         notes={"exports.json": "lists exported from the CRM that had rows about you: those rows"})  # fmt: skip
