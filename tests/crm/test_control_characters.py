"""Control characters and bidirectional overrides: refused with a field error wherever text comes in;
an export writes whatever is already stored, and an export that fails says so instead of running forever."""

from __future__ import annotations

import io

import pytest
from django.db.models import F
from django.urls import reverse
from openpyxl import load_workbook

from octopushx.crm import exports
from octopushx.crm.models import Contact, Export

from .conftest import make_contact

BAD = ["Ada\x00", "Ada\x01", "Ada\x0bLovelace", "Ada \u202eecalevoL", "\x7fAda", "Ada\u2066"]


@pytest.mark.parametrize("name", BAD)
def test_api_refuses_the_name_with_a_field_error_and_creates_nothing(admin_api, org, name):
    response = admin_api.post("/api/v1/contacts", {"first_name": name, "last_name": "Lovelace"})
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "The request has invalid fields"
    assert list(body["errors"]) == ["first_name"] and "not allowed" in body["errors"]["first_name"][0]
    assert not Contact.objects.for_tenant(org).exists()


def test_api_refuses_it_in_nested_values_and_in_the_query_string(admin_api, org):
    response = admin_api.post("/api/v1/contacts", {"first_name": "Ada", "tags": ["ok", "b\x1bad"]})
    assert response.status_code == 422 and list(response.json()["errors"]) == ["tags.1"]
    response = admin_api.get("/api/v1/contacts", {"q": "Ada\x00"})
    assert response.status_code == 422 and list(response.json()["errors"]) == ["q"]


def test_multi_line_text_keeps_newlines_and_tabs(admin_api, org):
    contact = make_contact(org)
    body = "First line\n\tindented\nlast"
    response = admin_api.post("/api/v1/notes", {"contact_id": str(contact.pk), "body": body})
    assert response.status_code == 201, response.json()
    assert response.json()["body"] == body


def test_services_refuse_it_too_for_every_other_path_in(org):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        make_contact(org, first_name="Ada\x01")
    assert "first_name" in refused.value.message_dict


def test_web_form_shows_the_error_on_the_field_and_saves_nothing(web_as, org):
    response = web_as("admin").post(
        reverse("crm:contact_new"),
        {"first_name": "Ada\u202e", "last_name": "L", "lifecycle_stage": "lead", "lead_status": "new",
         "consent": "unknown"},
    )  # fmt: skip
    assert response.status_code in (200, 422)
    assert "bidirectional override" in response.content.decode()
    assert not Contact.objects.for_tenant(org).exists()


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export_of_a_stored_control_character_succeeds(admin_api, org, fmt):
    contact = make_contact(org, first_name="Ada")
    Contact.objects.filter(pk=contact.pk).update(
        first_name="A\x01d\x1fa\x0b \u202eX"
    )  # stored before the rule (PostgreSQL refuses NUL itself)
    response = admin_api.post("/api/v1/exports", {"object": "contact", "format": fmt})
    body = response.json()
    assert response.status_code == 201 and body["status"] == "done", body
    data = b"".join(admin_api.get(body["download"]).streaming_content)
    if fmt == "xlsx":
        values = list(load_workbook(io.BytesIO(data)).active.values)
        assert values[1][1] == "Ada X"


def test_an_export_that_fails_ends_failed_with_a_message_never_running(admin_api, org, monkeypatch):
    make_contact(org)

    def broken(export):
        raise RuntimeError("disk full")

    monkeypatch.setattr(exports, "rows", broken)
    response = admin_api.post("/api/v1/exports", {"object": "contact", "format": "xlsx"})
    body = response.json()
    assert response.status_code == 201 and body["status"] == "failed"
    assert body["error"] == "The export could not be written: disk full"
    assert Export.objects.get(pk=body["id"]).status == "failed"


def test_a_failing_export_job_ends_failed_too(admin_api, org, monkeypatch):
    from octopushx.core import jobs

    monkeypatch.setattr(exports, "INLINE_LIMIT", 0)
    make_contact(org)
    body = admin_api.post("/api/v1/exports", {"object": "contact"}).json()
    monkeypatch.setattr(exports, "rows", lambda export: (_ for _ in ()).throw(RuntimeError("boom")))
    jobs.drain()
    status = admin_api.get(f"/api/v1/exports/{body['id']}").json()
    assert status["status"] == "failed" and "boom" in status["error"]


def test_api_refuses_it_in_the_form_fields_of_an_upload(admin_api, org):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from octopushx.crm.models import Import

    upload = SimpleUploadedFile("people.csv", b"email\na@example.com\n", content_type="text/csv")
    response = admin_api.client.post("/api/v1/imports", {"file": upload, "object": "contacts\x00", "match_on": "email"})
    assert response.status_code == 422 and list(response.json()["errors"]) == ["object"]
    assert not Import.objects.for_tenant(org).exists()


def test_an_export_whose_worker_died_on_the_last_attempt_ends_failed(admin_api, org, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from octopushx.core import jobs
    from octopushx.core.models import Job

    monkeypatch.setattr(exports, "INLINE_LIMIT", 0)
    make_contact(org)
    body = admin_api.post("/api/v1/exports", {"object": "contact"}).json()
    export = Export.objects.get(pk=body["id"])
    Export.objects.filter(pk=export.pk).update(status="running")  # the worker wrote part of it, then died
    Job.objects.filter(pk=export.job_id).update(
        state="running", attempts=F("max_attempts"), lease_until=timezone.now() - timedelta(seconds=1)
    )
    jobs.reap()
    status = admin_api.get(f"/api/v1/exports/{body['id']}").json()
    assert status["status"] == "failed" and "worker stopped" in status["error"]
