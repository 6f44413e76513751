import pytest

from octopushx.telephony import providers as p
from tests.telephony import fakes as f


def test_smoke(fake_provider):
    tw = p.TwilioCredentials(f.TWILIO_SID, f.TWILIO_TOKEN)
    assert p.twilio_check(tw) == "Acme support"
    assert p.twilio_check(p.TwilioCredentials(f.TWILIO_SID, f.TWILIO_TOKEN, f.TWILIO_KEY_SID, f.TWILIO_KEY_SECRET))
    nums = p.twilio_numbers(tw)
    assert nums[0].number == "+442079460001"
    p.twilio_set_webhooks(tw, nums[0].provider_ref, p.Webhooks("https://x/v", "https://x/s"))
    assert fake_provider.twilio.numbers[f.TWILIO_SID][0]["voice_url"] == "https://x/v"
    sid = p.twilio_call(
        tw, to="+447700900123", from_="+442079460001", answer_url="https://x/b", status_url="https://x/s"
    )
    assert sid.startswith("CA")
    with pytest.raises(p.ProviderError) as e:
        p.twilio_check(p.TwilioCredentials(f.TWILIO_SID, "wrong"))
    assert e.value.refused
    vo = p.VonageCredentials(
        f.VONAGE_APP_ID, f.VONAGE_PRIVATE_KEY, f.VONAGE_SIGNATURE_SECRET, f.VONAGE_API_KEY, f.VONAGE_API_SECRET
    )
    assert p.vonage_check(vo) == "Acme voice"
    vn = p.vonage_numbers(vo)
    assert vn[0].number == "+447700900501"
    p.vonage_set_webhooks(vo, vn[0].provider_ref, p.Webhooks("https://x/a", "https://x/e"))
    app = fake_provider.vonage.applications[f.VONAGE_APP_ID]
    assert app["capabilities"]["voice"]["webhooks"]["answer_url"]["address"] == "https://x/a", app
    assert fake_provider.vonage.numbers[0]["app_id"] == f.VONAGE_APP_ID
    uuid = p.vonage_call(
        vo, to="+447700900123", from_="+447700900501", answer_url="https://x/b", status_url="https://x/e"
    )
    assert uuid
    fake_provider.outage = 503
    with pytest.raises(p.ProviderError) as e:
        p.vonage_check(vo)
    assert not e.value.refused
    with pytest.raises(p.ProviderError) as e:
        p.twilio_check(tw)
    assert not e.value.refused
