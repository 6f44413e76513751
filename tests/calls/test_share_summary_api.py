"""Taking a call's summary out through the API: downloads (md, pdf, json) and email, with the
"unreviewed AI output" label and confirmation for drafts, audit, roles and tenants."""

from __future__ import annotations

import json

from octopushx.calls import services
from octopushx.calls.models import Call
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry
from octopushx.crm import services as crm
from octopushx.crm.models import Contact
from tests.calls.factories import analysed_call
from tests.pdf_text import pdf_text

LABEL = "Unreviewed AI output — not checked by a person"


def _exports(org):
    return AuditEntry.objects.filter(tenant=org, action="call.exported")


def test_markdown_download_of_a_draft_with_confirmation_carries_the_label_and_model(org, api_as):
    client = api_as("admin")
    call = analysed_call(org)
    response = client.get(f"/api/v1/calls/{call.pk}/summary?format=md&confirm_unreviewed=true")
    assert response.status_code == 200
    text = response.content.decode()
    assert LABEL in text
    assert "Model: tiny.en version 1" in text
    assert "The customer paid a bill." in text
    assert "Send the receipt by Friday (owner: agent, due: by Friday)" in text
    assert "Talk ratio (agent): 50%" in text
    assert f"/calls/{call.pk}/" in text
    assert response["Content-Disposition"] == f'attachment; filename="call-summary-{call.pk}-unreviewed.md"'
    assert _exports(org).count() == 1


def test_draft_without_confirmation_is_refused_and_nothing_is_recorded(org, api_as):
    client = api_as("admin")
    call = analysed_call(org)
    response = client.get(f"/api/v1/calls/{call.pk}/summary?format=pdf")
    assert response.status_code == 422
    assert "approve it first" in response.json()["errors"]["confirm_unreviewed"][0]
    assert not _exports(org).exists()


def test_corrected_but_not_approved_is_still_a_draft(org, api_as):
    client = api_as("admin")
    call = analysed_call(org)
    services.correct(org, Actor.system("test"), call, {"summary": "The customer paid by card."})
    assert client.get(f"/api/v1/calls/{call.pk}/summary?format=md").status_code == 422
    body = client.get(f"/api/v1/calls/{call.pk}/summary?format=json&confirm_unreviewed=true").json()
    assert body["label"] == LABEL
    assert body["review_state"] == "corrected"
    assert body["summary"] == "The customer paid by card."


def test_approved_summary_goes_out_without_the_label_and_names_the_approver(org, api_as):
    client = api_as("admin")
    call = analysed_call(org)
    client.post(f"/api/v1/calls/{call.pk}/approve")
    body = client.get(f"/api/v1/calls/{call.pk}/summary?format=json").json()
    assert body["label"] is None
    assert body["approved_by"] == client.membership.user.email
    assert body["status"].startswith(f"Reviewed and approved by {client.membership.user.email} on ")
    assert body["model"] == {"name": "tiny.en", "version": "1", "pipeline": "test"}
    text = client.get(f"/api/v1/calls/{call.pk}/summary?format=md").content.decode()
    assert "Unreviewed" not in text


def test_pdf_download_is_a_pdf_with_the_label(org, api_as):
    client = api_as("admin")
    call = analysed_call(org)
    response = client.get(f"/api/v1/calls/{call.pk}/summary?format=pdf&confirm_unreviewed=true")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert "UNREVIEWED AI OUTPUT" in pdf_text(response.content)


def test_unknown_format_is_422(org, api_as):
    call = analysed_call(org)
    response = api_as("admin").get(f"/api/v1/calls/{call.pk}/summary?format=docx&confirm_unreviewed=true")
    assert response.status_code == 422
    assert "format" in response.json()["errors"]


def test_export_is_audited_and_counted_as_an_export_in_shield(org, api_as):
    from octopushx.shield.monitoring.services import CATEGORIES

    client = api_as("manager")
    call = analysed_call(org, agent=client.membership.user)
    client.get(f"/api/v1/calls/{call.pk}/summary?format=json&confirm_unreviewed=true")
    entry = _exports(org).get()
    assert entry.actor_user == client.membership.user
    assert entry.object_id == str(call.pk)
    assert entry.personal.changes["labelled"] == [None, True]
    assert AuditEntry.objects.filter(CATEGORIES["exports"][1], pk=entry.pk).exists()


def test_email_of_a_draft_with_confirmation_is_labelled(org, api_as, mailoutbox):
    client = api_as("admin")
    call = analysed_call(org)
    response = client.post(
        f"/api/v1/calls/{call.pk}/summary/email",
        {"to": "partner@example.com", "confirm_unreviewed": True, "message": "As discussed."},
    )
    assert response.status_code == 200, response.json()
    assert response.json()["labelled"] is True
    [mail] = mailoutbox
    assert mail.to == ["partner@example.com"]
    assert mail.subject.startswith(f"[{LABEL}] Call summary")
    assert LABEL in mail.body and "As discussed." in mail.body and "Model: tiny.en" in mail.body
    [(filename, pdf, content_type)] = mail.attachments
    assert filename == f"call-summary-{call.pk}-unreviewed.pdf" and content_type == "application/pdf"
    assert pdf.startswith(b"%PDF")
    entry = _exports(org).get()
    assert entry.personal.changes["format"] == [None, "email"]
    assert entry.personal.changes["recipient"] == [None, "partner@example.com"]


def test_email_of_a_draft_without_confirmation_sends_nothing(org, api_as, mailoutbox):
    call = analysed_call(org)
    response = api_as("admin").post(f"/api/v1/calls/{call.pk}/summary/email", {"to": "partner@example.com"})
    assert response.status_code == 422
    assert "confirm_unreviewed" in response.json()["errors"]
    assert mailoutbox == []
    assert not _exports(org).exists()


def test_email_of_an_approved_summary_has_no_label(org, api_as, mailoutbox):
    client = api_as("owner")
    call = analysed_call(org)
    client.post(f"/api/v1/calls/{call.pk}/approve")
    response = client.post(f"/api/v1/calls/{call.pk}/summary/email", {"to": "partner@example.com"})
    assert response.status_code == 200
    [mail] = mailoutbox
    assert "Unreviewed" not in mail.subject + mail.body
    assert f"Reviewed and approved by {client.membership.user.email}" in mail.body


def test_bad_email_address_is_422_and_nothing_is_sent(org, api_as, mailoutbox):
    call = analysed_call(org)
    response = api_as("admin").post(
        f"/api/v1/calls/{call.pk}/summary/email", {"to": "not an address", "confirm_unreviewed": True}
    )
    assert response.status_code == 422
    assert "to" in response.json()["errors"]
    assert mailoutbox == []
    assert not _exports(org).exists()


def test_restricted_contacts_call_is_refused(org, api_as, mailoutbox):
    client = api_as("admin")
    contact = crm.create_contact(org, Actor.system("test"), {"first_name": "Rita"})
    call = analysed_call(org, contact=contact)
    Contact.objects.filter(pk=contact.pk).update(restricted=True)
    download = client.get(f"/api/v1/calls/{call.pk}/summary?format=md&confirm_unreviewed=true")
    assert download.status_code == 422
    assert "restricted" in download.json()["errors"]["call"][0]
    email = client.post(
        f"/api/v1/calls/{call.pk}/summary/email", {"to": "partner@example.com", "confirm_unreviewed": True}
    )
    assert email.status_code == 422
    assert mailoutbox == []
    assert not _exports(org).exists()


def test_call_without_analysis_is_refused(org, api_as):
    call = Call.objects.create(tenant=org, filename="queued.wav")
    response = api_as("admin").get(f"/api/v1/calls/{call.pk}/summary?confirm_unreviewed=true")
    assert response.status_code == 422
    assert "no analysis" in response.json()["errors"]["call"][0]


def test_another_tenants_call_is_404(org, other_org, api_as, mailoutbox):
    call = analysed_call(other_org)
    client = api_as("admin")
    assert client.get(f"/api/v1/calls/{call.pk}/summary?confirm_unreviewed=true").status_code == 404
    email = client.post(f"/api/v1/calls/{call.pk}/summary/email", {"to": "a@example.com", "confirm_unreviewed": True})
    assert email.status_code == 404
    assert mailoutbox == []


def test_roles_without_export_get_403(org, api_as, mailoutbox):
    for role in ("agent", "auditor"):
        client = api_as(role)
        call = analysed_call(org, agent=client.membership.user)
        download = client.get(f"/api/v1/calls/{call.pk}/summary?confirm_unreviewed=true")
        assert download.status_code == 403, role
        email = client.post(
            f"/api/v1/calls/{call.pk}/summary/email", {"to": "a@example.com", "confirm_unreviewed": True}
        )
        assert email.status_code == 403, role
    assert mailoutbox == []
    assert not _exports(org).exists()


def test_json_export_shape(org, api_as):
    call = analysed_call(org)
    body = json.loads(
        api_as("admin").get(f"/api/v1/calls/{call.pk}/summary?format=json&confirm_unreviewed=true").content
    )
    assert body["call_id"] == str(call.pk)
    assert body["action_items"] == [{"text": "Send the receipt by Friday", "owner": "agent", "due": "by Friday"}]
    assert body["metrics"]["silence_ratio"] == 0.2
    assert body["link"].endswith(f"/calls/{call.pk}/")
