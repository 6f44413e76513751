import base64
from urllib.parse import urlparse

import pytest
from django_otp.oath import totp

from tests.conftest import PASSWORD, make_member, make_org
from tests.e2e.conftest import sign_in, sign_out

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def code_for(secret: str, drift: int = 0) -> str:
    return f"{totp(base64.b32decode(secret), drift=drift):06d}"


def wrong_code_for(secret: str) -> str:
    accepted = {code_for(secret, drift) for drift in (-1, 0, 1, 2)}
    return next(code for code in ("000000", "111111", "222222") if code not in accepted)


def field_error(page, label: str) -> str:
    """The error tied to a field (aria-invalid + aria-describedby), as a screen reader reads it."""
    field = page.get_by_label(label)
    assert field.get_attribute("aria-invalid") == "true"
    assert field.evaluate("el => el === document.activeElement")  # focus starts on the fix
    error_id = field.get_attribute("aria-describedby").split()[-1]
    return page.locator(f"#{error_id}").inner_text()


def test_enrolment_then_sign_in_asks_for_the_code(page, settings):
    # django-otp slows retries after a wrong code (1 s, then doubling); not what this proves.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    membership = make_member(make_org("Acme Support"), "agent")
    sign_in(page, membership.user.email, PASSWORD)
    page.locator(".user-menu summary").click()
    page.get_by_role("link", name="Security & 2FA").click()
    secret = page.get_by_test_id("totp-secret").inner_text().strip()
    page.get_by_label("6-digit code").fill(code_for(secret))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    page.get_by_role("status").filter(has_text="Two-factor sign-in is on").wait_for()

    sign_out(page)
    sign_in(page, membership.user.email, PASSWORD)
    page.get_by_role("heading", name="Enter your code").wait_for()
    page.get_by_label("6-digit code").fill(wrong_code_for(secret))
    page.get_by_role("button", name="Verify").click()
    assert "not right" in field_error(page, "6-digit code")

    # The enrolment used this window's code and codes are single-use: the next window's
    # code is within the accepted drift, so no waiting is needed.
    page.get_by_label("6-digit code").fill(code_for(secret, drift=1))
    page.get_by_role("button", name="Verify").click()
    page.get_by_role("heading", name="Welcome").wait_for()
    assert urlparse(page.url).path == "/"


def test_enrolment_with_a_wrong_code_shows_the_error_next_to_the_field(page):
    membership = make_member(make_org("Acme Support"), "agent")
    sign_in(page, membership.user.email, PASSWORD)
    page.goto("/accounts/security/")
    secret = page.get_by_test_id("totp-secret").inner_text().strip()
    page.get_by_label("6-digit code").fill(wrong_code_for(secret))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    assert "not right" in field_error(page, "6-digit code")
    assert page.get_by_text("Off", exact=True).is_visible()


def test_owner_requires_two_factor_and_members_must_set_it_up_first(page, new_page):
    org = make_org("Acme Support")
    owner = make_member(org, "owner")
    agent = make_member(org, "agent")
    sign_in(page, owner.user.email, PASSWORD)
    page.goto("/settings/")
    page.get_by_label("Require two-factor sign-in for every member").check()
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name="Two-factor sign-in").wait_for()

    member = new_page()
    sign_in(member, agent.user.email, PASSWORD)
    member.get_by_role("heading", name="Two-factor sign-in").wait_for()
    assert "Acme Support requires two-factor sign-in" in member.get_by_role("alert").inner_text()
    member.goto("/settings/members/")
    member.get_by_role("heading", name="Two-factor sign-in").wait_for()

    secret = member.get_by_test_id("totp-secret").inner_text().strip()
    member.get_by_label("6-digit code").fill(code_for(secret))
    member.get_by_role("button", name="Turn on two-factor sign-in").click()
    member.get_by_role("status").filter(has_text="Two-factor sign-in is on").wait_for()
    member.goto("/settings/members/")
    member.get_by_role("heading", name="Members & roles").wait_for()
