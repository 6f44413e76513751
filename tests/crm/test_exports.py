import csv
import io

from openpyxl import load_workbook

from octopushx.core import jobs
from octopushx.core.models import AuditEntry
from octopushx.crm import exports
from octopushx.crm.models import Export

from .conftest import make_contact, make_deal


def _download(client, body) -> bytes:
    response = client.get(body["download"])
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_export_filtered_contacts_as_csv_skips_restricted(admin_api, org):
    make_contact(org, first_name="Keep", lifecycle_stage="customer", email="keep@example.com")
    make_contact(org, first_name="Lead", lifecycle_stage="lead")
    make_contact(org, first_name="Secret", lifecycle_stage="customer", restricted=True)
    response = admin_api.post("/api/v1/exports", {"object": "contact", "filters": {"lifecycle_stage": "customer"}})
    body = response.json()
    assert response.status_code == 201, body
    assert body["status"] == "done" and body["rows"] == 1 and body["skipped_restricted"] == 1
    rows = list(csv.DictReader(io.StringIO(_download(admin_api, body).decode("utf-8-sig"))))
    assert [r["first_name"] for r in rows] == ["Keep"] and rows[0]["email"] == "keep@example.com"
    assert AuditEntry.objects.filter(tenant=org, action="contact.exported").exists()


def test_export_deals_as_xlsx(admin_api, org):
    make_deal(org, name="=HYPERLINK(evil)")
    body = admin_api.post("/api/v1/exports", {"object": "deals", "format": "xlsx"}).json()
    sheet = load_workbook(io.BytesIO(_download(admin_api, body))).active
    values = list(sheet.values)
    assert values[0][1] == "name" and values[1][1] == "'=HYPERLINK(evil)"


def test_large_export_runs_as_a_job(admin_api, org, monkeypatch):
    monkeypatch.setattr(exports, "INLINE_LIMIT", 1)
    for index in range(3):
        make_contact(org, first_name=f"C{index}")
    body = admin_api.post("/api/v1/exports", {"object": "contact"}).json()
    assert body["status"] == "queued"
    jobs.drain()
    status = admin_api.get(f"/api/v1/exports/{body['id']}").json()
    assert status["status"] == "done" and status["rows"] == 3


def test_export_respects_visibility(api_as, org):
    manager = api_as("manager")
    make_contact(org, first_name="Mine", owner=manager.membership)
    make_contact(org, first_name="Not mine")
    body = manager.post("/api/v1/exports", {"object": "contact"}).json()
    assert body["rows"] == 1


def test_export_bad_input_and_roles(api_as, org):
    admin = api_as("admin")
    response = admin.post("/api/v1/exports", {"object": "planets", "format": "pdf"})
    assert response.status_code == 422 and {"object", "format"} <= set(response.json()["errors"])
    response = admin.post("/api/v1/exports", {"object": "contact", "filters": {"owner_id": "nope"}})
    assert response.status_code == 422 and "owner_id" in response.json()["errors"]
    assert api_as("agent").post("/api/v1/exports", {"object": "contact"}).status_code == 403
    assert not Export.objects.for_tenant(org).exists()


def test_contact_json_record_with_timeline(web_as, org, admin_api):
    contact = make_contact(org, first_name="Jason")
    admin_api.post("/api/v1/notes", {"body": "Hello", "contact_id": str(contact.pk)})
    client = web_as("owner")
    data = client.get(f"/crm/contacts/{contact.pk}/record.json").json()
    assert data["first_name"] == "Jason" and any(e["kind"] == "note" for e in data["timeline"])
    restricted = make_contact(org, first_name="Locked", restricted=True)
    assert client.get(f"/crm/contacts/{restricted.pk}/record.json").status_code == 403


def test_contact_timeline_api(admin_api, org):
    contact = make_contact(org)
    admin_api.patch(f"/api/v1/contacts/{contact.pk}", {"job_title": "CEO"})
    items = admin_api.get(f"/api/v1/contacts/{contact.pk}/timeline").json()["items"]
    assert (
        items[0]["kind"] == "change"
        and items[0]["changes"]["job_title"] == [None, "CEO"]
        or items[0]["changes"]["job_title"] == ["", "CEO"]
    )


def test_export_from_list_page(web_as, org):
    client = web_as("admin")
    make_contact(org, first_name="Listed", lifecycle_stage="customer")
    response = client.post("/crm/exports/", {"object_type": "contact", "lifecycle_stage": "customer", "format": "csv"})
    export = Export.objects.for_tenant(org).get()
    assert response.status_code == 302 and export.rows == 1 and export.filters == {"lifecycle_stage": "customer"}
    download = client.get(f"/crm/exports/{export.pk}/download/")
    assert b"Listed" in b"".join(download.streaming_content)
