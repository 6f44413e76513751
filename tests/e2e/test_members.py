import pytest

from tests.conftest import make_member, make_org

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_admin_changes_a_role_then_removes_the_member(page, signed_in):
    org = make_org("Acme Support")
    admin = make_member(org, "admin")
    agent = make_member(org, "agent", email="ana@example.test")
    signed_in(page, admin.user)
    page.goto("/settings/members/")

    page.get_by_label("Role of ana@example.test", exact=True).select_option(label="Manager")
    page.get_by_role("button", name="Change role of ana@example.test").click()
    page.get_by_role("status").filter(has_text="ana@example.test is now Manager").wait_for()
    assert page.get_by_label("Role of ana@example.test", exact=True).input_value() == "manager"

    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Remove ana@example.test").click()
    page.get_by_role("status").filter(has_text="ana@example.test was removed").wait_for()
    assert page.get_by_role("table").get_by_text(agent.user.email).count() == 0


def test_dismissing_the_confirmation_keeps_the_member(page, signed_in):
    org = make_org("Acme Support")
    admin = make_member(org, "admin")
    make_member(org, "agent", email="ana@example.test")
    signed_in(page, admin.user)
    page.goto("/settings/members/")
    page.on("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Remove ana@example.test").click()
    page.get_by_role("heading", name="Members & roles").wait_for()
    assert page.get_by_role("status").filter(has_text="removed").count() == 0  # no confirmation flash
    assert page.get_by_role("button", name="Remove ana@example.test").is_visible()
