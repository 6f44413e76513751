"""The call page of a mono call whose speakers' roles are uncertain, in a real browser: the
warning is visible on a desktop and a phone, the transcript names Speaker 1 and Speaker 2."""

from __future__ import annotations

import pytest

from octopushx.calls.models import Call
from octopushx.core import blobs
from tests.calls.conftest import tone_wav
from tests.calls.factories import analysed_call, unsure_roles
from tests.conftest import make_member, make_org

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("size", [(1440, 900), (390, 844)])
def test_uncertain_roles_are_shown_as_a_warning(new_page, signed_in, size, tmp_path):
    owner = make_member(make_org("Acme Support"), "owner", email="speakers-owner@example.test")
    call = analysed_call(owner.tenant, agent=owner.user, result=unsure_roles())
    audio = blobs.store(owner.tenant, tone_wav(seconds=30), filename="r.wav", content_type="audio/wav")
    Call.objects.filter(pk=call.pk).update(redacted=audio)
    page = new_page(viewport={"width": size[0], "height": size[1]})
    signed_in(page, owner.user)
    page.goto(f"/calls/{call.pk}/")
    warning = page.get_by_test_id("analysis-warning")
    warning.wait_for()
    assert "could not be told apart as agent and customer" in warning.inner_text()
    assert warning.bounding_box()["width"] <= size[0]
    assert page.locator(".transcript .speaker", has_text="Speaker 1").count() >= 1
    assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
    page.screenshot(path=str(tmp_path / f"call-speaker-warning-{size[0]}x{size[1]}.png"), full_page=True)
