"""The caller card in a real browser: a simulated inbound call pops it for the agent it rings (and for no
one else) within a second, it survives a reload during the call, and "Open contact" opens the contact.

``ring(agent)`` is the one place the call is made: a fake Twilio request, signed with the SDK's own
``RequestValidator``, to the number's voice webhook on the live server; the support line's flow rings the
agent's group, so the platform logs the call and tells the agent's open pages. The live server runs in this
process (pytest-django's thread), so the in-process broker reaches its streams; with REDIS_URL, Redis does.
"""

from __future__ import annotations

import time
import urllib.parse
import urllib.request
import uuid
from datetime import timedelta
from email.utils import format_datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from twilio.request_validator import RequestValidator

from octopushx.calls import services as call_services
from octopushx.core.context import Actor
from octopushx.crm import services as crm
from octopushx.telephony import live
from octopushx.telephony import services as telephony
from octopushx.telephony.models import PhoneCall, PhoneNumber, Presence, ProviderAccount
from octopushx.tenancy.roles import Role
from tests.conftest import make_member, make_org

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CALLER = "+447911123456"


SID, TOKEN = "AC" + "5" * 32, "acme-twilio-token"
LINE = "+441134960000"  # Acme's number
_server: dict = {}


def _twilio(path: str, params: dict) -> None:
    """POST ``params`` to the live server as Twilio does: form-encoded, with its signature."""
    url = _server["url"] + path
    signature = RequestValidator(TOKEN).compute_signature(url, params)
    body = urllib.parse.urlencode(params).encode()
    request = urllib.request.Request(url, body, {"X-Twilio-Signature": signature})
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (our live server)
        assert answer.status == 200, answer.read()


def _params(call_id: str, caller: str, **extra) -> dict:
    return {"AccountSid": SID, "CallSid": call_id, "From": caller, "To": LINE, "Direction": "inbound", **extra}


def ring(agent, caller: str = CALLER) -> PhoneCall:
    """An inbound call from ``caller`` to Acme's number; its flow rings ``agent``'s group."""
    number = PhoneNumber.objects.get(tenant=agent.tenant, number=LINE)
    call_id = f"CA{uuid.uuid4().hex}"
    _twilio(f"/hooks/telephony/twilio/incoming/{number.pk}", _params(call_id, caller))
    phone_call = PhoneCall.objects.get(provider_call_id=call_id)
    assert phone_call.ringing_users == [str(agent.user_id)]
    return phone_call


def status(phone_call: PhoneCall, call_status: str, seconds: int, *, leg_to: str = "") -> None:
    """A status callback for the call (or, with ``leg_to``, for the leg that rang that line)."""
    extra = {"CallStatus": call_status, "Timestamp": format_datetime(timezone.now() + timedelta(seconds=seconds)),
             "SequenceNumber": str(seconds)}  # fmt: skip
    params = _params(phone_call.provider_call_id, phone_call.from_number, **extra)
    if leg_to:
        params |= {"CallSid": f"{phone_call.provider_call_id}-leg", "ParentCallSid": phone_call.provider_call_id,
                   "To": leg_to}  # fmt: skip
    account = ProviderAccount.objects.get(tenant=phone_call.tenant, provider="twilio")
    _twilio(f"/hooks/telephony/twilio/status/{account.pk}", params)


@pytest.fixture(autouse=True)
def _live_server_url(live_server):
    _server["url"] = live_server.url


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
    # Twilio connected; Acme's number runs a flow whose ring group is Ann alone (Bob is never rung).
    call_services.update_settings(org, Actor.system("test"), {"twilio_account_sid": SID, "twilio_auth_token": TOKEN})
    flow, _ = telephony.create_flow(org, Actor.system("test"), {
        "name": "Ann's line", "timezone": "Europe/London", "start": "ann", "recording": {"enabled": False},
        "blocks": [
            {"id": "ann", "type": "ring_group", "members": ["ann@acme.test"], "strategy": "simultaneous",
             "timeout_s": 30, "next": "vm"},
            {"id": "vm", "type": "voicemail", "say": "Please leave a message after the tone."},
        ],
    })  # fmt: skip
    account = ProviderAccount.objects.create(tenant=org, provider="twilio", account_id=SID)
    PhoneNumber.objects.create(tenant=org, account=account, provider="twilio", number=LINE, flow=flow)
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
    status(call, "in-progress", 5, leg_to="+447911000001")  # Ann's leg answered
    expect(card.get_by_test_id("caller-card-state")).to_have_text("On the call")
    status(call, "completed", 60)
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
