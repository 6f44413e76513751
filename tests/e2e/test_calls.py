"""Octopush X in a real browser: uploading several files with progress, and the call page's
player (seek from the transcript, current line highlighted, ?t= to start at a moment)."""

from __future__ import annotations

import pytest

from octopushx.calls.models import Call
from octopushx.core import blobs
from tests.calls.conftest import tone_wav
from tests.calls.factories import analysed_call
from tests.conftest import make_member, make_org

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def owner():
    return make_member(make_org("Acme Support"), "owner", email="calls-owner@example.test")


def test_upload_several_recordings_with_progress(page, signed_in, owner, tmp_path):
    files = []
    for index in range(2):
        path = tmp_path / f"call-{index}.wav"
        path.write_bytes(tone_wav(seconds=1 + index))
        files.append(str(path))
    signed_in(page, owner.user)
    page.goto("/calls/upload/")
    page.get_by_label("Drop WAV, MP3, OGG, FLAC or M4A files here, or choose them").set_input_files(files)
    page.get_by_role("button", name="Upload").click()
    page.get_by_role("link", name="queued for analysis").nth(1).wait_for()
    assert page.locator("[data-upload-list] [role=progressbar]").count() == 2
    assert page.locator("[data-upload-list] .progress-bar.bg-success").count() == 2
    assert Call.objects.filter(tenant=owner.tenant).count() == 2


def test_a_refused_file_shows_a_red_alert_and_a_stopped_red_bar(page, signed_in, owner, tmp_path):
    bad = tmp_path / "notes.wav"
    bad.write_bytes(b"these are meeting notes, not audio" * 20)
    signed_in(page, owner.user)
    page.goto("/calls/upload/")
    page.get_by_label("Drop WAV, MP3, OGG, FLAC or M4A files here, or choose them").set_input_files([str(bad)])
    page.get_by_role("button", name="Upload").click()
    row = page.locator("[data-upload-list] li[data-state=refused]")
    row.wait_for()
    assert row.get_by_role("alert").locator(".alert-title").inner_text() == "Refused"
    assert row.locator(".alert-danger").count() == 1
    bar = row.locator(".progress-bar")
    assert "bg-danger" in bar.get_attribute("class") and "progress-bar-animated" not in bar.get_attribute("class")
    assert page.evaluate("document.querySelector('[data-upload-list] .progress-bar').style.width") != "100%"
    assert not Call.objects.filter(tenant=owner.tenant).exists()


def test_call_page_seeks_from_the_transcript_and_highlights_the_line(page, signed_in, owner):
    call = analysed_call(owner.tenant, agent=owner.user)
    audio = blobs.store(owner.tenant, tone_wav(seconds=30), filename="r.wav", content_type="audio/wav")
    Call.objects.filter(pk=call.pk).update(redacted=audio)
    line = call.lines.order_by("position")[2]
    signed_in(page, owner.user)
    page.goto(f"/calls/{call.pk}/?t=5")
    page.wait_for_function("() => document.querySelector('[data-call-audio]').readyState >= 1")
    # The seek to ?t= happens right after the metadata arrives (or at once if it came first).
    page.wait_for_function("() => Math.abs(document.querySelector('[data-call-audio]').currentTime - 5) < 0.5")
    page.locator(f"#line-{line.position} [data-seek]").click()
    page.locator(f"#line-{line.position}.current").wait_for()
    position = page.evaluate("document.querySelector('[data-call-audio]').currentTime")
    assert line.start - 0.1 <= position < line.start + 3  # it plays on from the line
    assert page.locator(".line.current").count() == 1
