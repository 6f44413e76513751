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
    assert page.locator("[data-upload-list] progress").count() == 2
    assert Call.objects.filter(tenant=owner.tenant).count() == 2


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
