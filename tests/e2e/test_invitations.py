import pytest
from django.core import mail

from tests.conftest import PASSWORD, make_member, make_org
from tests.e2e.conftest import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_invited_person_accepts_with_a_password_and_lands_in_the_tenant(
    page, new_page, live_server, settings, signed_in
):
    settings.BASE_URL = live_server.url
    admin = make_member(make_org("Acme Support"), "admin")
    signed_in(page, admin.user)
    page.goto("/settings/members/")
    page.get_by_label("Email", exact=True).fill("newcomer@example.test")
    page.get_by_label("Role", exact=True).select_option(label="Manager")
    page.get_by_role("button", name="Send invitation").click()
    page.get_by_role("status").filter(has_text="Invitation sent to newcomer@example.test").wait_for()
    link = page.get_by_test_id("invite-link").inner_text().strip()
    assert [m.to for m in mail.outbox] == [["newcomer@example.test"]]
    assert link in mail.outbox[0].body

    guest = new_page()
    guest.goto(link)
    guest.get_by_role("heading", name="Join Acme Support").wait_for()
    guest.get_by_label("Your name").fill("Nia Newcomer")
    guest.get_by_label("Choose a password").fill("a-long-new-passphrase-7")
    guest.get_by_role("button", name="Accept invitation").click()
    guest.get_by_role("heading", name="Welcome, Nia Newcomer").wait_for()
    assert "You are working in Acme Support as Manager." in guest.get_by_role("main").inner_text()
    guest.get_by_role("status").filter(has_text="Welcome to Acme Support.").wait_for()


def test_invitation_with_a_too_short_password_explains_and_keeps_the_form(
    page, new_page, live_server, settings, signed_in
):
    settings.BASE_URL = live_server.url
    admin = make_member(make_org("Acme Support"), "admin")
    signed_in(page, admin.user)
    page.goto("/settings/members/")
    page.get_by_label("Email", exact=True).fill("newcomer@example.test")
    page.get_by_role("button", name="Send invitation").click()
    link = page.get_by_test_id("invite-link").inner_text().strip()

    guest = new_page()
    guest.goto(link)
    guest.get_by_label("Choose a password").fill("short")
    guest.get_by_role("button", name="Accept invitation").click()
    assert "too short" in guest.get_by_role("alert").inner_text()
    assert guest.get_by_label("Choose a password").get_attribute("aria-invalid") == "true"
    assert guest.get_by_role("heading", name="Join Acme Support").is_visible()


def test_existing_user_signs_in_from_the_invitation_and_joins_a_second_tenant(
    page, new_page, live_server, settings, signed_in
):
    settings.BASE_URL = live_server.url
    admin = make_member(make_org("Globex Sales"), "admin")
    existing = make_member(make_org("Acme Support"), "agent", email="sam@example.test")
    signed_in(page, admin.user)
    page.goto("/settings/members/")
    page.get_by_label("Email", exact=True).fill("sam@example.test")
    page.get_by_role("button", name="Send invitation").click()
    link = page.get_by_test_id("invite-link").inner_text().strip()

    guest = new_page()
    guest.goto(link)
    guest.get_by_role("link", name="Sign in first").click()
    sign_in(guest, existing.user.email, PASSWORD, keep_next=True)
    guest.get_by_role("heading", name="Join Globex Sales").wait_for()
    guest.get_by_role("button", name="Accept invitation").click()
    guest.get_by_role("status").filter(has_text="Welcome to Globex Sales.").wait_for()
    assert "You are working in Globex Sales as Agent." in guest.get_by_role("main").inner_text()
    assert guest.get_by_role("banner").get_by_label("Organisation").is_visible()
