"""Octopush Studio in a real browser: a workflow from a template, test-run, enabled, triggered by a
contact created in the CRM, and its run read in the history; the builder's side panel, variable
picker, validation on the step, reordering and saving; the builder on a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from octopushx.crm.models import Task
from octopushx.studio.models import Run, RunStatus, Workflow
from tests.conftest import make_member, make_org
from tests.studio.conftest import run_all

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def owner(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return make_member(make_org("Acme Support"), "owner", email="studio-owner@example.test")


def test_template_to_run_history(page, signed_in, owner):
    signed_in(page, owner.user)
    page.get_by_role("link", name="Studio").click()
    page.get_by_role("link", name="Start from a template").click()
    page.get_by_role("button", name="Use this template for VIP contact welcome").click()

    # The builder: the workflow exists, off, with its secret shown this once.
    page.get_by_role("heading", name="VIP contact welcome").wait_for()
    expect(page.get_by_test_id("workflow-secret")).to_contain_text("whsec_")
    workflow = Workflow.objects.get(tenant=owner.tenant)
    assert not workflow.enabled
    expect(page.locator("[data-node=trigger]")).to_contain_text("Contact created")
    expect(page.locator("[data-validity]")).to_contain_text("No problems")

    # Test run on sample data: each step says what it would do; nothing is created.
    page.get_by_role("button", name="Test run").click()
    panel = page.locator("#test-panel")
    panel.get_by_label("Sample data").check()
    panel.get_by_label("Sample values (JSON)").fill('{"full_name": "Sam Sample", "tags": ["vip"]}')
    panel.get_by_role("button", name="Run the test").click()
    steps = panel.locator("[data-test-steps] > li")
    expect(steps).to_have_count(3)
    expect(steps.first).to_contain_text("Welcome call with Sam Sample")
    assert not Task.objects.filter(tenant=owner.tenant).exists()
    panel.get_by_role("button", name="Close the test run").click()

    # Enable it.
    page.get_by_label("Enabled").check()
    expect(page.locator("[data-toast]").last).to_contain_text("Enabled")
    workflow.refresh_from_db()
    assert workflow.enabled

    # A VIP contact created in the CRM triggers it.
    page.goto("/crm/contacts/new/")
    page.get_by_label("First name").fill("Grace")
    page.get_by_label("Email", exact=True).fill("grace@example.test")
    page.get_by_label("Tags").fill("vip")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name="Grace").wait_for()
    run_all()
    run = Run.objects.get(workflow=workflow)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert Task.objects.filter(tenant=owner.tenant, title="Welcome call with Grace").count() == 1

    # The history shows it; its page shows every step.
    page.goto("/studio/")
    row = page.locator(f"tr[data-workflow='{workflow.pk}']")
    expect(row.locator("td").nth(3)).to_have_text("1")
    page.get_by_role("link", name="Run history").click()
    page.get_by_role("link", name="Succeeded").click()
    history = page.locator(f"tr[data-run='{run.pk}']")
    expect(history).to_contain_text("VIP contact welcome")
    expect(history).to_contain_text("Contact created")
    expect(history.locator(".run-status")).to_have_text("Succeeded")
    history.locator("td").first.get_by_role("link").click()
    page.get_by_role("heading", name=re.compile("Run of VIP contact welcome")).wait_for()
    cards = page.locator(".studio-step-run")
    expect(cards).to_have_count(3)
    expect(cards.first).to_contain_text("Create task")
    cards.first.locator("summary", has_text="Output").click()
    expect(cards.first.locator("pre").last).to_contain_text("task_id")
    page.get_by_role("link", name="Grace", exact=True).click()
    page.get_by_role("heading", name="Grace", exact=True).wait_for()
    expect(page.locator("main")).to_contain_text("Welcome call with Grace")


def test_builder_panel_picker_validation_reorder_and_save(page, signed_in, owner):
    signed_in(page, owner.user)
    page.goto("/studio/new/")
    page.get_by_role("textbox", name="Name").fill("Follow up new contacts")
    page.get_by_role("button", name="Add the first step").click()
    panel = page.locator("#step-panel")
    panel.locator("button.studio-type[data-type=create_task]").click()

    # The variable picker lists what the step may use and inserts it at the cursor.
    title = panel.get_by_role("textbox", name="Title")
    title.fill("Call  today")
    title.evaluate("el => el.setSelectionRange(5, 5)")
    panel.get_by_role("button", name="Insert a variable into Title").click()
    menu = panel.locator(".studio-var-menu")
    expect(menu.locator("[data-path='contact.first_name']")).to_be_visible()
    expect(menu.locator("[data-path^='steps.']")).to_have_count(0)  # no earlier step yet
    menu.get_by_role("searchbox").fill("first")
    menu.locator("[data-path='contact.first_name']").click()
    expect(title).to_have_value("Call {{ contact.first_name }} today")
    panel.get_by_role("button", name="Done").click()

    # A second step sees the first step's output; an unknown variable is marked on its card.
    page.get_by_role("button", name="Add a step at the end").click()
    panel.locator("button.studio-type[data-type=create_note]").click()
    panel.get_by_role("button", name="Insert a variable into Note").click()
    expect(panel.locator(".studio-var-menu [data-path='steps.s1.task_id']")).to_be_visible()
    page.keyboard.press("Escape")
    panel.get_by_role("textbox", name="Note").fill("Task {{ contact.shoe_size }}")
    card = page.locator("[data-node=s2]")
    expect(card).to_have_class(re.compile("has-errors"))
    expect(card).to_contain_text("unknown variable")
    expect(panel.get_by_role("textbox", name="Note")).to_have_attribute("aria-invalid", "true")
    panel.get_by_role("textbox", name="Note").fill("Task {{ steps.s1.task_id }} is open")
    expect(card).not_to_have_class(re.compile("has-errors"))
    panel.get_by_role("button", name="Done").click()

    # Reorder by keyboard through the card's menu.
    page.get_by_role("button", name="Actions for step 2").click()
    page.get_by_role("button", name="Move up").click()
    expect(page.locator(".studio-list[data-list=root] > .studio-item[data-step-id]").first).to_have_attribute(
        "data-step-id", "s2"
    )
    expect(page.locator("[data-node=s2]")).to_have_class(re.compile("has-errors"))  # now before s1: unknown
    page.get_by_role("button", name="Actions for step 1").click()
    page.get_by_role("button", name="Move down").click()
    expect(page.locator("[data-validity]")).to_contain_text("Ready to save")

    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/studio/[0-9a-f-]{36}/$"))
    workflow = Workflow.objects.get(tenant=owner.tenant)
    assert page.url.endswith(f"/studio/{workflow.pk}/")
    expect(page.locator(".flashes")).to_contain_text("saved as version 1")
    assert [s["type"] for s in workflow.definition["steps"]] == ["create_task", "create_note"]

    # A change publishes version 2.
    page.locator("[data-node=s2] .studio-node-main").click()
    panel.get_by_role("textbox", name="Subject").fill("Follow-up")
    panel.get_by_role("button", name="Done").click()
    page.get_by_role("button", name="Save").click()
    expect(page.locator("[data-toast]").last).to_contain_text("Version 2 published")
    workflow.refresh_from_db()
    assert workflow.version == 2


def test_builder_on_a_phone_has_no_sideways_scroll(new_page, signed_in, owner):
    page = new_page(viewport={"width": 390, "height": 844})
    signed_in(page, owner.user)
    page.goto("/studio/templates/")
    page.get_by_role("button", name="Use this template for Deal won → onboarding tasks").click()
    page.locator("[data-node=trigger]").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    page.locator("[data-node=s1] .studio-node-main").click()
    panel = page.locator("#step-panel")
    expect(panel).to_be_visible()
    # Measure once the slide-in has finished: mid-transition the transform gives
    # a box a fraction of a pixel wider than the panel itself.
    page.locator("#step-panel.show:not(.showing)").wait_for()
    page.wait_for_function("() => document.getAnimations().every((a) => a.playState !== 'running')")
    assert panel.bounding_box()["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
