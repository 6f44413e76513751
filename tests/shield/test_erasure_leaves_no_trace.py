"""Erasure: after it, no trace of the person is left in any table or any stored file."""

from __future__ import annotations

import io
import zipfile

from django.apps import apps
from django.core.files.storage import default_storage
from django.db import connection

from octopushx.calls.models import Call
from octopushx.core import audit, blobs, jobs
from octopushx.core.context import Actor
from octopushx.core.models import Blob
from octopushx.crm import exports, imports
from octopushx.crm import services as crm
from octopushx.crm.models import Export, Import
from octopushx.shield.privacy import services
from octopushx.tenancy.roles import Role
from tests.calls.conftest import tone_wav
from tests.calls.factories import analysed_call
from tests.conftest import make_member

SYSTEM = Actor.system("test")
NAME, SURNAME = "Philippa", "Quarterman-Oduya"
EMAIL = "philippa.q@example.test"
PHONE_DIGITS = "2079460123"
NATIONAL_PHONE = "020 7946 0123"  # her number as a spreadsheet would write it
PHRASE = "the orange kayak leaves at dawn"
NEEDLES = [NAME.lower(), SURNAME.lower(), EMAIL, PHONE_DIGITS, NATIONAL_PHONE, PHRASE]
BYSTANDER = "ada.lovelace@example.test"  # someone else in the same files: she must stay


def database_dump() -> str:
    """Every value of every row of every table, as one lower-case text."""
    parts = []
    for model in apps.get_models():
        for row in model._base_manager.all().values_list():
            parts.append(" ".join(str(value) for value in row))
    if connection.vendor == "sqlite":  # the transcript search index is no Django model
        with connection.cursor() as cursor:
            cursor.execute("SELECT text FROM calls_utterance_fts")
            parts += [row[0] for row in cursor.fetchall()]
    return "\n".join(parts).lower()


def stored_files() -> str:
    """Every stored file, decrypted where it is a blob, plus anything left in storage unlisted."""
    texts = []
    for blob in Blob.objects.all():
        data = b"".join(blobs.read(blob))
        if data.startswith(b"PK"):  # a ZIP archive: search inside every member
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                data = b"\n".join(archive.read(name) for name in archive.namelist())
        texts.append(data.decode(errors="replace"))
    known = set(Blob.objects.values_list("path", flat=True))

    def walk(folder: str) -> list[str]:
        try:
            dirs, files = default_storage.listdir(folder)
        except FileNotFoundError:
            return []
        found = [f"{folder}/{f}".lstrip("/") for f in files]
        for sub in dirs:
            found += walk(f"{folder}/{sub}".lstrip("/"))
        return found

    texts += ["unlisted file " + path for path in walk("") if path not in known]
    return "\n".join(texts).lower()


def leaks(text: str) -> list[str]:
    return [needle for needle in NEEDLES if needle.lower() in text]


def test_erasure_leaves_nothing_in_the_database_or_stored_files(org, mailoutbox):
    staff = make_member(org, Role.OWNER)
    actor = Actor(user=staff.user, role=Role.OWNER, ip="192.0.2.50")
    contact = crm.create_contact(
        org, actor, {"first_name": NAME, "last_name": SURNAME, "email": EMAIL, "phone": f"+44 {PHONE_DIGITS}"}
    )
    crm.create_note(org, actor, {"body": f"<p>On the call she said {PHRASE}</p>", "contact_id": str(contact.pk)})
    crm.update_contact(org, actor, contact, {"job_title": "Harbour master"})
    # A call from her number (not linked to her contact), analysed, with its recordings stored.
    call = analysed_call(
        org, from_number=f"+44{PHONE_DIGITS}", lines=[("agent", "Hello."), ("customer", f"I said {PHRASE}.")]
    )
    recording = blobs.store(org, tone_wav(0.2), filename=f"{SURNAME}.wav", content_type="audio/wav", purpose="call")
    redacted = blobs.store(org, tone_wav(0.2), filename=f"{SURNAME}-redacted.wav", content_type="audio/wav",
                           purpose="call")  # fmt: skip
    Call.objects.filter(pk=call.pk).update(recording=recording, redacted=redacted, filename=f"{SURNAME}.wav")
    # She is a company's named contact (custom fields), in an uploaded import (one row imported,
    # one rejected into the error report) and in exported lists (CSV and XLSX).
    crm.create_custom_field(org, actor, {"object_type": "company", "key": "contact_person", "label": "Contact",
                                         "field_type": "text"})  # fmt: skip
    crm.create_custom_field(org, actor, {"object_type": "company", "key": "billing_email", "label": "Billing",
                                         "field_type": "email"})  # fmt: skip
    company = crm.create_company(org, actor, {"name": "Harbour Kayaks", "custom_fields": {
        "contact_person": f"{NAME} {SURNAME} (owner)", "billing_email": EMAIL}})  # fmt: skip
    upload = (
        "First name,Last name,Email,Phone,Notes\r\n"
        f"{NAME},{SURNAME},{EMAIL},{NATIONAL_PHONE},{PHRASE}\r\n"
        f"Ada,Lovelace,{BYSTANDER},020 7946 0999,\r\n"
        f"{NAME},{SURNAME},not-an-email,{NATIONAL_PHONE},second row\r\n"
    ).encode()
    record = imports.create(org, actor, file=upload, filename="harbour-leads.csv")
    jobs.drain()
    record.refresh_from_db()
    assert record.status == "done" and record.failed == 1 and record.error_report_id, record.error
    contact_export = exports.start(org, actor, "contact")
    xlsx_export = exports.start(org, actor, "contact", fmt="xlsx")
    company_export = exports.start(org, actor, "company")
    # An earlier access request left an archive with all of it inside.
    access = services.attest(
        org, actor, services.receive(org, actor, kind="access", source="staff", email=EMAIL), "ID seen"
    )
    services.fulfil(org, actor, access)
    jobs.drain()
    assert leaks(database_dump()) and leaks(stored_files())  # the control: it was all there

    erasure = services.attest(
        org, actor, services.receive(org, actor, kind="erasure", source="staff", email=EMAIL), "ID seen"
    )
    services.fulfil(org, actor, erasure, confirmed=True)
    jobs.drain()
    erasure.refresh_from_db()
    assert erasure.state == "completed", erasure.result
    assert erasure.result["erased"]["calls"] == 1, erasure.result
    assert not Call.objects.filter(pk=call.pk).exists()
    erased = erasure.result["erased"]
    assert (erased["companies"], erased["imports"], erased["exports"]) == (1, 1, 3), erasure.result
    # The records stay, without her: counts kept, the bystander still in every file.
    record.refresh_from_db()
    assert (record.total, record.created + record.updated, record.failed) == (3, 2, 1)
    company.refresh_from_db()
    assert company.custom == {"contact_person": "[erased] (owner)"}
    for export in (contact_export, xlsx_export):
        export.refresh_from_db()
        assert export.file_id is not None
    company_file = b"".join(blobs.read(Export.objects.get(pk=company_export.pk).file)).decode()
    assert "Harbour Kayaks" in company_file and "[erased] (owner)" in company_file
    assert BYSTANDER in stored_files()
    assert Import.objects.get(pk=record.pk).file_id is not None

    assert leaks(database_dump()) == []
    assert leaks(stored_files()) == []
    assert audit.verify(org).ok
