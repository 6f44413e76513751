"""The audit trail reads as people's words: action labels with the code on hover, names for ids,
changes as sentences; the CSV keeps the raw codes."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from octopushx.core import audit, audit_labels
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry
from octopushx.crm import services as crm
from octopushx.tenancy.roles import Role
from tests.conftest import make_member
from tests.shield.factories import fulfilled

SYSTEM = Actor.system("test")


def trail(client) -> str:
    return client.get(reverse("shield:audit")).content.decode()


def row_of(page: str, entry) -> str:
    """The HTML of one entry's row."""
    match = re.search(rf'<tr data-seq="{entry.seq}">(.*?)</tr>', page, re.S)
    assert match, f"entry {entry.seq} ({entry.action}) is not listed"
    return match.group(1)


@pytest.mark.parametrize(
    ("code", "label"),
    [
        ("auth.sign_in", "Signed in"),
        ("contact.updated", "Contact updated"),
        ("deal.stage_changed", "Deal stage changed"),
        ("privacy.completed", "Privacy request completed"),
        ("call.analysed", "Call analysed"),
        ("member.role_changed", "Member's role changed"),
    ],
)
def test_every_product_registers_labels_for_its_actions(code, label):
    assert audit_labels.action_label(code) == label


def test_an_unlabelled_code_still_reads_as_words():
    assert audit_labels.action_label("widget.merge_undone") == "Widget merge undone"
    assert audit_labels.action_label("standalone") == "Standalone"


def test_the_page_shows_the_label_with_the_code_on_hover(org, web_as):
    client = web_as(Role.AUDITOR)
    entry = audit.record(org, SYSTEM, "auth.sign_in", object_type="user")
    html = row_of(trail(client), entry)
    assert 'title="auth.sign_in"' in html and ">Signed in</span>" in html
    assert "<code>" not in html


def test_a_person_is_shown_by_name_with_the_email_beneath(org, web_as):
    member = make_member(org, Role.ADMIN, email="amelia@example.test")
    member.user.full_name = "Amelia Baker"
    member.user.save()
    entry = audit.record(
        org, Actor(user=member.user), "auth.sign_in", object_type="user", object_id=str(member.user.pk)
    )
    html = row_of(trail(web_as(Role.AUDITOR)), entry)
    assert '<span data-testid="actor">Amelia Baker</span>' in html and "amelia@example.test" in html
    assert str(member.user.pk) not in html  # the object (the user) is named, not numbered
    assert 'User · <span class="text-body">Amelia Baker</span>' in html


def test_a_system_actor_is_marked_and_named_in_words(org, web_as):
    entry = audit.record(org, Actor.system("demo"), "crm.demo_loaded", object_type="crm")
    html = row_of(trail(web_as(Role.AUDITOR)), entry)
    assert "System</span>" in html and '<span data-testid="actor">Demo data</span>' in html


def test_ids_in_changes_are_shown_as_the_records_names(org, web_as):
    contact = crm.create_contact(org, SYSTEM, {"first_name": "Amelia", "last_name": "Baker"})
    company = crm.create_company(org, SYSTEM, {"name": "Silver Print"})
    entry = audit.record(
        org, SYSTEM, "deal.updated", object_type="deal",
        changes={"company": [None, str(company.pk)], "contacts": [[], [str(contact.pk)]]},
    )  # fmt: skip
    html = row_of(trail(web_as(Role.AUDITOR)), entry)
    assert "<strong>Company</strong> set to Silver Print" in html
    assert "<strong>Contacts</strong> set to Amelia Baker" in html
    assert str(company.pk) not in html and str(contact.pk) not in html


def test_an_id_from_another_organisation_is_not_named(org, other_org, web_as):
    theirs = crm.create_contact(other_org, SYSTEM, {"first_name": "Secret", "last_name": "Person"})
    entry = audit.record(org, SYSTEM, "deal.updated", object_type="deal", changes={"contact": [None, str(theirs.pk)]})
    html = row_of(trail(web_as(Role.AUDITOR)), entry)
    assert "Secret" not in html and str(theirs.pk) not in html
    assert "<strong>Contact</strong> set to a removed record" in html


def test_changes_read_as_sentences(org, web_as):
    entry = audit.record(
        org, SYSTEM, "deal.stage_changed", object_type="deal",
        changes={"stage": ["Proposal", "Won"], "notes": ["old text", None], "is_default": [None, True],
                 "api_key": ["a", "b"], "untouched": [None, ""]},
    )  # fmt: skip
    html = row_of(trail(web_as(Role.AUDITOR)), entry)
    assert "<strong>Stage</strong> changed from Proposal to Won" in html
    assert "<strong>Notes</strong> cleared (was old text)" in html
    assert "<strong>Default</strong> set to Yes" in html
    assert "<strong>Api key</strong> changed" in html and "••" not in html
    assert "Untouched" not in html  # an empty field is left out


def test_a_finished_erasure_reads_as_a_sentence_not_a_dict(org, web_as):
    crm.create_contact(org, SYSTEM, {"first_name": "Ada", "email": "ada@example.test"})
    request = fulfilled(org, "erasure", email="ada@example.test")
    entry = AuditEntry.objects.get(tenant=org, action="privacy.completed", object_id=str(request.pk))
    html = row_of(trail(web_as(Role.AUDITOR)), entry)
    assert "<strong>Result</strong> Erased 1 contact" in html
    assert "{" not in html and "erased&#x27;" not in html
    assert "Erasure request of" in html  # the object is the request, named by kind and date


def test_erased_personal_details_say_so(org, web_as):
    entry = audit.record(org, SYSTEM, "contact.updated", object_type="contact", changes={"email": ["a@b.c", None]})
    audit.erase_personal(AuditEntry.objects.filter(pk=entry.pk), "[erased]")
    html = row_of(trail(web_as(Role.AUDITOR)), entry)
    assert "Personal details</strong> erased" in html and "a@b.c" not in html


def test_action_filter_offers_families_by_label(org, web_as):
    audit.record(org, SYSTEM, "contact.created", object_type="contact")
    page = trail(web_as(Role.AUDITOR))
    assert '<option value="contact.">Contact</option>' in page


def test_the_csv_keeps_the_raw_codes(org, web_as):
    contact = crm.create_contact(org, SYSTEM, {"first_name": "Amelia"})
    response = web_as(Role.AUDITOR).get(reverse("shield:audit_csv"), {"action": "contact."})
    text = b"".join(response.streaming_content).decode()
    assert "contact.created" in text and str(contact.pk) in text and "Contact created" not in text


def test_an_accepted_legal_document_is_named_by_its_kind(org, web_as):
    entry = audit.record(
        org, SYSTEM, "legal.accepted", object_type="acceptance",
        changes={"document": [None, "dpa v2"], "document_id": [None, "0b7c9a52-5d8e-4f0e-9d59-2b1b5a0c1d11"]},
    )  # fmt: skip
    html = row_of(trail(web_as(Role.AUDITOR)), entry)
    assert "<strong>Document</strong> Data processing agreement, version 2" in html
    assert "removed record" not in html


def test_a_privacy_request_page_shows_its_timeline_in_words(org, web_as):
    crm.create_contact(org, SYSTEM, {"first_name": "Ada", "email": "ada@example.test"})
    request = fulfilled(org, "erasure", email="ada@example.test")
    page = web_as(Role.AUDITOR).get(reverse("shield:privacy_request", args=[request.pk])).content.decode()
    timeline = page[page.index('data-testid="timeline"') :]
    for label in ("Privacy request received", "Privacy request verified", "Privacy request completed"):
        assert label in timeline
    assert "<strong>Kind</strong> Erasure" in timeline and "<strong>Result</strong> Erased 1 contact" in timeline
    assert "{" not in timeline
