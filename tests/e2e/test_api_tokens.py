import pytest

from tests.conftest import make_member, make_org
from tests.e2e.conftest import api_get

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_token_is_shown_once_works_on_the_api_and_stops_when_revoked(page, live_server, signed_in):
    membership = make_member(make_org("Acme Support"), "manager")
    signed_in(page, membership.user)
    page.get_by_role("navigation", name="Products").get_by_role("link", name="Settings").click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="API tokens").click()
    page.get_by_label("Name").fill("Phone system")
    page.get_by_role("button", name="Create token").click()
    secret = page.get_by_test_id("new-token").inner_text().strip()
    assert secret.startswith("opx_")

    status, body = api_get(live_server.url, "/api/v1/me", secret)
    assert status == 200
    assert body["tenant"]["name"] == "Acme Support"
    assert body["role"] == "manager"
    assert body["token"] == "Phone system"

    page.goto("/accounts/tokens/")
    assert page.get_by_test_id("new-token").count() == 0
    assert secret not in page.content()

    page.on("dialog", lambda dialog: dialog.accept())
    row = page.get_by_role("row").filter(has_text="Phone system")
    row.get_by_role("button", name="Revoke").click()
    page.get_by_role("status").filter(has_text="revoked").wait_for()
    assert "revoked" in row.inner_text()
    status, _body = api_get(live_server.url, "/api/v1/me", secret)
    assert status == 401


def test_token_without_a_name_shows_the_error_next_to_the_field(page, signed_in):
    membership = make_member(make_org("Acme Support"), "agent")
    signed_in(page, membership.user)
    page.goto("/accounts/tokens/")
    page.get_by_role("button", name="Create token").click()
    name = page.get_by_label("Name")
    assert name.get_attribute("aria-invalid") == "true"
    error = page.locator("#" + name.get_attribute("aria-describedby").split()[-1])
    assert "required" in error.inner_text()
    assert page.get_by_text("No tokens yet.").is_visible()
