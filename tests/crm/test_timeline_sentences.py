"""Timeline entries read as sentences with names: no ids, no codes, no empty fields."""

import re

from octopushx.core.context import Actor
from octopushx.crm import services, timeline
from tests.conftest import make_member

from .conftest import make_company, make_contact, make_deal

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-")


def lines_of(record, kind=None):
    return [(entry.title, entry.lines) for entry in timeline.build(record, kind)]


def all_text(record) -> str:
    return " ".join(f"{e.title} {' '.join(e.lines)}" for e in timeline.build(record))


def test_a_stage_move_reads_moved_from_to(org):
    deal = make_deal(org)
    stages = {s.name: s for s in deal.pipeline.stages.all()}
    services.move_deal(org, Actor.system("test"), deal, str(stages["Proposal"].pk))
    services.move_deal(org, Actor.system("test"), deal, str(stages["Won"].pk))
    titles = [e.title for e in timeline.build(deal, "stage")]
    assert titles == ["Moved from Proposal to Won", "Moved from New to Proposal"]
    # The status follows the stage: no separate "Status changed from Open to Won" entry.
    assert "Status" not in all_text(deal)


def test_linking_contacts_and_a_company_names_them(org):
    silver = make_company(org, name="Silver Print")
    amelia = make_contact(org, first_name="Amelia", last_name="Baker", company_id=str(silver.pk))
    deal = make_deal(org)
    services.update_deal(
        org, Actor.system("test"), deal, {"contact_ids": [str(amelia.pk)], "company_id": str(silver.pk)}
    )
    title, lines = lines_of(deal, "change")[0]
    assert title == "Deal edited"
    assert sorted(lines) == ["Company set to Silver Print", "Linked to Amelia Baker (Silver Print)"]
    services.update_deal(org, Actor.system("test"), deal, {"contact_ids": [], "company_id": None})
    assert sorted(lines_of(deal, "change")[0][1]) == [
        "Company cleared (was Silver Print)",
        "Unlinked from Amelia Baker (Silver Print)",
    ]


def test_a_new_contacts_created_entry_lists_only_what_was_given(org):
    owner = make_member(org, "admin", email="owner@example.test")
    contact = make_contact(org, first_name="Ada", last_name="Lovelace", email="ada@example.com", owner=owner)
    (title, lines) = lines_of(contact, "change")[0]
    assert title == "Contact created"
    assert lines == [
        "Email added: ada@example.com",
        "First name set to Ada",
        "Last name set to Lovelace",
        "Lead status set to New",
        "Lifecycle set to Lead",
        "Owner set to owner@example.test",
    ]


def test_changes_read_with_labels_and_formatted_values(org):
    contact = make_contact(org, job_title="Engineer", tags=["vip"])
    services.update_contact(
        org,
        Actor.system("test"),
        contact,
        {"job_title": "CTO", "lifecycle_stage": "customer", "tags": ["vip", "board"], "phones": ["+44 20 7946 0123"]},
    )
    lines = lines_of(contact, "change")[0][1]
    assert "Job title changed from Engineer to CTO" in lines
    assert "Lifecycle changed from Lead to Customer" in lines
    assert "Tag added: board" in lines
    assert "Phone added: +44 20 7946 0123" in lines


def test_deal_values_and_custom_fields_read_as_people_write_them(org):
    services.create_custom_field(
        org, Actor.system("test"), {"object_type": "deal", "label": "Plan", "field_type": "select", "options": ["Gold"]}
    )
    deal = make_deal(org, value="1200", currency="EUR", expected_close="2026-03-31")
    services.update_deal(org, Actor.system("test"), deal, {"value": "1500.50", "custom_fields": {"plan": "Gold"}})
    created = lines_of(deal, "change")[-1][1]
    assert "Value set to 1,200 EUR" in created and "Expected close set to 31 Mar 2026" in created
    assert "Stage set to New" in created and "Pipeline set to Sales" in created
    edited = lines_of(deal, "change")[0][1]
    assert edited == ["Plan set to Gold", "Value changed from 1,200 EUR to 1,500.50 EUR"]


def test_no_timeline_shows_ids_empty_markers_or_list_reprs(org):
    silver = make_company(org, name="Silver Print")
    contact = make_contact(org, company_id=str(silver.pk))
    deal = make_deal(org, contact_ids=[str(contact.pk)], company_id=str(silver.pk))
    services.update_contact(org, Actor.system("test"), contact, {"company_id": None})
    for record in (contact, deal, silver):
        text = all_text(record)
        assert not UUID.search(text) and "∅" not in text and "['" not in text and "None" not in text, text


def test_a_deleted_reference_is_named_as_such(org):
    gone = make_company(org, name="Gone Ltd")
    deal = make_deal(org, company_id=str(gone.pk))
    services.delete_company(org, Actor.system("test"), gone)
    assert "Company set to a deleted company" in lines_of(deal, "change")[-1][1]


def test_an_id_in_an_unknown_field_is_never_shown(org, other_org):
    from octopushx.core import audit

    theirs = make_contact(other_org, first_name="Secret", last_name="Person")
    deal = make_deal(org)
    audit.record(org, Actor.system("test"), "deal.updated", obj=deal, changes={"sponsor": [None, str(theirs.pk)]})
    text = all_text(deal)
    assert "Secret" not in text and str(theirs.pk) not in text and "Sponsor set to a deleted sponsor" in text
