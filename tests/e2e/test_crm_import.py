"""Importing contacts in a real browser: upload, map the columns with problems marked in the
preview, start, watch the progress update in place, then fetch the report of rejected rows."""

import pytest

from octopushx.core import jobs
from octopushx.crm.models import Contact
from tests.conftest import make_member, make_org

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CSV = (
    "Given name,Surname,E-mail,Mobile,Notes to skip\r\n"
    "Ada,Lovelace,ada@example.com,020 7946 0018,first\r\n"
    "Grace,Hopper,not-an-email,020 7946 0019,second\r\n"
    "Alan,Turing,alan@example.com,+44 20 7946 0020,third\r\n"
)


def test_import_maps_previews_runs_and_reports_rejected_rows(page, signed_in):
    owner = make_member(make_org("Acme Support"), "owner", email="importer@example.test")
    signed_in(page, owner.user)
    page.goto("/crm/imports/")
    page.get_by_label("CSV or Excel file").set_input_files(
        {"name": "people.csv", "mimeType": "text/csv", "buffer": CSV.encode("utf-8-sig")}
    )
    page.get_by_role("button", name="Upload and map columns").click()
    page.get_by_role("heading", name="Import people.csv").wait_for()
    assert "3 rows found" in page.content()
    flagged = page.locator('tr[data-row-problem="rejected"]')
    assert flagged.count() == 1 and "not-an-email" in flagged.inner_text()
    assert "Rejected: E-mail" in flagged.locator("td").nth(1).inner_text()  # problems come right after the row
    assert flagged.locator("td.cell-problem").inner_text() == "not-an-email"
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    goes_to = page.get_by_label("E-mail")
    assert goes_to.bounding_box()["width"] >= 180  # readable, not squeezed

    # The headers are mapped by guess; the one nobody can guess is the member's to choose.
    assert page.get_by_label("E-mail").input_value() == "email"
    assert page.get_by_label("Notes to skip").input_value() == ""
    page.get_by_label("Given name").select_option("first_name")
    page.get_by_label("Surname").select_option("last_name")
    page.get_by_label("Mobile").select_option("phone")
    page.get_by_role("button", name="Start the import").click()

    status = page.locator("#import-status")
    status.get_by_text("Queued").wait_for()
    jobs.drain()  # the consumer's turn; the page polls and redraws the status without a reload
    status.get_by_text("Done").wait_for()
    assert "3 of 3 rows" in status.inner_text()
    assert "Created 2" in status.inner_text() and "failed 1" in status.inner_text()
    assert sorted(Contact.objects.filter(tenant=owner.tenant).values_list("first_name", flat=True)) == ["Ada", "Alan"]
    assert Contact.objects.get(first_name="Ada").phones.get().number == "+442079460018"

    with page.expect_download() as download:
        status.get_by_role("link", name="Download the rejected rows (CSV)").click()
    report = open(download.value.path(), encoding="utf-8-sig").read()
    assert "Grace" in report and "email" in report.lower() and "Ada" not in report
