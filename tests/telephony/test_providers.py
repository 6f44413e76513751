"""The providers' SDKs against the local fake: what each operation sends, and how failures read."""

from __future__ import annotations

import pytest

from octopushx.telephony import providers as p
from tests.telephony import fakes as f

TWILIO = p.TwilioCredentials(f.TWILIO_SID, f.TWILIO_TOKEN)
WITH_KEY = p.TwilioCredentials(f.TWILIO_SID, f.TWILIO_TOKEN, f.TWILIO_KEY_SID, f.TWILIO_KEY_SECRET)
VONAGE = p.VonageCredentials(f.VONAGE_APP_ID, f.VONAGE_PRIVATE_KEY, f.VONAGE_SIGNATURE_SECRET, f.VONAGE_API_KEY, f.VONAGE_API_SECRET)  # fmt: skip


def test_twilio_lists_numbers_sets_webhooks_and_places_calls(fake_provider):
    assert p.twilio_check(TWILIO) == "Acme support"
    numbers = p.twilio_numbers(WITH_KEY)
    assert [n.number for n in numbers] == ["+442079460001", "+442079460002"]
    p.twilio_set_webhooks(TWILIO, numbers[0].provider_ref, p.Webhooks("https://x/v", "https://x/s"))
    stored = fake_provider.twilio.numbers[f.TWILIO_SID][0]
    assert (stored["voice_url"], stored["status_callback"]) == ("https://x/v", "https://x/s")
    sid = p.twilio_call(TWILIO, to="+447911123456", from_="+442079460001", answer_url="https://x/b", status_url="https://x/s")  # fmt: skip
    params = fake_provider.twilio.calls[0]["params"]
    assert sid.startswith("CA") and params["StatusCallbackEvent"] in p.TWILIO_STATUS_EVENTS


def test_twilio_refusals_and_outages_read_differently(fake_provider):
    with pytest.raises(p.ProviderError) as refused:
        p.twilio_check(p.TwilioCredentials(f.TWILIO_SID, "wrong"))
    assert refused.value.refused and refused.value.status == 401
    fake_provider.outage = 503
    with pytest.raises(p.ProviderError) as down:
        p.twilio_check(TWILIO)
    assert not down.value.refused and "try again" in down.value.message


def test_a_suspended_twilio_account_is_refused(fake_provider):
    fake_provider.twilio.accounts[f.TWILIO_SID]["status"] = "suspended"
    with pytest.raises(p.ProviderError, match="suspended"):
        p.twilio_check(TWILIO)


def test_vonage_checks_lists_sets_the_application_and_places_calls(fake_provider):
    assert p.vonage_check(VONAGE) == "Acme voice"
    numbers = p.vonage_numbers(VONAGE)
    assert numbers[0].number == "+447700900501" and numbers[0].provider_ref == "447700900501"
    p.vonage_set_webhooks(VONAGE, numbers[0].provider_ref, p.Webhooks("https://x/a", "https://x/e"))
    voice = fake_provider.vonage.applications[f.VONAGE_APP_ID]["capabilities"]["voice"]
    assert voice["webhooks"]["answer_url"] == {"address": "https://x/a", "http_method": "POST"}
    assert voice["signed_callbacks"] is True
    assert fake_provider.vonage.numbers[0]["app_id"] == f.VONAGE_APP_ID
    uuid = p.vonage_call(VONAGE, to="+447911123456", from_="+447700900501", answer_url="https://x/b", status_url="https://x/e")  # fmt: skip
    assert uuid == fake_provider.vonage.calls[0]["uuid"]


def test_vonage_outage_is_not_a_refusal(fake_provider):
    fake_provider.outage = 503
    with pytest.raises(p.ProviderError) as down:
        p.vonage_check(VONAGE)
    assert not down.value.refused


def test_credentials_never_show_their_secrets_in_a_repr():
    assert f.TWILIO_TOKEN not in repr(WITH_KEY) and f.TWILIO_KEY_SECRET not in repr(WITH_KEY)
    assert f.VONAGE_API_SECRET not in repr(VONAGE) and "PRIVATE" not in repr(VONAGE)
