import pytest

from tests.conftest import PASSWORD, make_member, make_org
from tests.e2e.conftest import sign_in, sign_out

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_sign_in_shows_home_with_tenant_and_role(page):
    membership = make_member(make_org("Acme Support"), "manager")
    sign_in(page, membership.user.email, PASSWORD)
    page.get_by_role("heading", name="Welcome").wait_for()
    assert "Acme Support" in page.content()
    assert page.get_by_text("Manager").first.is_visible()


def test_wrong_password_shows_error_and_stays_signed_out(page):
    membership = make_member(make_org("Acme Support"), "agent")
    sign_in(page, membership.user.email, "not-the-password")
    page.get_by_role("alert").wait_for()
    assert "do not match" in page.get_by_role("alert").inner_text()
    assert "/accounts/login/" in page.url


def test_sign_out_returns_to_sign_in_and_home_needs_sign_in_again(page):
    membership = make_member(make_org("Acme Support"), "agent")
    sign_in(page, membership.user.email, PASSWORD)
    page.get_by_role("heading", name="Welcome").wait_for()
    sign_out(page)
    assert "You are signed out." in page.get_by_role("status").inner_text()
    page.goto("/")
    page.get_by_role("heading", name="Sign in").wait_for()
    assert "/accounts/login/" in page.url


def test_repeated_failures_lock_the_account_even_for_the_right_password(page, settings):
    settings.AXES_FAILURE_LIMIT = 3
    membership = make_member(make_org("Acme Support"), "agent")
    for _ in range(2):
        sign_in(page, membership.user.email, "not-the-password")
        page.get_by_text("do not match").wait_for()
    sign_in(page, membership.user.email, "not-the-password")
    page.get_by_role("heading", name="Too many failed sign-ins").wait_for()
    sign_in(page, membership.user.email, PASSWORD)
    page.get_by_role("heading", name="Too many failed sign-ins").wait_for()
    assert "locked" in page.get_by_role("alert").inner_text()
