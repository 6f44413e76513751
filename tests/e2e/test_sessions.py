import pytest

from tests.conftest import PASSWORD, make_member, make_org
from tests.e2e.conftest import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_signing_out_another_device_ends_its_session(new_page):
    membership = make_member(make_org("Acme Support"), "agent")
    laptop = new_page(user_agent="Laptop Browser/1.0")
    phone = new_page(user_agent="Phone Browser/2.0")
    for device in (laptop, phone):
        sign_in(device, membership.user.email, PASSWORD)
        device.get_by_role("heading", name="Welcome").wait_for()

    laptop.goto("/accounts/sessions/")
    this_device = laptop.get_by_role("row").filter(has_text="Laptop Browser/1.0")
    assert "This device" in this_device.inner_text()
    phone_row = laptop.get_by_role("row").filter(has_text="Phone Browser/2.0")
    phone_row.get_by_role("button", name="Sign out").click()
    laptop.get_by_role("status").filter(has_text="signed out").wait_for()
    assert laptop.get_by_role("row").filter(has_text="Phone Browser/2.0").count() == 0

    phone.reload()
    phone.get_by_role("heading", name="Sign in").wait_for()
