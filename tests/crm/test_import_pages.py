from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from octopushx.core import jobs
from octopushx.crm.models import Contact, Import


def test_upload_shows_mapping_and_preview_then_imports(web_as, org):
    client = web_as("admin")
    csv = b"Given,Mail,Junk\nAda,ada@example.com,x\nBob,not-mail,y\n"
    response = client.post(reverse("crm:imports"), {"file": SimpleUploadedFile("p.csv", csv), "match_on": "email"})
    record = Import.objects.for_tenant(org).get()
    assert response.status_code == 302 and record.status == "pending"
    page = client.get(reverse("crm:import", args=[record.pk])).content.decode()
    assert "Given" in page and "is not a valid email address" in page  # the preview marks the bad row
    response = client.post(
        reverse("crm:import", args=[record.pk]),
        {"map-0": "first_name", "map-1": "email", "map-2": "", "match_on": "email", "on_match": "update"},
    )
    assert response.status_code == 302
    jobs.drain()
    record.refresh_from_db()
    assert (record.status, record.created, record.failed) == ("done", 1, 1)
    status = client.get(reverse("crm:import", args=[record.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert "Download the rejected rows" in status and "<html" not in status
    report = client.get(reverse("crm:import_errors", args=[record.pk]))
    assert b"not-mail" in b"".join(report.streaming_content)
    assert Contact.objects.for_tenant(org).get().first_name == "Ada"


def test_mapping_errors_are_shown(web_as, org):
    client = web_as("admin")
    client.post(reverse("crm:imports"), {"file": SimpleUploadedFile("p.csv", b"a,b\n1,2\n")})
    record = Import.objects.for_tenant(org).get()
    response = client.post(reverse("crm:import", args=[record.pk]), {"map-0": "email", "map-1": "email"})
    assert response.status_code == 422 and "Two columns are mapped" in response.content.decode()


def test_bad_upload_shows_field_error(web_as, org):
    response = web_as("admin").post(reverse("crm:imports"), {"file": SimpleUploadedFile("h.csv", b"email\n")})
    assert response.status_code == 422 and "no data rows" in response.content.decode()
    assert not Import.objects.for_tenant(org).exists()


def test_agents_see_only_their_imports(web_as, org, api_as):
    other = api_as("admin")
    other.post("/api/v1/imports", {"file": SimpleUploadedFile("p.csv", b"email\na@example.com\n")}, multipart=True)
    record = Import.objects.for_tenant(org).get()
    client = web_as("agent")
    assert client.get(reverse("crm:import", args=[record.pk])).status_code == 404
