"""Data-subject requests: intake, verification, due dates, fulfilment and the queue."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from octopushx.core import audit, jobs
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry
from octopushx.crm import services as crm
from octopushx.crm.models import Contact, Note
from octopushx.shield.privacy import services
from octopushx.shield.privacy.models import PrivacyRequest
from octopushx.shield.retention import services as retention
from octopushx.tenancy.roles import Role

SYSTEM = Actor.system("test")


def person(org, **extra):
    return crm.create_contact(
        org, SYSTEM, {"first_name": "Grace", "last_name": "Hopper", "email": "grace@example.test",
                      "phone": "+44 20 7946 0958", **extra},
    )  # fmt: skip


def link_from_mail(kind="verify") -> str:
    match = re.search(rf"(http\S+/privacy/{kind}/\?token=\S+)", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1).replace("http://127.0.0.1:8000", "")


def verified(org, kind="access", **fields):
    request = services.receive(org, SYSTEM, kind=kind, source="staff", **fields)
    return services.attest(org, SYSTEM, request, "Checked passport at the desk")


# --- intake and verification ----------------------------------------------------------------


def test_public_form_sends_a_verification_link(db, org, mailoutbox):
    response = Client().post("/privacy/request/", {"org": str(org.pk), "kind": "access", "email": "grace@example.test"})
    assert response.status_code == 200 and b'data-testid="dsr-sent"' in response.content
    request = PrivacyRequest.objects.for_tenant(org).get()
    assert request.source == "form" and request.state == "received" and request.due_at is None
    page = Client().get(link_from_mail())
    request.refresh_from_db()
    assert page.status_code == 200 and request.state == "verified" and request.verification_method == "email"


def test_response_does_not_reveal_whether_the_person_exists(db, org, mailoutbox):
    person(org)
    known = Client().post("/privacy/request/", {"org": str(org.pk), "kind": "erasure", "email": "grace@example.test"})
    unknown = Client().post(
        "/privacy/request/", {"org": str(org.pk), "kind": "erasure", "email": "nobody@example.test"}
    )
    assert known.status_code == unknown.status_code == 200

    def strip(response):
        return re.sub(r'(csrfmiddlewaretoken" value="|X-CSRFToken": ")[^"]+', "", response.content.decode())

    assert strip(known) == strip(unknown)
    assert len(mailoutbox) == 2


def test_public_form_rejects_bad_input_and_records_nothing(db, org):
    response = Client().post("/privacy/request/", {"org": str(org.pk), "kind": "everything", "email": "not-an-email"})
    assert response.status_code == 200 and b"Enter a valid email address" in response.content
    assert not PrivacyRequest.objects.exists()


def test_public_form_of_an_unknown_or_suspended_org_is_404(db, org):
    assert Client().get("/privacy/request/?org=nonsense").status_code == 404
    org.suspended_at = timezone.now()
    org.save()
    assert Client().get(f"/privacy/request/?org={org.pk}").status_code == 404


def test_forged_link_verifies_nothing(db, org, mailoutbox):
    services.receive(org, SYSTEM, kind="access", source="form", email="grace@example.test")
    assert Client().get("/privacy/verify/?token=forged").status_code == 404
    assert PrivacyRequest.objects.get().state == "received"


def test_expired_link_verifies_nothing(db, org, mailoutbox):
    services.receive(org, SYSTEM, kind="access", source="form", email="grace@example.test")
    PrivacyRequest.objects.update(verification_expires_at=timezone.now() - timedelta(minutes=1))
    assert Client().get(link_from_mail()).status_code == 404
    assert PrivacyRequest.objects.get().state == "received"


def test_a_link_works_once(db, org, mailoutbox):
    services.receive(org, SYSTEM, kind="access", source="form", email="grace@example.test")
    link = link_from_mail()
    assert Client().get(link).status_code == 200
    assert Client().get(link).status_code == 404


def test_due_date_is_one_calendar_month_after_verification():
    assert services.add_month(datetime(2026, 1, 31, 10, tzinfo=UTC)).date().isoformat() == "2026-02-28"
    assert services.add_month(datetime(2026, 12, 15, tzinfo=UTC)).date().isoformat() == "2027-01-15"


def test_staff_attestation_needs_a_reason(api_as, org):
    api = api_as(Role.ADMIN)
    created = api.post("/api/v1/privacy/requests", {"kind": "access", "email": "grace@example.test"}).json()
    response = api.post(f"/api/v1/privacy/requests/{created['id']}/verify", {"reason": " "})
    assert response.status_code == 422 and "reason" in response.json()["errors"]
    response = api.post(f"/api/v1/privacy/requests/{created['id']}/verify", {"reason": "Called back on file number"})
    assert response.status_code == 200 and response.json()["state"] == "verified" and response.json()["due_at"]


def test_api_needs_email_phone_or_contact(api_as):
    response = api_as(Role.ADMIN).post("/api/v1/privacy/requests", {"kind": "access"})
    assert response.status_code == 422 and "email" in response.json()["errors"]
    assert not PrivacyRequest.objects.exists()


def test_api_roles_and_other_tenants(api_as, other_org):
    assert (
        api_as(Role.MANAGER).post("/api/v1/privacy/requests", {"kind": "access", "email": "a@b.test"}).status_code
        == 403
    )
    theirs = services.receive(other_org, SYSTEM, kind="access", source="staff", email="a@b.test")
    assert api_as(Role.OWNER).get(f"/api/v1/privacy/requests/{theirs.pk}").status_code == 404


def test_extension_moves_the_due_date_once(org):
    request = verified(org, email="grace@example.test")
    due = request.due_at
    request = services.extend(org, SYSTEM, request, "Large volume of recordings")
    assert request.due_at > due + timedelta(days=55)
    with pytest.raises(Exception):
        services.extend(org, SYSTEM, request, "again")


def test_overdue_requests_are_flagged_in_the_queue(web_as, org):
    request = verified(org, email="grace@example.test")
    PrivacyRequest.objects.filter(pk=request.pk).update(due_at=timezone.now() - timedelta(days=1))
    content = web_as(Role.ADMIN).get("/shield/privacy/").content
    assert b'data-testid="overdue"' in content


def test_every_step_is_audited(org):
    request = verified(org, email="grace@example.test")
    services.fulfil(org, SYSTEM, request)
    jobs.drain()
    actions = set(AuditEntry.objects.filter(tenant=org, object_id=str(request.pk)).values_list("action", flat=True))
    assert {"privacy.received", "privacy.verified", "privacy.fulfilment_started", "privacy.completed"} <= actions


# --- fulfilment -----------------------------------------------------------------------------


def test_access_builds_a_zip_downloadable_once(org, mailoutbox):
    contact = person(org)
    crm.create_note(org, SYSTEM, {"body": "<p>Prefers calls after 3pm</p>", "contact_id": str(contact.pk)})
    request = verified(org, email="grace@example.test")
    services.fulfil(org, SYSTEM, request)
    jobs.drain()
    request.refresh_from_db()
    assert request.state == "completed" and request.result["records"] >= 2
    link = link_from_mail("download")
    response = Client().get(link)
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = set(archive.namelist())
    assert {"README.txt", "contacts.json", "contacts.csv", "notes.json"} <= names
    assert b"grace@example.test" in archive.read("contacts.json")
    assert b"Prefers calls after 3pm" in archive.read("notes.json")
    assert Client().get(link).status_code == 404  # once
    assert AuditEntry.objects.filter(tenant=org, action="privacy.downloaded").exists()


def test_download_link_expires(org, mailoutbox):
    person(org)
    request = verified(org, email="grace@example.test")
    services.fulfil(org, SYSTEM, request)
    jobs.drain()
    PrivacyRequest.objects.filter(pk=request.pk).update(download_expires_at=timezone.now() - timedelta(seconds=1))
    assert Client().get(link_from_mail("download")).status_code == 404


def test_api_get_shows_state_due_date_and_download_link(api_as, org):
    person(org)
    request = verified(org, kind="export", email="grace@example.test")
    api = api_as(Role.ADMIN)
    assert api.post(f"/api/v1/privacy/requests/{request.pk}/fulfil").status_code == 202
    jobs.drain()
    body = api.get(f"/api/v1/privacy/requests/{request.pk}").json()
    assert body["state"] == "completed" and "/privacy/download/?token=" in body["download_link"]


def test_fulfilling_an_unverified_request_is_422(api_as, org):
    request = services.receive(org, SYSTEM, kind="access", source="staff", email="a@b.test")
    response = api_as(Role.ADMIN).post(f"/api/v1/privacy/requests/{request.pk}/fulfil")
    assert response.status_code == 422
    assert PrivacyRequest.objects.get(pk=request.pk).state == "received"


def test_rectification_goes_through_the_crm(org):
    contact = person(org)
    request = verified(org, kind="rectification", contact_id=str(contact.pk), changes={"last_name": "Murray Hopper"})
    services.fulfil(org, SYSTEM, request)
    jobs.drain()
    contact.refresh_from_db()
    assert contact.last_name == "Murray Hopper"
    assert AuditEntry.objects.filter(tenant=org, action="contact.updated", object_id=str(contact.pk)).exists()


def test_rectification_of_unknown_fields_is_refused(org):
    with pytest.raises(Exception) as exc:
        services.receive(org, SYSTEM, kind="rectification", source="staff", email="a@b.test", changes={"owner": "x"})
    assert "changes" in exc.value.message_dict


def test_restriction_sets_the_flag_and_lifting_is_audited(org):
    contact = person(org)
    request = verified(org, kind="restriction", phone="020 7946 0958")
    services.fulfil(org, SYSTEM, request)
    jobs.drain()
    contact.refresh_from_db()
    assert contact.restricted is True
    request.refresh_from_db()
    assert services.lift_restriction(org, SYSTEM, request) == 1
    contact.refresh_from_db()
    assert contact.restricted is False
    assert AuditEntry.objects.filter(tenant=org, action="privacy.restriction_lifted").exists()


def test_erasure_under_legal_hold_is_refused_with_the_reason(api_as, org):
    contact = person(org)
    retention.place_hold(org, SYSTEM, scope="contact", object_id=str(contact.pk), reason="Case 2026-17")
    request = verified(org, kind="erasure", email="grace@example.test")
    response = api_as(Role.ADMIN).post(f"/api/v1/privacy/requests/{request.pk}/fulfil")
    assert response.status_code == 422 and "Case 2026-17" in str(response.json()["errors"])
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_erasure_of_someone_unknown_completes_with_nothing_erased(org):
    request = verified(org, kind="erasure", email="nobody@example.test")
    services.fulfil(org, SYSTEM, request, confirmed=True)
    jobs.drain()
    request.refresh_from_db()
    assert request.state == "completed" and request.result == {"erased": {}}


def test_erasure_removes_the_person_and_keeps_the_chain(org):
    contact = person(org)
    crm.create_note(
        org, SYSTEM, {"body": "<p>Grace said the launch code is BLUE-HERON</p>", "contact_id": str(contact.pk)}
    )
    request = verified(org, kind="erasure", email="grace@example.test")
    services.fulfil(org, SYSTEM, request, confirmed=True)
    jobs.drain()
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert not Note.objects.for_tenant(org).exists()
    assert audit.verify(org).ok
    request.refresh_from_db()
    assert request.state == "completed" and request.email.startswith("erased:")


def test_public_form_is_white_labelled(db):
    from octopushx.tenancy.models import OrgKind
    from tests.conftest import make_org

    reseller = make_org("Northwind", kind=OrgKind.RESELLER)
    reseller.brand_name = "Northwind Voice"
    reseller.save()
    customer = make_org("Their customer", parent=reseller)
    content = Client().get(f"/privacy/request/?org={customer.pk}").content
    assert b"Northwind Voice" in content and b"Their customer" in content


def test_queue_page_records_staff_entries(web_as, org):
    client = web_as(Role.ADMIN)
    response = client.post("/shield/privacy/", {"kind": "erasure", "phone": "020 7946 0000"})
    request = PrivacyRequest.objects.for_tenant(org).get()
    assert response.status_code == 302 and request.source == "staff"
    page = client.get(f"/shield/privacy/{request.pk}/")
    assert page.status_code == 200 and b"Attest identity" in page.content
    client.post(f"/shield/privacy/{request.pk}/verify/", {"reason": "Called the number on file"})
    request.refresh_from_db()
    assert request.state == "verified"
    client.post(f"/shield/privacy/{request.pk}/nonsense/")
    assert client.post(f"/shield/privacy/{request.pk}/nonsense/").status_code == 404


def test_queue_is_read_by_auditors_and_hidden_from_agents_and_managers(web_as):
    assert web_as(Role.AUDITOR).get("/shield/privacy/").status_code == 200  # README: Roles
    assert web_as(Role.MANAGER).get("/shield/privacy/").status_code == 403
    assert web_as(Role.AGENT).get("/shield/privacy/").status_code == 403
