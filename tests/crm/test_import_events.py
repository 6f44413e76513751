"""Imports emit the same per-contact events as every other write path (one per written row)."""

import pytest

from octopushx.core import events, jobs
from octopushx.core.models import Job
from octopushx.crm.models import Contact, Import

from .conftest import make_contact
from .test_imports import upload


@pytest.fixture
def delivered():
    """Events a ``contact.*`` subscriber received, in delivery order."""
    seen: list[events.Event] = []
    events.subscribe("contact.*", name="crm-test-import-events")(seen.append)
    yield seen
    events.SUBSCRIBERS.pop("crm-test-import-events")


def test_import_of_n_rows_delivers_n_contact_created_events(admin_api, org, delivered, monkeypatch):
    from octopushx.crm import imports

    monkeypatch.setattr(imports, "CHUNK", 4)  # several chunks
    rows = "".join(f"P{i},p{i}@example.com\n" for i in range(10))
    upload(admin_api, ("first name,email\n" + rows).encode())
    jobs.drain()
    created = [e for e in delivered if e.name == "contact.created"]
    assert len(created) == 10
    ids = {str(pk) for pk in Contact.objects.for_tenant(org).values_list("pk", flat=True)}
    assert {e.payload["contact_id"] for e in created} == ids
    assert all(e.payload == {"contact_id": e.payload["contact_id"], "restricted": False} for e in created)
    assert {e.tenant_id for e in created} == {str(org.pk)}


def test_update_match_import_delivers_contact_updated(admin_api, org, delivered):
    contact = make_contact(org, first_name="Old", email="ada@example.com")
    jobs.drain()
    delivered.clear()
    upload(admin_api, b"email,job title\nada@example.com,Countess\n")
    jobs.drain()
    assert [e.name for e in delivered] == ["contact.updated"]
    assert delivered[0].payload == {"contact_id": str(contact.pk), "fields": ["job_title"], "restricted": False}


def test_failed_rows_emit_nothing(admin_api, org, delivered):
    upload(admin_api, b"first name,email\nGood,good@example.com\nBad,not-an-email\n,\n")
    jobs.drain()
    record = Import.objects.for_tenant(org).get()
    assert (record.created, record.failed) == (1, 1)
    good = Contact.objects.for_tenant(org).get()
    assert [(e.name, e.payload["contact_id"]) for e in delivered] == [("contact.created", str(good.pk))]


def test_rolled_back_chunk_emits_nothing(admin_api, org, delivered, monkeypatch):
    from octopushx.crm import imports

    body = upload(admin_api, b"first name,email\nA,a@example.com\nB,b@example.com\n").json()
    original = imports.Writer.write_chunk

    def crash_after_writing(self, rows, counts):
        original(self, rows, counts)
        raise RuntimeError("worker died")

    monkeypatch.setattr(imports.Writer, "write_chunk", crash_after_writing)
    with pytest.raises(RuntimeError):
        imports.run(Import.objects.get(pk=body["id"]))
    assert Contact.objects.for_tenant(org).count() == 0
    assert not Job.objects.filter(kind="event.deliver").exists()


def test_import_without_subscribers_writes_no_delivery_jobs(admin_api, org):
    upload(admin_api, b"first name,email\nA,a@example.com\nB,b@example.com\n")
    jobs.drain()
    assert Contact.objects.for_tenant(org).count() == 2
    assert not Job.objects.filter(kind="event.deliver").exists()
