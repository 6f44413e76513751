"""Data-subject requests reach CRM companies, imported files and exported lists."""

from __future__ import annotations

import io
import json

from openpyxl import Workbook, load_workbook

from octopushx.core import blobs, jobs
from octopushx.core.models import AuditEntry
from octopushx.crm import exports, imports
from octopushx.crm import services as crm
from octopushx.shield.privacy import subjects, tables
from tests.shield.factories import SYSTEM, archive_of, fulfilled

EMAIL = "grace@example.test"


def person(org):
    return crm.create_contact(
        org, SYSTEM, {"first_name": "Grace", "last_name": "Hopper", "email": EMAIL, "phone": "+44 20 7946 0958"}
    )


def markers() -> subjects.Markers:
    found = subjects.Markers()
    found.add_email(EMAIL)
    found.add_phone("+442079460958")
    found.add_name("Grace", "Hopper")
    return found


# --- markers: what names the person ---------------------------------------------------------


def test_a_number_is_recognised_in_any_format():
    for text in ("020 7946 0958", "+44 (0)20 7946-0958", "0044 20 7946 0958", "'+442079460958", "tel 2079460958"):
        assert markers().matches(text), text
    assert not markers().matches("020 7946 0959")
    assert not markers().matches("order 12079460958777")


def test_a_full_name_and_an_email_are_recognised_but_not_a_first_name_alone():
    assert markers().matches("Call GRACE  hopper tomorrow") and markers().matches("Hopper, Grace")
    assert markers().matches("Grace.Hopper@Example.test") is False and markers().matches(f"<{EMAIL.upper()}>")
    assert not markers().matches("Grace from accounts")
    assert markers().row_matches(["Grace", "Hopper", ""]) and not markers().row_matches(["Grace", "Kelly"])


def test_scrub_replaces_every_mention_and_keeps_the_rest():
    text = f"Ask Grace Hopper ({EMAIL}, 020 7946 0958) about order 42"
    assert markers().scrub(text) == "Ask [erased] ([erased], [erased]) about order 42"


def test_xlsx_rewrite_drops_or_overwrites_the_persons_rows():
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["First", "Last", "Email"])
    sheet.append(["Ada", "Lovelace", "ada@example.test"])
    sheet.append(["Grace", "Hopper", "someone@example.test"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    dropped, count = tables.rewrite(buffer.getvalue(), "people.xlsx", markers(), mode="drop")
    rows = list(load_workbook(io.BytesIO(dropped)).active.iter_rows(values_only=True))
    assert count == 1 and rows == [("First", "Last", "Email"), ("Ada", "Lovelace", "ada@example.test")]
    kept, _count = tables.rewrite(buffer.getvalue(), "people.xlsx", markers(), mode="overwrite")
    rows = list(load_workbook(io.BytesIO(kept)).active.iter_rows(values_only=True))
    assert rows[2] == ("[erased]", "[erased]", "[erased]") and rows[1][0] == "Ada"


def test_a_semicolon_csv_in_windows_1252_is_rewritten_with_its_delimiter():
    data = "Name;Email;City\r\nGrace Hopper;x@example.test;Zürich\r\nAda;a@example.test;Köln\r\n".encode("cp1252")
    rewritten, count = tables.rewrite(data, "people.csv", markers(), mode="drop")
    assert count == 1 and rewritten.decode("utf-8-sig") == "Name;Email;City\r\nAda;a@example.test;Köln\r\n"


# --- companies ------------------------------------------------------------------------------


def test_companies_naming_the_person_are_exported_and_their_values_erased_through_the_service(db, org, mailoutbox):
    person(org)
    crm.create_custom_field(org, SYSTEM, {"object_type": "company", "key": "contact_phone", "label": "Phone",
                                          "field_type": "phone"})  # fmt: skip
    named = crm.create_company(
        org, SYSTEM, {"name": "Grace Hopper Consulting", "street": "1 Dock Road", "custom_fields": {
            "contact_phone": "020 7946 0958"}},
    )  # fmt: skip
    other = crm.create_company(org, SYSTEM, {"name": "Hopper Logistics", "phone": "020 7946 0000"})

    access = fulfilled(org, "access", email=EMAIL)
    files = archive_of(access)
    companies = json.loads(files["companies.json"])
    assert [c["id"] for c in companies] == [str(named.pk)]
    assert companies[0]["fields_naming_you"] == {"name": "Grace Hopper Consulting",
                                                 "custom_fields.contact_phone": "+442079460958"}  # fmt: skip
    assert "companies.json: companies whose own details" in files["README.txt"].decode()

    fulfilled(org, "erasure", email=EMAIL)
    named.refresh_from_db()
    other.refresh_from_db()
    assert named.name == "[erased] Consulting" and named.custom == {} and named.street == "1 Dock Road"
    assert other.name == "Hopper Logistics"
    updates = AuditEntry.objects.filter(tenant=org, action="company.updated", object_id=str(named.pk))
    assert updates.count() == 1  # audited, and that entry's personal part is pseudonymised too
    assert updates.get().personal.changes == {"erased": True}


# --- imports and exports --------------------------------------------------------------------

UPLOAD = (
    b"Name,Email,Phone\r\n"
    b"Grace Hopper,grace@example.test,020 7946 0958\r\n"
    b"Ada Lovelace,ada@example.test,020 7946 0001\r\n"
    b"Hopper Grace,broken-email,+44 20 7946 0958\r\n"
)


def test_an_import_naming_the_person_is_exported_and_rewritten_keeping_its_counts(db, org, mailoutbox):
    person(org)
    record = imports.create(org, SYSTEM, file=UPLOAD, filename="leads.csv", mapping={"Name": "full_name",
                            "Email": "email", "Phone": "phone"})  # fmt: skip
    jobs.drain()
    record.refresh_from_db()
    assert record.failed == 1 and record.error_report_id is not None
    counts = (record.total, record.created, record.updated, record.failed)

    files = archive_of(fulfilled(org, "access", phone="02079460958"))
    entry = json.loads(files["imports.json"])[0]
    assert [row["row"] for row in entry["rows_in_uploaded_file"]] == [2, 4]
    assert entry["rows_in_uploaded_file"][0]["values"]["Email"] == EMAIL
    assert [row["values"]["reason"] != "" for row in entry["rows_in_error_report"]] == [True]

    fulfilled(org, "erasure", email=EMAIL)
    record.refresh_from_db()
    assert (record.total, record.created, record.updated, record.failed) == counts
    uploaded = blobs.read_bytes(record.file).decode("utf-8-sig")
    assert uploaded.splitlines() == ["Name,Email,Phone", "[erased],[erased],[erased]",
                                     "Ada Lovelace,ada@example.test,020 7946 0001", "[erased],[erased],[erased]"]  # fmt: skip
    report = blobs.read_bytes(record.error_report).decode("utf-8-sig")
    assert report.splitlines()[0].startswith("row,reason") and "Hopper" not in report and len(report.splitlines()) == 1
    assert all("Grace" not in str(row) for row in record.sample)
    assert AuditEntry.objects.filter(tenant=org, action="import.subject_erased", object_id=str(record.pk)).exists()


def test_exports_lose_the_persons_rows_and_a_search_filter_naming_them(db, org, mailoutbox):
    person(org)
    crm.create_contact(org, SYSTEM, {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.test"})
    everyone = exports.start(org, SYSTEM, "contact")
    searched = exports.start(org, SYSTEM, "contact", filters={"q": EMAIL})
    assert "Grace" in blobs.read_bytes(everyone.file).decode()

    files = archive_of(fulfilled(org, "access", email=EMAIL))
    listed = json.loads(files["exports.json"])
    assert {e["id"] for e in listed} == {str(everyone.pk), str(searched.pk)}
    assert all(e["rows_naming_you"][0]["values"]["email"] == EMAIL for e in listed)

    fulfilled(org, "erasure", email=EMAIL)
    everyone.refresh_from_db()
    searched.refresh_from_db()
    text = blobs.read_bytes(everyone.file).decode()
    assert "Ada" in text and "Grace" not in text and EMAIL not in text
    assert searched.filters == {"q": "[erased]"}


def test_another_tenants_files_are_neither_found_nor_touched(db, org, other_org, mailoutbox):
    person(org)
    theirs = imports.create(other_org, SYSTEM, file=UPLOAD, filename="leads.csv")
    jobs.drain()
    theirs.refresh_from_db()
    before = blobs.read_bytes(theirs.file)
    request = fulfilled(org, "erasure", email=EMAIL)
    assert "imports" not in request.result["erased"]
    theirs.refresh_from_db()
    assert blobs.read_bytes(theirs.file) == before
