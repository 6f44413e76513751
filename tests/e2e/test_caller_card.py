"""The caller card in a real browser: a simulated inbound call pops it for the agent it rings (and for no
one else) within a second, it survives a reload during the call, and "Open contact" opens the contact.

``ring(agent)`` is the one place the call is made. Until the provider webhooks land it does what they
will do, in this process, which is also the live server's (pytest-django runs it in a thread, so the
in-process broker reaches its streams; with REDIS_URL, Redis does): open the call, set who it rings and
tell ``live.call_changed``. At merge it becomes a signed fake provider request to the voice webhook.
"""

from __future__ import annotations

import time
import uuid

import pytest
from playwright.sync_api import expect

from octopushx.core.context import Actor
from octopushx.crm import services as crm
from octopushx.telephony import calllog, live
from octopushx.telephony.models import CallState, PhoneCall, Presence
from octopushx.tenancy.roles import Role
from tests.conftest import make_member, make_org

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CALLER = "+447911123456"


def ring(agent, caller: str = CALLER) -> PhoneCall:
    """An inbound call from ``caller`` starts ringing ``agent`` (a membership with a line)."""
    phone_call, _ = calllog.open_call(
        agent.tenant, provider="twilio", provider_call_id=f"CA{uuid.uuid4().hex}", direction="inbound",
        from_number=caller, to_number="+442079460000", state=CallState.RINGING,
    )  # fmt: skip
    phone_call.ringing_users = [str(agent.user_id)]
    phone_call.save(update_fields=["ringing_users"])
    live.call_changed(phone_call)
    return phone_call


@pytest.fixture(autouse=True)
def production_streams(settings):
    """Streams as long as in production (the live server runs in this process and reads these settings)."""
    settings.LIVE_STREAM_SECONDS = 25


@pytest.fixture
def line():
    """Acme's support line: Ann and Bob (agents, both with a phone), and Dana, a known caller of Ann's."""
    org = make_org("Acme Support")
    ann = make_member(org, Role.AGENT, "ann@acme.test")
    bob = make_member(org, Role.AGENT, "bob@acme.test")
    for member, number in ((ann, "+447911000001"), (bob, "+447911000002")):
        Presence.objects.create(tenant=org, user=member.user, status="available", manual_status="available",
                                phone_number=number)  # fmt: skip
    company = crm.create_company(org, Actor.system("test"), {"name": "North Mills", "owner_id": str(ann.user.pk)})
    dana = crm.create_contact(org, Actor.system("test"), {
        "first_name": "Dana", "last_name": "Caller", "phone": CALLER, "company_id": str(company.pk),
        "owner_id": str(ann.user.pk),
    })  # fmt: skip
    return ann, bob, dana


def _listening(member, timeout: float = 10) -> None:
    """Wait until the member's page holds its event stream open on the server."""
    key = live.channel(member.tenant_id, member.user_id)
    deadline = time.monotonic() + timeout
    while live.broker().subscriber_count(key) == 0:
        assert time.monotonic() < deadline, "the page never opened its event stream"
        time.sleep(0.05)


def test_an_inbound_call_pops_the_card_for_the_agent_it_rings_who_opens_the_contact(new_page, signed_in, line):
    ann, bob, dana = line
    ann_page, bob_page = new_page(), new_page()
    signed_in(ann_page, ann.user)
    signed_in(bob_page, bob.user)
    ann_page.goto("/crm/")
    bob_page.goto("/crm/")
    _listening(ann)
    _listening(bob)

    started = time.monotonic()
    ring(ann)
    card = ann_page.get_by_test_id("caller-card")
    expect(card).to_be_visible(timeout=5000)
    popped = time.monotonic() - started
    print(f"caller card popped {popped * 1000:.0f} ms after the ring")
    assert popped < 1.5, f"the card took {popped:.2f} s"
    expect(card).to_contain_text("Dana Caller")
    expect(card).to_contain_text("North Mills")
    expect(card.get_by_test_id("caller-card-state")).to_have_text("Ringing")
    expect(ann_page.locator("#caller-cards")).to_have_attribute("role", "status")
    bob_page.wait_for_timeout(1000)
    expect(bob_page.get_by_test_id("caller-card")).to_have_count(0)  # Bob is not rung

    ann_page.reload()  # during the call: rendered with the page, before any script runs
    expect(ann_page.get_by_test_id("caller-card")).to_contain_text("Dana Caller", timeout=1)

    ann_page.get_by_test_id("caller-card").get_by_role("link", name="Open contact").click()
    expect(ann_page.get_by_role("heading", level=1)).to_contain_text("Dana Caller")
    assert ann_page.url.endswith(f"/crm/contacts/{dana.pk}/")


def test_the_card_follows_the_call_to_its_end_and_closes(new_page, signed_in, line):
    ann, _, _ = line
    page = new_page()
    signed_in(page, ann.user)
    page.goto("/crm/")
    _listening(ann)
    call = ring(ann, caller="+447911999999")
    card = page.get_by_test_id("caller-card")
    expect(card).to_contain_text("Unknown caller +44 7911 999999")
    expect(card.get_by_role("link", name="Create contact")).to_have_attribute(
        "href", "/crm/contacts/new/?phone=%2B447911999999"
    )
    call.agent_id, call.state, call.ringing_users = ann.user_id, CallState.IN_PROGRESS, []
    call.save(update_fields=["agent", "state", "ringing_users"])
    live.call_changed(call)
    expect(card.get_by_test_id("caller-card-state")).to_have_text("On the call")
    call.state = CallState.COMPLETED
    call.save(update_fields=["state"])
    live.call_changed(call)
    expect(card.get_by_test_id("caller-card-state")).to_have_text("Call ended")
    card.get_by_role("button", name="Close the caller card").click()
    expect(page.get_by_test_id("caller-card")).to_have_count(0)
    page.reload()
    expect(page.get_by_test_id("caller-card")).to_have_count(0)


def test_with_no_stream_to_spare_the_page_polls_and_still_shows_the_card(new_page, signed_in, line, settings):
    settings.LIVE_MAX_STREAMS = 0
    live._slots = None
    try:
        ann, _, _ = line
        page = new_page()
        signed_in(page, ann.user)
        with page.expect_response(lambda r: "/telephony/live/state/" in r.url):
            page.goto("/crm/")  # the stream answers 204; the page polls at once, then every few seconds
        ring(ann)
        expect(page.get_by_test_id("caller-card")).to_contain_text("Dana Caller", timeout=10_000)
    finally:
        live._slots = None


def test_on_a_phone_the_card_is_a_bottom_sheet(new_page, signed_in, line):
    ann, _, _ = line
    page = new_page(viewport={"width": 390, "height": 844})
    signed_in(page, ann.user)
    ring(ann)
    page.goto("/crm/")
    box = page.get_by_test_id("caller-card").bounding_box()
    assert box["x"] == 0 and abs(box["width"] - 390) < 1
    assert abs(box["y"] + box["height"] - 844) < 2  # at the bottom edge
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_test_id("caller-card").get_by_role("link", name="Open contact").focus()  # reachable by keyboard


def test_the_top_bar_switch_sets_the_agents_presence(new_page, signed_in, line):
    ann, _, _ = line
    page = new_page()
    signed_in(page, ann.user)
    switch = page.get_by_test_id("presence")
    expect(switch.locator("summary")).to_contain_text("Available")
    switch.locator("summary").click()
    switch.get_by_role("button", name="Away").click()
    expect(page.get_by_test_id("presence").locator("summary")).to_contain_text("Away")
    assert Presence.objects.get(user=ann.user).status == "away"


def test_a_page_with_the_card_and_the_switch_passes_the_page_checks(new_page, live_server, browser_log, line):
    from tests.e2e.pagewalk import check_page, sign_in, with_axe

    ann, _, _ = line
    ring(ann)
    page = with_axe(new_page())
    sign_in(page, live_server.url, ann)
    page.goto("/crm/")
    page.get_by_test_id("caller-card").wait_for()
    assert check_page(page, "/crm/", "contacts with a caller card", browser_log) == []
