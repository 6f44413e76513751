"""Sharing a call summary in a real browser: a draft is refused until the confirmation box is
ticked, then the download and the email carry the "unreviewed AI output" label."""

from __future__ import annotations

from pathlib import Path

import pytest

from octopushx.core.models import AuditEntry
from tests.calls.factories import analysed_call
from tests.conftest import make_member, make_org

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LABEL = "Unreviewed AI output — not checked by a person"


def test_sharing_a_draft_summary_needs_the_confirmation_box(page, signed_in, mailoutbox):
    owner = make_member(make_org("Acme Support"), "owner", email="share-owner@example.test")
    call = analysed_call(owner.tenant, agent=owner.user)
    signed_in(page, owner.user)
    page.goto(f"/calls/{call.pk}/")
    page.get_by_role("link", name="Download or email the summary").click()
    page.get_by_role("heading", name="Share the summary").wait_for()
    assert LABEL in page.get_by_test_id("draft-warning").inner_text()

    page.get_by_role("button", name="Download").click()  # box not ticked: the server refuses
    page.locator("#share-confirm-error").get_by_text("Confirm that you want to share it unreviewed").wait_for()
    assert not AuditEntry.objects.filter(tenant=owner.tenant, action="call.exported").exists()

    page.get_by_label("I confirm sharing this unreviewed AI output, labelled as such").check()
    page.get_by_label("Format").select_option("md")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download").click()
    text = Path(download_info.value.path()).read_text()
    assert LABEL in text and "The customer paid a bill." in text
    assert download_info.value.suggested_filename == f"call-summary-{call.pk}-unreviewed.md"

    page.get_by_label("Email address").fill("partner@example.com")
    page.get_by_role("button", name="Send by email").click()
    page.get_by_text("The summary was sent to partner@example.com.").wait_for()
    assert [m.to for m in mailoutbox] == [["partner@example.com"]]
    assert LABEL in mailoutbox[0].body
    assert AuditEntry.objects.filter(tenant=owner.tenant, action="call.exported").count() == 2
