"""A telephony call enters the log once, as a live call record matched to its contact."""

from __future__ import annotations

import pytest

from octopushx.calls.models import Call, CallStatus
from octopushx.core.models import AuditEntry
from octopushx.crm.models import Contact, ContactPhone
from octopushx.telephony import calllog
from octopushx.telephony.models import PhoneCall

pytestmark = pytest.mark.django_db


def test_open_call_logs_a_live_call_matched_to_the_contact_once(line_org):
    contact = Contact.objects.create(tenant=line_org, first_name="Dana", last_name="Caller")
    ContactPhone.objects.create(tenant=line_org, contact=contact, number="+447700900123", is_primary=True)
    first, created = calllog.open_call(
        line_org, provider="twilio", provider_call_id="CA1", direction="inbound",
        from_number="+447700900123", to_number="+442079460000",
    )  # fmt: skip
    again, created_again = calllog.open_call(
        line_org, provider="twilio", provider_call_id="CA1", direction="inbound",
        from_number="+447700900123", to_number="+442079460000",
    )  # fmt: skip
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert first.contact == contact and first.call.contact == contact
    assert first.call.status == CallStatus.LIVE and first.call.external_id == "CA1"
    assert Call.objects.filter(tenant=line_org).count() == 1 and PhoneCall.objects.count() == 1
    assert AuditEntry.objects.filter(tenant=line_org, action="phone_call.started").count() == 1


def test_an_unknown_number_opens_a_call_without_a_contact(line_org):
    phone_call, _ = calllog.open_call(
        line_org, provider="vonage", provider_call_id="uuid-1", direction="inbound",
        from_number="+447700900999", to_number="+442079460000",
    )  # fmt: skip
    assert phone_call.contact is None and phone_call.call.contact is None
