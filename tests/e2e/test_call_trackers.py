"""Trackers in a real browser: a manager creates one, past calls are checked in the background,
the call page lists the hit and clicking it plays the recording from that moment."""

from __future__ import annotations

import pytest

from octopushx.calls.models import Call, TrackerHit
from octopushx.core import blobs, jobs
from tests.calls.conftest import tone_wav
from tests.calls.factories import analysed_call
from tests.conftest import make_member, make_org

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LINES = [
    ("agent", "Thank you for calling, how can I help?"),
    ("customer", "Hello, I have a question about my bill this month."),
    ("agent", "Of course, let me look at your account."),
    ("customer", "Globex offered me a much better deal for the same plan."),
]


def test_create_a_tracker_and_play_a_call_from_its_hit(page, signed_in):
    manager = make_member(make_org("Acme Support"), "owner", email="trackers-owner@example.test")
    call = analysed_call(manager.tenant, agent=manager.user, lines=LINES)
    audio = blobs.store(manager.tenant, tone_wav(seconds=30), filename="r.wav", content_type="audio/wav")
    Call.objects.filter(pk=call.pk).update(redacted=audio)
    signed_in(page, manager.user)

    page.goto("/calls/trackers/")
    page.get_by_role("link", name="New tracker").first.click()
    page.get_by_label("Name").fill("Globex")
    page.get_by_label("Words and phrases").fill("globex\nbetter offer")
    page.get_by_label("Said by").select_option("customer")
    page.get_by_role("button", name="Create the tracker").click()
    page.get_by_text("Checking past calls for this tracker").wait_for()

    jobs.drain()  # the background worker's part
    page.get_by_text("Past calls checked").wait_for(timeout=10_000)  # htmx polls the progress
    hit = TrackerHit.objects.get(call=call, tracker__name="Globex")

    page.goto(f"/calls/{call.pk}/")
    panel = page.get_by_test_id("tracker-hits")
    assert "Globex" in panel.inner_text() and "“globex”" in panel.inner_text()
    page.wait_for_function("() => document.querySelector('[data-call-audio]').readyState >= 1")
    panel.get_by_role("button", name="Globex").click()
    page.wait_for_function(
        f"() => Math.abs(document.querySelector('[data-call-audio]').currentTime - {hit.start}) < 1.5"
    )
    page.locator(f"#line-{hit.position}.current").wait_for()
