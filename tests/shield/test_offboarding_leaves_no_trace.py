"""After termination nothing of the organisation remains: no row, no stored file, not even in the
raw database file; the certificate of deletion survives it, and the neighbours are untouched."""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone

from octopushx.accounts.models import User
from octopushx.core import audit, blobs, jobs
from octopushx.core.models import Blob, TenantKey
from octopushx.crm.models import Contact
from octopushx.shield.offboarding import services
from octopushx.shield.offboarding.models import Termination
from octopushx.tenancy.models import Organization
from octopushx.tenancy.roles import Role
from octopushx.tenancy.services import platform_org
from tests.conftest import ApiClient, make_member, make_org
from tests.pdf_text import pdf_text
from tests.shield.offboarding_data import NEEDLE, planted

pytestmark = pytest.mark.django_db(transaction=True)


def rows_naming(org_id) -> dict[str, int]:
    """Rows of any table whose foreign key points at the organisation."""
    found = {}
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is Organization:
                count = model._base_manager.filter(**{field.attname: org_id}).count()
                if count:
                    found[f"{model._meta.label}.{field.name}"] = count
    return found


def raw_database() -> bytes:
    """The SQLite file (and its write-ahead log) as bytes, after VACUUM; on PostgreSQL a pg_dump."""
    if connection.vendor == "postgresql":
        settings = connection.settings_dict
        command = ["pg_dump", "--data-only", "--host", settings["HOST"] or "127.0.0.1", "--port",
                   str(settings["PORT"] or 5432), "--username", settings["USER"] or "postgres", settings["NAME"]]  # fmt: skip
        return subprocess.run(command, check=True, capture_output=True, timeout=60).stdout  # noqa: S603
    with connection.cursor() as cursor:
        cursor.execute("VACUUM")
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    path = Path(connection.settings_dict["NAME"])
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def stored_paths(folder: str = "") -> list[str]:
    try:
        dirs, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return []
    found = [f"{folder}/{name}".lstrip("/") for name in files]
    for sub in dirs:
        found += stored_paths(f"{folder}/{sub}".lstrip("/"))
    return found


def test_termination_deletes_every_trace_and_certifies_it(mailoutbox):
    platform = platform_org()
    org, neighbour = make_org("Acme Support", parent=platform), make_org("Other Corp", parent=platform)
    data = planted(org)
    kept = planted(neighbour, needle="Keepmeword")
    owner_email = data["owner"].user.email
    staff = ApiClient(make_member(platform, Role.ADMIN))
    assert rows_naming(org.pk) and [p for p in stored_paths() if p.startswith(str(org.pk))]
    dump = connection.vendor == "sqlite" or shutil.which("pg_dump") is not None
    if dump:
        assert NEEDLE.encode() in raw_database()  # the control: the word is in the file before

    termination = services.request_termination(org, data["actor"], notice_days=7, confirm=org.name)
    Termination.objects.filter(pk=termination.pk).update(due_at=timezone.now() - timedelta(seconds=1))
    assert services.schedule_due() == 1
    jobs.drain()

    termination.refresh_from_db()
    assert termination.state == "completed", termination.state
    assert rows_naming(org.pk) == {}
    assert not Organization.objects.filter(pk=org.pk).exists()
    assert not TenantKey.objects.filter(tenant_id=org.pk).exists()
    assert not User.objects.filter(email=owner_email).exists()
    assert [p for p in stored_paths() if p.startswith(str(org.pk))] == []
    if dump:
        assert NEEDLE.encode() not in raw_database()
        assert NEEDLE.encode().lower() not in raw_database().lower()

    # The neighbour keeps everything, its recording still decrypts.
    assert Contact.objects.filter(tenant=neighbour).count() == 1
    assert b"".join(blobs.read(Blob.objects.get(pk=kept["recording"].pk))) == kept["audio"]
    assert audit.verify(platform).ok and audit.verify(neighbour).ok

    # The certificate: on the platform-level record, emailed to the owner, downloadable by staff.
    text = pdf_text(bytes(termination.certificate_pdf))
    assert "Certificate of deletion" in text and termination.key_id in text and "Acme Support" in text
    assert termination.counts["crm.contact"] == 1 and termination.files_deleted >= 1
    sent = [m for m in mailoutbox if m.subject.startswith("Certificate of deletion")]
    assert sent and owner_email in sent[0].to and sent[0].attachments[0][2] == "application/pdf"
    response = staff.get(f"/api/v1/terminations/{termination.pk}/certificate")
    assert response.status_code == 200 and response.content == bytes(termination.certificate_pdf)
    assert staff.get(f"/api/v1/terminations/{termination.pk}").json()["state"] == "completed"
    assert audit.AuditEntry.objects.filter(tenant=platform, action="organization.terminated").exists()
    # A second delivery of the job changes nothing.
    jobs.submit(services.JOB_KIND, payload={"termination_id": str(termination.pk)})
    jobs.drain()
    termination.refresh_from_db()
    assert termination.state == "completed"
