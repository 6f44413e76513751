"""The share page: download or email a call summary; a draft needs the confirmation box,
checked on the server; roles and tenants as everywhere."""

from __future__ import annotations

from django.urls import reverse

from octopushx.calls import services
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry
from octopushx.crm import services as crm
from octopushx.crm.models import Contact
from tests.calls.factories import analysed_call
from tests.pdf_text import pdf_text

LABEL = "Unreviewed AI output — not checked by a person"


def _url(call):
    return reverse("calls:share", args=[call.pk])


def test_call_page_links_to_sharing_only_for_roles_that_may_export(org, web_as):
    for role, linked in (("manager", True), ("agent", False)):
        client = web_as(role)
        call = analysed_call(org, agent=client.get("/").wsgi_request.user)
        page = client.get(reverse("calls:detail", args=[call.pk]))
        assert page.status_code == 200
        assert (_url(call) in page.content.decode()) is linked, role


def test_share_page_of_a_draft_warns_and_shows_the_confirmation_box(org, web_as):
    call = analysed_call(org)
    page = web_as("admin").get(_url(call))
    text = page.content.decode()
    assert page.status_code == 200
    assert LABEL in text
    assert 'name="confirm_unreviewed"' in text


def test_download_of_a_draft_without_the_box_is_refused_on_the_server(org, web_as):
    call = analysed_call(org)
    response = web_as("admin").post(_url(call), {"action": "download", "format": "md"})
    assert response.status_code == 422
    assert "Confirm that you want to share it unreviewed" in response.content.decode()
    assert not AuditEntry.objects.filter(tenant=org, action="call.exported").exists()


def test_download_of_a_draft_with_the_box_is_labelled(org, web_as):
    call = analysed_call(org)
    response = web_as("admin").post(_url(call), {"action": "download", "format": "md", "confirm_unreviewed": "on"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert LABEL in response.content.decode()


def test_approved_summary_needs_no_box_and_has_no_label(org, web_as):
    call = analysed_call(org)
    client = web_as("admin")
    client.post(reverse("calls:approve", args=[call.pk]))
    page = client.get(_url(call)).content.decode()
    assert 'name="confirm_unreviewed"' not in page
    response = client.post(_url(call), {"action": "download", "format": "pdf"})
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF-")
    text = pdf_text(response.content)
    assert "UNREVIEWED" not in text
    assert "Reviewed and approved by" in text


def test_email_with_the_box_sends_and_returns_to_the_call(org, web_as, mailoutbox):
    call = analysed_call(org)
    response = web_as("admin").post(
        _url(call), {"action": "email", "to": "partner@example.com", "confirm_unreviewed": "on"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("calls:detail", args=[call.pk])
    [mail] = mailoutbox
    assert LABEL in mail.body


def test_email_without_the_box_or_with_a_bad_address_sends_nothing(org, web_as, mailoutbox):
    call = analysed_call(org)
    client = web_as("admin")
    unconfirmed = client.post(_url(call), {"action": "email", "to": "partner@example.com"})
    assert unconfirmed.status_code == 422
    bad = client.post(_url(call), {"action": "email", "to": "nobody", "confirm_unreviewed": "on"})
    assert bad.status_code == 422
    assert "A valid email address" in bad.content.decode()
    assert 'value="nobody"' in bad.content.decode()  # what was typed is kept
    assert mailoutbox == []


def test_restricted_contacts_call_cannot_be_shared(org, web_as, mailoutbox):
    contact = crm.create_contact(org, Actor.system("test"), {"first_name": "Rita"})
    call = analysed_call(org, contact=contact)
    Contact.objects.filter(pk=contact.pk).update(restricted=True)
    client = web_as("admin")
    response = client.post(_url(call), {"action": "email", "to": "a@example.com", "confirm_unreviewed": "on"})
    assert response.status_code == 302
    assert mailoutbox == []
    assert _url(call) not in client.get(reverse("calls:detail", args=[call.pk])).content.decode()


def test_roles_without_export_get_403(org, web_as, mailoutbox):
    for role in ("agent", "auditor"):
        client = web_as(role)
        call = analysed_call(org, agent=client.get("/").wsgi_request.user)
        services.approve(org, Actor.system("test"), call)
        assert client.get(_url(call)).status_code == 403, role
        assert client.post(_url(call), {"action": "email", "to": "a@example.com"}).status_code == 403, role
    assert mailoutbox == []
    assert not AuditEntry.objects.filter(tenant=org, action="call.exported").exists()


def test_another_tenants_call_is_404(org, other_org, web_as):
    call = analysed_call(other_org)
    client = web_as("admin")
    assert client.get(_url(call)).status_code == 404
    assert (
        client.post(_url(call), {"action": "download", "format": "md", "confirm_unreviewed": "on"}).status_code == 404
    )
