"""Cloud-telephony call records: how a call ended (outcome) in the API, the list filters, the call page
and the contact's timeline, and the live state while it rings."""

from __future__ import annotations

import pytest

from octopushx.calls.models import Call, CallOutcome, CallStatus
from octopushx.crm.models import Contact
from octopushx.tenancy.roles import Role

pytestmark = pytest.mark.django_db


def _call(org, contact=None, **values) -> Call:
    defaults = {"provider": "twilio", "direction": "inbound", "from_number": "+442079460123", "contact": contact}
    return Call.objects.create(tenant=org, **(defaults | values))


def test_the_api_lists_outcomes_and_filters_on_them(org, api_as):
    missed = _call(org, status=CallStatus.NO_RECORDING, outcome=CallOutcome.MISSED, external_id="CA1")
    live = _call(org, status=CallStatus.LIVE, external_id="CA2")
    client = api_as(Role.ADMIN)
    items = {item["id"]: item for item in client.get("/api/v1/calls").json()["items"]}
    assert items[str(missed.pk)]["outcome"] == "missed"
    assert items[str(live.pk)]["outcome"] is None and items[str(live.pk)]["status"] == "live"
    only = client.get("/api/v1/calls?outcome=missed").json()["items"]
    assert [item["id"] for item in only] == [str(missed.pk)]
    bad = client.get("/api/v1/calls?outcome=lost")
    assert bad.status_code == 422 and "outcome" in bad.json()["errors"]


def test_the_call_list_and_page_say_how_the_call_ended(org, web_as):
    contact = Contact.objects.create(tenant=org, first_name="Dana", last_name="Caller")
    missed = _call(org, contact, status=CallStatus.NO_RECORDING, outcome=CallOutcome.MISSED, external_id="CA1")
    live = _call(org, contact, status=CallStatus.LIVE, external_id="CA2")
    client = web_as(Role.ADMIN)
    listing = client.get("/calls/?outcome=missed").content.decode()
    assert "call-outcome-missed" in listing and "Outcome: Missed" in listing
    assert str(live.pk) not in listing
    page = client.get(f"/calls/{missed.pk}/").content.decode()
    assert 'data-testid="call-no-recording"' in page and "Missed call" in page
    assert "call-status-no_recording" not in page  # the outcome says it; no second badge
    page = client.get(f"/calls/{live.pk}/").content.decode()
    assert 'data-testid="call-live"' in page and "call-status-live" in page
    timeline = client.get(f"/crm/contacts/{contact.pk}/").content.decode()
    assert "Inbound call, missed" in timeline
    assert "Inbound call · Ringing…" in timeline
