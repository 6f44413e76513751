"""OctoCRM in a real browser: the pipeline board's drag and drop, the "/" search shortcut,
inline edit, bulk actions. The page watcher fails a test on any CSP violation or script error."""

import pytest

from octopushx.core.context import Actor
from octopushx.crm import services
from octopushx.crm.models import Contact, Deal
from tests.conftest import make_member, make_org

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def owner():
    return make_member(make_org("Acme Support"), "owner", email="crm-owner@example.test")


def test_drag_a_deal_to_another_stage_updates_totals(page, signed_in, owner):
    actor = Actor(user=owner.user)
    deal = services.create_deal(owner.tenant, actor, {"name": "Dragged deal", "value": "1200"})
    target = deal.pipeline.stages.get(name="Proposal")
    signed_in(page, owner.user)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto("/crm/board/")
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    card = page.locator(f'[data-deal-id="{deal.pk}"]')
    column = page.locator(f'[data-stage-id="{target.pk}"]')
    card.drag_to(column.locator(".board-cards"))
    page.get_by_role("status").filter(has_text="Moved “Dragged deal” to Proposal.").wait_for()
    assert column.locator("[data-count]").inner_text() == "1"
    assert column.locator("[data-total]").inner_text() == "£1,200"
    assert column.locator(f'[data-deal-id="{deal.pk}"]').count() == 1
    assert Deal.objects.get(pk=deal.pk).stage_id == target.pk


def test_move_a_deal_by_keyboard_through_its_card_menu(page, signed_in, owner):
    deal = services.create_deal(owner.tenant, Actor(user=owner.user), {"name": "Keyboard deal", "value": "500"})
    first = deal.stage
    target = deal.pipeline.stages.get(name="Negotiation")
    signed_in(page, owner.user)
    page.goto("/crm/board/")
    page.get_by_role("link", name="Keyboard deal").focus()
    page.keyboard.press("Tab")
    menu = page.get_by_role("button", name="Move Keyboard deal")
    assert menu.evaluate("el => el === document.activeElement")
    page.keyboard.press("Enter")
    choice = page.locator(f'[data-deal-id="{deal.pk}"]').get_by_role("button", name="Negotiation")
    choice.wait_for()
    while not choice.evaluate("el => el === document.activeElement"):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.get_by_role("status").filter(has_text="Moved “Keyboard deal” to Negotiation.").wait_for()
    column = page.locator(f'[data-stage-id="{target.pk}"]')
    assert column.locator(f'[data-deal-id="{deal.pk}"]').count() == 1
    assert column.locator("[data-total]").inner_text() == "£500"
    assert page.locator(f'[data-stage-id="{first.pk}"] [data-count]').inner_text() == "0"
    assert menu.evaluate("el => el === document.activeElement")  # the focus stays on the moved card
    assert Deal.objects.get(pk=deal.pk).stage_id == target.pk


def _on_screen(locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= locator.page.viewport_size["width"]


def test_the_board_on_a_phone_shows_one_stage_at_a_time_without_page_scroll(page, signed_in, owner):
    actor = Actor(user=owner.user)
    deal = services.create_deal(owner.tenant, actor, {"name": "Phone deal", "value": "75"})
    won = deal.pipeline.stages.get(name="Won")
    services.create_deal(owner.tenant, actor, {"name": "Won on the phone", "value": "90", "stage_id": str(won.pk)})
    signed_in(page, owner.user)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/crm/board/")
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    first = page.locator(f'[data-stage-id="{deal.stage_id}"]')
    assert 330 <= first.bounding_box()["width"] <= 390
    assert _on_screen(page.get_by_role("link", name="Phone deal"))
    assert not _on_screen(page.get_by_role("link", name="Won on the phone"))
    page.locator(f'[data-stage-link="{won.pk}"]').click()
    page.wait_for_function(
        "id => { const c = document.getElementById('stage-' + id).getBoundingClientRect(); return Math.abs(c.left - 16) < 20; }",
        arg=str(won.pk),
    )
    assert _on_screen(page.get_by_role("link", name="Won on the phone"))
    assert not _on_screen(page.get_by_role("link", name="Phone deal"))
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")


def test_slash_focuses_search_and_arrow_keys_open_a_result(page, signed_in, owner):
    services.create_contact(owner.tenant, Actor(user=owner.user), {"first_name": "Findable", "last_name": "Fiona"})
    signed_in(page, owner.user)
    page.goto("/crm/companies/")
    page.keyboard.press("/")
    box = page.get_by_label("Search the CRM")
    assert box.evaluate("el => el === document.activeElement")
    box.fill("findable")
    page.locator("#crm-search-results").get_by_text("Findable Fiona").wait_for()
    page.keyboard.press("Escape")
    assert page.locator("#crm-search-results a").count() == 0
    box.fill("findable fiona")
    page.locator("#crm-search-results").get_by_text("Findable Fiona").wait_for()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Findable Fiona").wait_for()


def test_inline_edit_on_the_detail_page(page, signed_in, owner):
    company = services.create_company(owner.tenant, Actor(user=owner.user), {"name": "Old Name Ltd"})
    signed_in(page, owner.user)
    page.goto(f"/crm/companies/{company.pk}/")
    page.get_by_role("button", name="Edit inline").click()
    page.locator("#record-fields").get_by_label("Industry").fill("Robotics")
    page.locator("#record-fields").get_by_role("button", name="Save").click()
    page.locator("#record-fields").get_by_text("Robotics").wait_for()
    company.refresh_from_db()
    assert company.industry == "Robotics"


def test_bulk_tag_shows_only_the_tag_box_and_counts_the_selection(page, signed_in, owner):
    actor = Actor(user=owner.user)
    for first in ("Ada", "Alan", "Grace"):
        services.create_contact(owner.tenant, actor, {"first_name": first, "last_name": "Bulk"})
    signed_in(page, owner.user)
    page.goto("/crm/?ordering=first_name")
    bar = page.get_by_role("region", name="Bulk actions")
    assert not bar.is_visible()  # nothing selected, no bar
    page.get_by_label("Select Ada Bulk").check()
    assert bar.is_visible() and page.locator("[data-selected-count]").inner_text() == "1 selected"
    page.get_by_label("Select Alan Bulk").check()
    assert page.locator("[data-selected-count]").inner_text() == "2 selected"
    assert page.locator("#bulk-owner").is_visible() and not page.locator("#bulk-tag").is_visible()
    page.locator("#bulk-action").select_option("add_tag")
    assert page.locator("#bulk-tag").is_visible() and not page.locator("#bulk-owner").is_visible()
    page.locator("#bulk-tag").fill("vip")
    bar.get_by_role("button", name="Apply").click()
    page.get_by_text("Updated 2.").wait_for()
    assert page.url.endswith("/crm/?ordering=first_name")
    tagged = Contact.objects.filter(tenant=owner.tenant, tags__name="vip")
    assert sorted(c.first_name for c in tagged) == ["Ada", "Alan"]


def test_merge_two_duplicates_then_undo_from_the_kept_contact(page, signed_in, owner):
    actor = Actor(user=owner.user)
    keep = services.create_contact(owner.tenant, actor, {"first_name": "Mia", "email": "mia@example.test"})
    twin = services.create_contact(owner.tenant, actor, {"first_name": "Mya", "email": "mia@example.test"})
    signed_in(page, owner.user)
    page.goto("/crm/duplicates/")
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Keep left").click()
    page.get_by_text("Merged into").wait_for()
    assert Contact.objects.filter(pk__in=[keep.pk, twin.pk]).count() == 1
    kept = Contact.objects.get(pk__in=[keep.pk, twin.pk])
    page.goto(f"/crm/contacts/{kept.pk}/")
    page.get_by_role("button", name="Undo merge").click()
    page.get_by_text("Merge undone").wait_for()
    assert Contact.objects.filter(pk__in=[keep.pk, twin.pk]).count() == 2


def test_new_contact_form_marks_each_bad_field_and_keeps_what_was_typed(page, signed_in, owner):
    signed_in(page, owner.user)
    page.goto("/crm/contacts/new/")
    page.get_by_label("First name").fill("Katherine")
    page.get_by_label("Email", exact=True).fill("katherine@")
    page.get_by_label("Phone", exact=True).fill("12")
    page.get_by_role("button", name="Save").click()
    email = page.get_by_label("Email", exact=True)
    assert email.get_attribute("aria-invalid") == "true"
    assert email.evaluate("el => el === document.activeElement")  # the first field to fix has the focus
    assert page.get_by_label("Phone", exact=True).get_attribute("aria-invalid") == "true"
    assert page.get_by_label("First name").input_value() == "Katherine"
    assert not Contact.objects.filter(tenant=owner.tenant).exists()

    email.fill("katherine@example.test")
    page.get_by_label("Phone", exact=True).fill("020 7946 0123")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name="Katherine").wait_for()
    assert "+44 20 7946 0123" in page.locator("#record-fields").inner_text()
    assert Contact.objects.get(tenant=owner.tenant).phones.get().number == "+442079460123"


def test_rename_a_stage_from_the_board_and_see_it_there(page, signed_in, owner):
    deal = services.create_deal(owner.tenant, Actor(user=owner.user), {"name": "Staying put", "value": "10"})
    signed_in(page, owner.user)
    page.goto(f"/crm/pipelines/{deal.pipeline_id}/board/")
    page.get_by_role("link", name="Edit stages").click()
    page.get_by_label("Name of stage 1").fill("Inbound")
    page.get_by_role("button", name="Save").click()
    page.get_by_text(f"Pipeline {deal.pipeline.name} saved.").wait_for()
    page.goto(f"/crm/pipelines/{deal.pipeline_id}/board/")
    column = page.locator(f'[data-stage-id="{deal.stage_id}"]')
    assert column.locator("h2").inner_text().startswith("Inbound")
    assert column.get_by_role("link", name="Staying put").is_visible()


def test_list_search_ignores_accents_and_shows_the_exact_total(page, new_page, signed_in, owner, tmp_path):
    actor = Actor(user=owner.user)
    services.create_contact(owner.tenant, actor, {"first_name": "Jürgen", "last_name": "Müller"})
    services.create_contact(owner.tenant, actor, {"first_name": "Ada", "email": "ada.latin1@example.com"})
    services.create_contact(owner.tenant, actor, {"first_name": "Other", "last_name": "Person"})
    signed_in(page, owner.user)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto("/crm/")
    assert page.get_by_role("heading", name="Contacts").inner_text().endswith("3")
    page.get_by_label("Search", exact=True).fill("MULLER")
    page.get_by_role("button", name="Apply", exact=True).click()
    page.get_by_role("link", name="Jürgen Müller").wait_for()
    assert page.get_by_role("heading", name="Contacts").inner_text().endswith("1")
    assert page.get_by_text("Page 1 of 1").is_visible()
    page.screenshot(path=str(tmp_path / "contacts-accent-1440.png"), full_page=True)
    page.goto("/crm/?q=latin1")
    page.get_by_role("link", name="Ada").wait_for()
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(tmp_path / "contacts-email-word-390.png"), full_page=True)


def test_bulk_bar_goes_away_when_the_selection_is_cleared(page, signed_in, owner):
    services.create_contact(owner.tenant, Actor(user=owner.user), {"first_name": "Solo", "last_name": "Row"})
    signed_in(page, owner.user)
    page.goto("/crm/")
    page.get_by_label("Select all on this page").check()
    bar = page.get_by_role("region", name="Bulk actions")
    assert bar.is_visible() and page.locator("[data-selected-count]").inner_text() == "1 selected"
    bar.get_by_role("button", name="Clear selection").click()
    assert not bar.is_visible() and not page.get_by_label("Select Solo Row").is_checked()


def test_contacts_fit_at_desk_size_and_filters_show_as_removable_chips(page, signed_in, owner):
    actor = Actor(user=owner.user)
    services.create_contact(
        owner.tenant,
        actor,
        {
            "first_name": "Wilhelmina",
            "last_name": "Fairweather-Longbottom",
            "email": "wilhelmina.fairweather-longbottom@northern-insurance-leeds.example",
            "phone": "020 7946 0341",
            "lifecycle_stage": "mql",
            "owner_id": str(owner.user.pk),
        },
    )
    services.create_contact(owner.tenant, actor, {"first_name": "Other", "lifecycle_stage": "lead"})
    signed_in(page, owner.user)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto("/crm/")
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    table = page.locator("table.crm-table")
    wrapper = page.locator(".list-card .table-responsive")
    assert table.bounding_box()["width"] <= wrapper.bounding_box()["width"] + 1  # no sideways scroll in the list
    lifecycle = page.get_by_role("cell", name="Marketing qualified lead")
    assert lifecycle.evaluate("el => el.scrollWidth <= el.clientWidth")  # shown whole, not cut short
    email = page.get_by_role("cell", name="wilhelmina.fairweather-longbottom@northern-insurance-leeds.example")
    assert email.evaluate("el => el.scrollWidth <= el.clientWidth")

    page.get_by_role("button", name="Filters").click()
    page.locator("#list-filters").get_by_label("Lifecycle").select_option("mql")
    page.get_by_role("button", name="Apply filters").click()
    chip = page.get_by_role("group", name="Filters in force").get_by_role(
        "link", name="Lifecycle: Marketing qualified lead"
    )
    chip.wait_for()
    assert page.get_by_test_id("list-total").inner_text() == "1"
    assert page.get_by_role("link", name="Other").count() == 0
    chip.click()
    page.get_by_role("link", name="Other").wait_for()
    assert page.get_by_test_id("list-total").inner_text() == "2"
    assert page.get_by_role("group", name="Filters in force").count() == 0


def test_contacts_on_a_phone_are_cards_near_the_top(page, signed_in, owner):
    services.create_contact(
        owner.tenant,
        Actor(user=owner.user),
        {
            "first_name": "Card",
            "last_name": "Person",
            "email": "card.person@example.test",
            "lifecycle_stage": "customer",
        },
    )
    signed_in(page, owner.user)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/crm/")
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    assert not page.locator("table.crm-table thead").is_visible()
    row = page.locator("table.crm-table tbody tr").first
    box = row.bounding_box()
    assert box["y"] < 844 * 0.75  # the first record is on the first screen
    assert box["width"] <= 390
    text = row.inner_text()
    assert text.startswith("Card Person\ncard.person@example.test") and "Customer" in text
    stage = row.locator('td[data-label="Lifecycle"]')
    assert stage.evaluate("el => getComputedStyle(el, '::before').content") == '"Lifecycle: "'


def test_change_a_contacts_lifecycle_in_place_by_keyboard(page, signed_in, owner):
    contact = services.create_contact(
        owner.tenant, Actor(user=owner.user), {"first_name": "Inline", "last_name": "Edit", "lifecycle_stage": "lead"}
    )
    signed_in(page, owner.user)
    page.goto("/crm/")
    button = page.get_by_role("button", name="Lead (change lifecycle of Inline Edit)")
    button.focus()
    page.keyboard.press("Enter")
    editor = page.get_by_label("Lifecycle of Inline Edit")
    editor.wait_for()
    assert editor.evaluate("el => el === document.activeElement")
    editor.select_option("customer")
    # htmx wires up the swapped-in buttons once the swap settles (20 ms)
    page.wait_for_function("!document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')")
    page.get_by_role("button", name="Save", exact=True).click()
    changed = page.get_by_role("button", name="Customer (change lifecycle of Inline Edit)")
    changed.wait_for()
    assert changed.evaluate("el => el === document.activeElement")
    assert Contact.objects.get(pk=contact.pk).lifecycle_stage == "customer"
