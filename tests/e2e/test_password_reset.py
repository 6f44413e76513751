import re

import pytest
from django.core import mail

from octopushx.core import jobs
from tests.conftest import make_member, make_org
from tests.e2e.conftest import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_reset_link_from_the_email_sets_a_new_password_that_signs_in(page, live_server):
    membership = make_member(make_org("Acme Support"), "agent")
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill(membership.user.email)
    page.get_by_role("button", name="Send the link").click()
    page.get_by_role("heading", name="Check your email").wait_for()
    jobs.drain()  # the email goes out from a job
    link = re.search(r"https?://\S+", mail.outbox[0].body).group(0)
    assert link.startswith(live_server.url + "/")  # the address the person is using

    page.goto(link)
    page.get_by_label("New password").fill("a-brand-new-passphrase-4")
    page.get_by_label("Repeat it").fill("a-brand-new-passphrase-4")
    page.get_by_role("button", name="Set password").click()
    page.get_by_role("heading", name="Your password is changed").wait_for()

    sign_in(page, membership.user.email, "a-brand-new-passphrase-4")
    page.get_by_role("heading", name="Welcome").wait_for()
