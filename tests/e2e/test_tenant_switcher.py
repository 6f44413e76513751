import pytest

from tests.conftest import make_member, make_org

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_member_of_two_tenants_switches_with_the_top_bar_select(page, signed_in):
    first = make_member(make_org("Acme Support"), "manager", email="sam@example.test")
    make_member(make_org("Globex Sales"), "auditor", email="sam@example.test")
    signed_in(page, first.user)
    switcher = page.get_by_role("banner").get_by_label("Organisation")
    current = switcher.locator("option:checked").inner_text()

    other = "Globex Sales (Auditor)" if current.startswith("Acme") else "Acme Support (Manager)"
    switcher.select_option(label=other)
    page.get_by_role("status").filter(has_text="You are now working in").wait_for()
    tenant_name, role = other.removesuffix(")").split(" (")
    assert f"You are working in {tenant_name} as {role}." in page.get_by_role("main").inner_text()
    assert switcher.locator("option:checked").inner_text() == other
    assert page.get_by_role("banner").get_by_text(role, exact=True).is_visible()


def test_member_of_one_tenant_sees_its_name_and_no_switcher(page, signed_in):
    membership = make_member(make_org("Acme Support"), "agent")
    signed_in(page, membership.user)
    assert page.get_by_test_id("tenant-name").inner_text() == "Acme Support"
    assert page.get_by_role("banner").get_by_label("Organisation").count() == 0
