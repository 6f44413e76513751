"""Issue 10 §1: an import keeps every good row and every good value."""

import json
from datetime import UTC, datetime

from octopushx.core import blobs, jobs
from octopushx.crm.models import Contact, Import

from .test_imports import upload

HUBSPOT = (
    "Record ID,First Name,Last Name,Email,Lifecycle Stage,Lead Status,Country/Region,Create Date,Contact owner\r\n"
    "101,Ada,Lovelace,ada@example.com,marketingqualifiedlead,IN_PROGRESS,United Kingdom,2021-03-04 10:22,nobody\r\n"
    "102,Grace,Hopper,grace@example.com,salesqualifiedlead,OPEN_DEAL,USA,2020-01-02,\r\n"
    "103,Alan,Turing,alan@example.com,Marketing Qualified Lead,Attempted to Contact,Atlantis,someday,\r\n"
)


def _report(record) -> list[list[str]]:
    import csv
    import io

    return list(csv.reader(io.StringIO(blobs.read_bytes(record.error_report).decode("utf-8-sig"))))


def test_hubspot_export_imports_every_row_with_its_internal_values(admin_api, org):
    response = upload(admin_api, HUBSPOT.encode())
    assert response.status_code == 201, response.json()
    jobs.drain()
    record = Import.objects.for_tenant(org).get()
    assert record.mapping["Country/Region"] == "country" and record.mapping["Create Date"] == "original_created_at"
    assert (record.created, record.failed) == (3, 0)
    people = {c.first_name: c for c in Contact.objects.for_tenant(org)}
    assert people["Ada"].lifecycle_stage == "mql" and people["Grace"].lifecycle_stage == "sql"
    assert people["Alan"].lifecycle_stage == "mql"
    assert people["Ada"].lead_status == "in_progress" and people["Grace"].lead_status == "in_progress"
    assert people["Ada"].country == "GB" and people["Grace"].country == "US" and people["Alan"].country == ""
    assert people["Ada"].original_created_at == datetime(2021, 3, 4, 10, 22, tzinfo=UTC)
    assert people["Grace"].original_created_at == datetime(2020, 1, 2, tzinfo=UTC)
    assert people["Ada"].created_at.year == datetime.now(UTC).year  # our own creation time stays the import's


def test_invalid_optional_values_are_left_out_and_listed_with_row_column_value(admin_api, org):
    upload(admin_api, HUBSPOT.encode())
    jobs.drain()
    record = Import.objects.for_tenant(org).get()
    assert record.with_problems == 2  # Ada's owner, Alan's country and date
    status = admin_api.get(f"/api/v1/imports/{record.pk}").json()
    assert status["with_problems"] == 2 and status["failed"] == 0
    rows = _report(record)
    assert rows[0][:5] == ["row", "reason", "column", "value", "result"]
    problems = {(r[0], r[2], r[3]) for r in rows[1:]}
    assert problems == {
        ("2", "Contact owner", "nobody"),
        ("4", "Country/Region", "Atlantis"),
        ("4", "Create Date", "someday"),
    }
    assert all(r[4] == "imported without this value" for r in rows[1:])


def test_only_a_missing_identity_or_bad_match_value_fails_the_row(admin_api, org):
    upload(admin_api, b"email,job title,country\nnot-an-email,Boss,GB\n,,FR\nok@example.com,,XX\n")
    jobs.drain()
    record = Import.objects.for_tenant(org).get()
    assert (record.created, record.failed, record.with_problems) == (1, 2, 1)
    reasons = {r[0]: r[1] for r in _report(record)[1:]}
    assert "not a valid email" in reasons["2"] and "no name" in reasons["3"]


def test_bad_email_outside_the_match_column_keeps_a_named_row(admin_api, org):
    upload(admin_api, b"first name,email,phone\nAda,not-an-email,020 7946 0018\n", match_on="phone")
    jobs.drain()
    contact = Contact.objects.for_tenant(org).get()
    assert contact.first_name == "Ada" and contact.email == "" and contact.phone == "+442079460018"


def test_value_mapping_maps_unknown_values_and_leaves_others_out(admin_api, org):
    data = b"email,stage\na@example.com,Hot prospect\nb@example.com,Ignore me\n"
    mapping = json.dumps({"Hot prospect": "sql", "Ignore me": ""})
    response = upload(admin_api, data, value_mapping=json.dumps({"stage": json.loads(mapping)}))
    assert response.status_code == 201, response.json()
    jobs.drain()
    record = Import.objects.for_tenant(org).get()
    assert (record.created, record.with_problems) == (2, 0)
    stages = dict(Contact.objects.for_tenant(org).values_list("email", "lifecycle_stage"))
    assert stages == {"a@example.com": "sql", "b@example.com": "lead"}
    assert admin_api.get(f"/api/v1/imports/{record.pk}").json()["value_mapping"] == {"stage": json.loads(mapping)}


def test_pipedrive_and_salesforce_headers_are_mapped(admin_api, org):
    pipedrive = "Person - Name,Person - Email - Work,Person - Label,Person - Organization\nAda L,a@x.io,Hot lead,Acme\n"
    upload(admin_api, pipedrive.encode())
    salesforce = "FirstName,LastName,Email,MailingCountry,CreatedDate,Lead Status\nAl,T,t@x.io,France,2019-05-06T07:08:09.000Z,Working - Contacted\n"
    upload(admin_api, salesforce.encode())
    jobs.drain()
    ada = Contact.objects.for_tenant(org).get(email="a@x.io")
    assert (ada.first_name, ada.lifecycle_stage, ada.company.name) == ("Ada", "sql", "Acme")
    al = Contact.objects.for_tenant(org).get(email="t@x.io")
    assert (al.country, al.lead_status) == ("FR", "in_progress")
    assert al.original_created_at == datetime(2019, 5, 6, 7, 8, 9, tzinfo=UTC)


def test_contact_page_and_api_show_the_original_creation_date(admin_api, web_as, org):
    upload(admin_api, b"email,first name,create date\nada@example.com,Ada,2021-03-04 10:22\n")
    jobs.drain()
    contact = Contact.objects.for_tenant(org).get()
    body = admin_api.get(f"/api/v1/contacts/{contact.pk}").json()
    assert body["original_created_at"].startswith("2021-03-04T10:22")
    from django.urls import reverse

    page = web_as("owner").get(reverse("crm:contact", args=[contact.pk])).content.decode()
    assert "Created 4 Mar 2021 10:22 in the system it was imported from" in page
