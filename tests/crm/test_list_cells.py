"""Inline editing in the lists: a contact's owner or lifecycle stage changed in place."""

from __future__ import annotations

from django.urls import reverse

from octopushx.core.models import AuditEntry
from octopushx.crm.models import Contact, Deal
from tests.conftest import make_member

from .conftest import make_contact, make_deal

NAMES = {
    ("contacts", "owner"): "crm:contact_owner_cell",
    ("contacts", "lifecycle_stage"): "crm:contact_lifecycle_cell",
    ("companies", "owner"): "crm:company_owner_cell",
    ("deals", "owner"): "crm:deal_owner_cell",
}


def _url(plural: str, record, key: str) -> str:
    return reverse(NAMES[plural, key], args=[record.pk])


def test_the_list_offers_in_place_editing_to_those_who_may_write(web_as, org):
    contact = make_contact(org, lifecycle_stage="lead")
    page = web_as("admin").get(reverse("crm:contacts")).content.decode()
    assert f'hx-get="{_url("contacts", contact, "lifecycle_stage")}"' in page
    assert f'hx-get="{_url("contacts", contact, "owner")}"' in page


def test_an_auditor_sees_plain_values_and_cannot_edit(web_as, org):
    contact = make_contact(org, lifecycle_stage="lead")
    client = web_as("auditor")
    assert "cell-edit" not in client.get(reverse("crm:contacts")).content.decode()
    response = client.post(_url("contacts", contact, "lifecycle_stage"), {"value": "customer"})
    assert response.status_code == 403
    assert Contact.objects.get(pk=contact.pk).lifecycle_stage == "lead"


def test_the_editor_offers_the_choices_with_the_current_one_chosen(web_as, org):
    contact = make_contact(org, lifecycle_stage="sql")
    html = web_as("admin").get(_url("contacts", contact, "lifecycle_stage"), HTTP_HX_REQUEST="true").content.decode()
    assert '<option value="sql" selected>Sales qualified lead</option>' in html and "<html" not in html
    assert f'<label class="visually-hidden" for="edit-{contact.pk}-lifecycle_stage">Lifecycle of Ada Lovelace' in html


def test_saving_a_lifecycle_stage_changes_it_audits_it_and_shows_the_value(web_as, org):
    contact = make_contact(org, lifecycle_stage="lead")
    response = web_as("admin").post(_url("contacts", contact, "lifecycle_stage"), {"value": "customer"})
    assert response.status_code == 200 and "<span>Customer</span>" in response.content.decode()
    assert Contact.objects.get(pk=contact.pk).lifecycle_stage == "customer"
    assert AuditEntry.objects.filter(object_id=str(contact.pk), action="contact.updated").exists()


def test_saving_an_owner_and_then_no_owner(web_as, org):
    member = make_member(org, "agent", email="new.owner@example.test")
    deal = make_deal(org)
    client = web_as("admin")
    assert client.post(_url("deals", deal, "owner"), {"value": str(member.user.pk)}).status_code == 200
    assert Deal.objects.get(pk=deal.pk).owner_id == member.user.pk
    response = client.post(_url("deals", deal, "owner"), {"value": ""})
    assert response.status_code == 200 and "<span>—</span>" in response.content.decode()
    assert Deal.objects.get(pk=deal.pk).owner_id is None


def test_a_value_that_is_not_a_choice_is_refused_with_a_message(web_as, org):
    contact = make_contact(org, lifecycle_stage="lead")
    response = web_as("admin").post(_url("contacts", contact, "lifecycle_stage"), {"value": "royalty"})
    assert response.status_code == 400 and "Choose one of the options." in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert Contact.objects.get(pk=contact.pk).lifecycle_stage == "lead"


def test_an_owner_from_another_organisation_is_refused(web_as, org, other_org):
    stranger = make_member(other_org, "agent", email="stranger@example.test")
    contact = make_contact(org)
    response = web_as("admin").post(_url("contacts", contact, "owner"), {"value": str(stranger.user.pk)})
    assert response.status_code == 400
    assert Contact.objects.get(pk=contact.pk).owner_id is None


def test_another_organisations_record_is_not_found(web_as, org, other_org):
    theirs = make_contact(other_org, lifecycle_stage="lead")
    response = web_as("admin").post(_url("contacts", theirs, "lifecycle_stage"), {"value": "customer"})
    assert response.status_code == 404
    assert Contact.objects.get(pk=theirs.pk).lifecycle_stage == "lead"


def test_a_column_that_is_not_edited_in_place_is_not_found(web_as, org):
    contact = make_contact(org)
    response = web_as("admin").get(reverse("crm:contact", args=[contact.pk]) + "cell/email/")
    assert response.status_code == 404


def test_cancel_shows_the_value_again(web_as, org):
    contact = make_contact(org, lifecycle_stage="lead")
    html = (
        web_as("admin")
        .get(_url("contacts", contact, "lifecycle_stage") + "?cancel=1", HTTP_HX_REQUEST="true")
        .content.decode()
    )
    assert "<span>Lead</span>" in html and "<select" not in html


def test_the_editor_opened_as_a_page_leads_to_the_list(web_as, org):
    contact = make_contact(org)
    response = web_as("admin").get(_url("contacts", contact, "owner"))
    assert response.status_code == 302 and response["Location"] == reverse("crm:contacts")
