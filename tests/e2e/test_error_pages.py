import pytest

from tests.conftest import make_member, make_org

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_unknown_address_shows_a_page_inside_the_shell(page, signed_in):
    membership = make_member(make_org("Acme Support"), "agent")
    signed_in(page, membership.user)
    response = page.goto("/no-such-page/")
    assert response.status == 404
    page.get_by_role("heading", name="We could not find that page").wait_for()
    assert page.get_by_role("navigation", name="Products").is_visible()
    page.get_by_role("link", name="Go to the start page").click()
    page.get_by_role("heading", name="Welcome").wait_for()


def test_page_the_role_may_not_open_explains_why(page, signed_in):
    membership = make_member(make_org("Acme Support"), "agent")
    signed_in(page, membership.user)
    response = page.goto("/settings/jobs/")
    assert response.status == 403
    page.get_by_role("heading", name="You cannot do that here").wait_for()
    assert "Acme Support" in page.get_by_role("main").inner_text()


def test_form_sent_after_its_cookie_is_gone_explains_it_expired(page):
    page.goto("/accounts/login/")
    page.context.clear_cookies()
    page.get_by_label("Email").fill("someone@example.test")
    page.get_by_label("Password").fill("whatever-it-is")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="That form has expired").wait_for()


def test_server_error_page_renders_without_any_context():
    from django.template.loader import render_to_string

    html = render_to_string("500.html")
    assert "Something went wrong on our side" in html
    assert "/static/octopushx/app.css" in html
