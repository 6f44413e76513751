"""Exporting a whole organisation: one streamed ZIP, a CSV per table, the files decrypted, a manifest."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile

from octopushx.core.models import AuditEntry
from octopushx.tenancy.roles import Role
from octopushx.tenancy.services import platform_org
from tests.conftest import ApiClient, make_member
from tests.shield.offboarding_data import NEEDLE, planted


def _zip(response) -> zipfile.ZipFile:
    assert response.status_code == 200, response.content[:300]
    assert response.streaming
    assert response["Content-Type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_export_holds_every_table_the_files_and_a_manifest_with_checksums(org, other_org):
    data = planted(org)
    planted(other_org, needle="Otherword")
    archive = _zip(ApiClient(data["owner"]).get(f"/api/v1/organizations/{org.pk}/export"))
    manifest = json.loads(archive.read("manifest.json"))
    listed = {entry["path"]: entry for entry in manifest["files"]}
    assert set(archive.namelist()) == {*listed, "manifest.json"}
    for path, entry in listed.items():
        content = archive.read(path)
        assert hashlib.sha256(content).hexdigest() == entry["sha256"], path
        assert len(content) == entry["bytes"]
        if entry["kind"] == "table":
            rows = list(csv.reader(io.StringIO(content.decode())))
            assert len(rows) - 1 == entry["rows"], path
    for table in ("crm.contact", "crm.note", "calls.call", "calls.utterance", "core.auditentry",
                  "core.auditpersonal", "shield.acceptance", "accounts.user", "tenancy.membership"):  # fmt: skip
        assert f"tables/{table}.csv" in listed, table
    assert listed["tables/crm.contact.csv"]["rows"] == 1
    assert listed["tables/core.auditentry.csv"]["rows"] == AuditEntry.objects.filter(tenant=org).count()
    assert NEEDLE in archive.read("tables/calls.utterance.csv").decode()
    assert "Otherword" not in b"".join(archive.read(name) for name in archive.namelist()).decode(errors="replace")
    recording = data["recording"]
    assert archive.read(f"files/{recording.pk}/{NEEDLE}.wav") == data["audio"]  # decrypted
    assert "secret_hash" not in archive.read("tables/accounts.apitoken.csv").decode().splitlines()[0]
    assert manifest["organization"]["id"] == str(org.pk)


def test_export_is_audited(org):
    data = planted(org)
    _zip(ApiClient(data["owner"]).get(f"/api/v1/organizations/{org.pk}/export"))
    assert AuditEntry.objects.filter(tenant=org, action="organization.exported").count() == 1


def test_platform_staff_export_any_organisation(org):
    planted(org)
    staff = ApiClient(make_member(platform_org(), Role.ADMIN))
    archive = _zip(staff.get(f"/api/v1/organizations/{org.pk}/export"))
    assert "tables/crm.contact.csv" in archive.namelist()


def test_admin_and_agent_cannot_export_the_whole_organisation(org, api_as):
    for role in (Role.ADMIN, Role.AGENT, Role.AUDITOR):
        assert api_as(role).get(f"/api/v1/organizations/{org.pk}/export").status_code == 403


def test_owner_of_another_organisation_gets_404(org, other_org):
    stranger = ApiClient(make_member(other_org, Role.OWNER))
    assert stranger.get(f"/api/v1/organizations/{org.pk}/export").status_code == 404
    assert stranger.get("/api/v1/organizations/not-a-uuid/export").status_code in (404, 422)


def test_owner_downloads_the_export_from_the_settings_page(org, client):
    data = planted(org)
    client.force_login(data["owner"].user)
    page = client.get("/settings/offboarding/")
    assert page.status_code == 200 and b"Download the export" in page.content
    archive = _zip(client.get("/settings/offboarding/export.zip"))
    assert "manifest.json" in archive.namelist()


def test_settings_page_is_for_owners_only(org, web_as):
    assert web_as(Role.ADMIN).get("/settings/offboarding/").status_code == 403
