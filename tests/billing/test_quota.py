"""The transcription quota: over the included minutes with no overage, calls wait visibly and resume."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from octopushx.billing import clock, ledger, services
from octopushx.calls import services as calls
from octopushx.calls.models import Call, CallAnalysisResult, CallStatus
from octopushx.core import entitlements, jobs
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry
from octopushx.tenancy.models import Membership
from tests.billing.conftest import DAY_ONE
from tests.calls.conftest import tone_wav
from tests.conftest import ApiClient, make_member

SYSTEM = Actor.system("test")
AFTER_TRIAL = DAY_ONE + timedelta(days=15)


def _upload(tenant) -> Call:
    uploader = Membership.objects.filter(tenant=tenant, user__email="uploader@example.test").first()
    client = ApiClient(uploader or make_member(tenant, "agent", email="uploader@example.test"))
    upload = SimpleUploadedFile("call.wav", tone_wav(), content_type="audio/wav")
    response = client.post("/api/v1/calls", {"file": upload}, multipart=True)
    assert response.status_code == 201, response.content
    return Call.objects.get(pk=response.json()["id"])


def _use(tenant, minutes: str, key: str = "earlier") -> None:
    at = datetime.combine(clock.today(), time(9), tzinfo=clock.now().tzinfo)
    assert ledger.record(tenant, "transcription_minutes", key, Decimal(minutes), at)


@pytest.fixture
def on_starter(customer):
    """After the trial, on Starter: 100 minutes for each of its 3 seats, no overage."""
    with clock.frozen(AFTER_TRIAL):
        services.change_subscription(customer, SYSTEM, plan="starter", seats=3)
        yield customer


def _process_one(call: Call) -> Call:
    jobs.drain()
    call.refresh_from_db()
    return call


def test_a_call_over_the_included_minutes_waits_and_says_how_to_get_more(on_starter):
    _use(on_starter, "299.99")
    call = _process_one(_upload(on_starter))
    assert call.status == CallStatus.OVER_QUOTA
    assert call.skip_reason.startswith(
        "Over quota: 299.99 of the 300 transcription minutes your Starter plan includes until 15 April"
    )
    assert "Add a minutes pack or upgrade under Settings → Billing" in call.skip_reason
    assert not CallAnalysisResult.objects.filter(call=call).exists()
    assert call.recording is not None  # nothing is lost
    assert AuditEntry.objects.filter(tenant=on_starter, action="call.over_quota", object_id=str(call.pk)).exists()
    body = ApiClient(Membership.objects.get(tenant=on_starter, user__email="uploader@example.test")).get(
        f"/api/v1/calls/{call.pk}"
    )
    assert body.json()["status"] == "over_quota" and body.json()["skip_reason"] == call.skip_reason


def test_a_minutes_pack_lets_the_waiting_call_through(on_starter):
    _use(on_starter, "300")
    call = _process_one(_upload(on_starter))
    assert call.status == CallStatus.OVER_QUOTA
    assert calls.release_over_quota() == 0  # still no minutes: it keeps waiting
    services.change_subscription(on_starter, SYSTEM, addons=[{"slug": "minutes_1000", "quantity": 1}])
    assert calls.release_over_quota() == 1
    call.refresh_from_db()
    assert call.status == CallStatus.QUEUED and call.skip_reason == ""
    call = _process_one(call)
    assert call.status == CallStatus.ANALYSED, call.failure_reason


def test_waiting_calls_go_through_oldest_first_as_far_as_the_minutes_allow(on_starter):
    _use(on_starter, "300")
    first, second = _upload(on_starter), _upload(on_starter)
    jobs.drain()
    Call.objects.filter(pk=first.pk).update(duration=60)  # a minute each
    Call.objects.filter(pk=second.pk).update(duration=60)
    ledger.record(on_starter, "transcription_minutes", "refund", Decimal("-1.5"), clock.now())  # 1.5 minutes free
    assert calls.release_over_quota() == 1
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.status, second.status) == (CallStatus.QUEUED, CallStatus.OVER_QUOTA)


def test_a_plan_with_overage_bills_instead_of_holding(customer):
    with clock.frozen(AFTER_TRIAL):
        services.change_subscription(customer, SYSTEM, plan="team", seats=1)
        _use(customer, "600")
        assert entitlements.usage_refusal(customer, "transcription_minutes", 10) is None


def test_the_trial_keeps_to_its_plans_minutes(customer):
    _use(customer, "500")  # Team: 500 minutes for one seat
    refusal = entitlements.usage_refusal(customer, "transcription_minutes", 1)
    assert refusal and "your trial includes" in refusal


def test_reprocessing_a_measured_call_is_never_held(on_starter):
    _use(on_starter, "300", key="measured-call")
    assert entitlements.usage_refusal(on_starter, "transcription_minutes", 5, key="measured-call") is None
    assert entitlements.usage_refusal(on_starter, "transcription_minutes", 5, key="new-call")


def test_with_billing_off_there_is_no_quota(customer, settings):
    _use(customer, "100000")
    settings.BILLING_ENABLED = False
    assert entitlements.usage_refusal(customer, "transcription_minutes", 10) is None


def test_the_call_page_shows_the_wait_and_the_way_out(on_starter):
    _use(on_starter, "300")
    call = _process_one(_upload(on_starter))
    owner = make_member(on_starter, "owner", email="owner@example.test")
    uploader = Membership.objects.get(tenant=on_starter, user__email="uploader@example.test")  # an agent
    for membership, button in ((owner, True), (uploader, False)):
        browser = Client()
        browser.force_login(membership.user)
        page = browser.get(f"/calls/{call.pk}/").content.decode()
        assert "Waiting for transcription minutes" in page and "Over quota" in page
        assert ('href="/settings/billing/"' in page) is button
        assert ("An owner or admin of your organisation can do this." in page) is not button
