"""The call flow block editor in a real browser: an admin builds a two-block flow (menu → voicemail)
from the new-flow page, saves it, and the simulator shows the path; the editor and the line limits
page and the recordings page are clean at desk and phone size (labels, design-system controls, axe, no sideways scroll)."""

from __future__ import annotations

import io
import os
import re

import pytest
from playwright.sync_api import expect

from octopushx.core.context import Actor
from octopushx.telephony import prompts
from octopushx.telephony.models import CallFlow, LineLimits
from octopushx.tenancy.roles import Role
from tests.calls.conftest import tone_wav
from tests.conftest import make_member, make_org
from tests.e2e.pagewalk import check_page, with_axe

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("OCTOPUSHX_SHOTS")  # a folder: save screenshots of the editor there


def _shoot(page, name: str) -> None:
    if not SHOTS:
        return
    for width, height in ((1440, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=os.path.join(SHOTS, f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})


def _block(page, block_id: str):
    return page.locator(f"#flow-editor [data-block='{block_id}']")


def test_an_admin_builds_a_menu_to_voicemail_flow_and_simulates_it(page, signed_in):
    org = make_org("Acme Support")
    admin = make_member(org, Role.ADMIN, email="admin@acme.test")
    signed_in(page, admin.user)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto("/telephony/flows/new/")
    for block_id in ("hours", "welcome", "team"):
        page.get_by_role("button", name=f"Remove {block_id}", exact=True).click()
        _block(page, block_id).wait_for(state="detached")
    page.get_by_label("Add a block").select_option("menu")
    page.get_by_role("button", name="Add block").click()
    menu = _block(page, "menu")
    menu.wait_for()
    page.get_by_role("button", name="Start here: menu").click()
    menu.locator(".badge", has_text="Start").wait_for()
    menu.get_by_label("Says", exact=True).fill("Press 1 to leave a message.")
    menu.get_by_label("Key 1", exact=True).select_option("1")
    menu.get_by_label("Key 1 goes to", exact=True).select_option("voicemail")
    menu.get_by_label("No valid key, go to").select_option("voicemail")
    page.get_by_label("Name", exact=True).fill("Two-step line")
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_test_id("editor-summary")).to_contain_text("Every block is reachable")  # else: what it says
    _shoot(page, "editor-new")
    page.get_by_role("button", name="Create flow").click()
    page.wait_for_url(re.compile(r"/telephony/flows/[0-9a-f-]{36}/$"))
    row = CallFlow.objects.get(tenant=org)
    assert row.name == "Two-step line" and row.definition["start"] == "menu"
    assert [b["id"] for b in row.definition["blocks"]] == ["voicemail", "menu"]
    page.get_by_label("Keys pressed").fill("1")
    page.get_by_role("button", name="Simulate").click()
    steps = page.get_by_test_id("simulation-steps")
    steps.wait_for()
    assert re.search(r"Path:\s*menu\s*→\s*voicemail", page.locator("#flow-simulation").inner_text())
    _shoot(page, "editor-saved")


def test_a_broken_save_shows_the_error_on_the_block_and_saves_nothing(page, signed_in):
    org = make_org("Acme Support")
    admin = make_member(org, Role.ADMIN, email="admin@acme.test")
    signed_in(page, admin.user)
    page.goto("/telephony/flows/new/")
    team = _block(page, "team")
    team.get_by_label("admin@acme.test").uncheck()
    page.get_by_role("button", name="Create flow").click()
    team.get_by_text("The ring group has no members and no team").wait_for()
    assert page.url.endswith("/telephony/flows/new/")
    assert not CallFlow.objects.filter(tenant=org).exists()
    _shoot(page, "editor-error")


def test_the_editor_and_the_limits_page_are_clean_at_desk_and_phone_size(page, signed_in, live_server, browser_log):
    org = make_org("Acme Support")
    owner = make_member(org, Role.OWNER, email="owner@acme.test")
    LineLimits.objects.create(tenant=org, max_concurrent_calls=5, monthly_minutes=2000)
    prompts.upload(org, Actor.system("test"), name="Welcome, office hours", source=io.BytesIO(tone_wav()))
    signed_in(page, owner.user)
    with_axe(page)
    problems = check_page(page, "/telephony/flows/new/", "new flow", browser_log)
    _shoot(page, "editor-new")
    problems += check_page(page, "/telephony/limits/", "line limits", browser_log)
    _shoot(page, "limits")
    problems += check_page(page, "/telephony/recordings/", "recordings", browser_log)
    _shoot(page, "recordings")
    assert not problems, "\n".join(problems)
