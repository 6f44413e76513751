"""The contacts, companies and deals lists: filters shown as removable chips, the column choice
kept, values shown whole, the bulk bar only for a selection."""

from __future__ import annotations

from django.urls import reverse

from octopushx.crm.fields import display_money
from tests.conftest import make_member

from .conftest import make_contact, make_deal


def test_money_reads_without_pence_on_whole_amounts():
    assert display_money("12500.00", "GBP") == "£12,500"
    assert display_money("12500.50", "GBP") == "£12,500.50"
    assert display_money("1200", "CHF") == "CHF 1,200"
    assert display_money("-3", "USD") == "-$3"
    assert display_money(None, "EUR") == "€0"


def test_filters_in_force_show_as_chips_that_remove_one_filter_each(web_as, org):
    owner = make_member(org, "manager", email="mia.manager@example.test")
    owner.user.full_name = "Mia Manager"
    owner.user.save()
    make_contact(org, owner=owner, lifecycle_stage="mql")
    client = web_as("admin")
    page = client.get(
        reverse("crm:contacts"),
        {"lifecycle_stage": "mql", "owner_id": str(owner.user.pk), "q": "ada", "page": "1"},
    ).content.decode()
    assert "Lifecycle: Marketing qualified lead" in page
    assert "Owner: Mia Manager" in page and "Search: ada" in page
    # each chip links to the same list without its own filter (and back to the first page)
    assert f'href="/crm/?owner_id={owner.user.pk}&amp;q=ada"' in page
    assert 'href="/crm/?lifecycle_stage=mql&amp;q=ada"' in page
    # the Filters button counts the filters in force besides the search
    assert '>2</span><span class="visually-hidden"> in force</span>' in page


def test_a_list_without_filters_shows_no_chips(web_as, org):
    make_contact(org)
    page = web_as("admin").get(reverse("crm:contacts")).content.decode()
    assert "Filters in force" not in page and "Clear all" not in page


def test_a_filter_of_another_list_makes_no_chip(web_as, org):
    page = web_as("admin").get(reverse("crm:companies"), {"lifecycle_stage": "lead"}).content.decode()
    assert "Lifecycle:" not in page


def test_a_stage_chip_names_the_stage_not_its_id(web_as, org):
    deal = make_deal(org, name="Chip deal")
    page = web_as("admin").get(reverse("crm:deals"), {"stage_id": str(deal.stage_id)}).content.decode()
    assert f"Stage: {deal.pipeline.name} · {deal.stage.name}" in page
    assert f"Stage: {deal.stage_id}" not in page


def test_the_column_choice_is_kept_for_the_next_visit(web_as, org):
    make_contact(org, city="Leeds", job_title="Engineer")
    client = web_as("admin")
    chosen = client.get(reverse("crm:contacts"), {"cols": ["city", "job_title"]}).content.decode()
    assert ">City</th>" in chosen and ">Job title</th>" in chosen and "Lifecycle</th>" not in chosen
    later = client.get(reverse("crm:contacts")).content.decode()
    assert ">City</th>" in later and ">Job title</th>" in later and "Lifecycle</th>" not in later
    assert 'data-label="City">Leeds</td>' in later


def test_an_empty_column_choice_goes_back_to_the_defaults(web_as, org):
    make_contact(org)
    client = web_as("admin")
    client.get(reverse("crm:contacts"), {"cols": ["city"]})
    reset = client.get(reverse("crm:contacts") + "?cols=").content.decode()
    assert ">Lifecycle</th>" in reset and ">City</th>" not in reset
    assert ">Lifecycle</th>" in client.get(reverse("crm:contacts")).content.decode()


def test_unknown_columns_are_ignored(web_as, org):
    make_contact(org)
    page = web_as("admin").get(reverse("crm:contacts"), {"cols": ["password", "city"]}).content.decode()
    head = page.split("<thead>")[1].split("</thead>")[0]
    assert head.count("<th ") == 3 and '<th scope="col">City</th>' in head


def test_values_are_whole_and_an_email_may_wrap_after_its_at(web_as, org):
    make_contact(
        org,
        email="a.very.long.address.for.testing@northern-insurance-leeds.example",
        lifecycle_stage="mql",
    )
    page = web_as("admin").get(reverse("crm:contacts")).content.decode()
    assert "a.very.long.address.for.testing@<wbr>northern-insurance-leeds.example" in page
    assert "<span>Marketing qualified lead</span>" in page  # whole, in its edit-in-place button
    assert 'class="table table-vcenter table-hover card-table crm-table"' in page


def test_deal_values_are_money_without_pence(web_as, org):
    make_deal(org, name="Round", value="12500")
    page = web_as("admin").get(reverse("crm:deals")).content.decode()
    assert 'data-label="Value">£12,500</td>' in page and "12,500.00" not in page


def test_the_bulk_bar_is_hidden_until_rows_are_selected(web_as, org):
    make_contact(org)
    page = web_as("admin").get(reverse("crm:contacts")).content.decode()
    assert 'class="bulk" data-bulk-bar hidden' in page


def test_an_auditor_gets_no_bulk_bar_and_no_new_button(web_as, org):
    make_contact(org)
    page = web_as("auditor").get(reverse("crm:contacts")).content.decode()
    assert "data-bulk-bar" not in page and "New contact" not in page


def test_a_refused_filter_is_named_as_the_page_names_it(web_as, org):
    page = web_as("admin").get(reverse("crm:contacts"), {"owner_id": "nope"}).content.decode()
    assert "Some filters were not applied: Owner: not a valid id" in page and "owner_id:" not in page
