"""The caller card: who is calling as the member may see it; on every page while the call is live."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from octopushx.calls.models import Call, CallOutcome, CallStatus
from octopushx.core.context import Actor
from octopushx.crm import services as crm
from octopushx.crm.models import Contact, Visibility
from octopushx.crm.visibility import crm_settings
from octopushx.tenancy.models import Organization
from octopushx.tenancy.roles import Role
from tests.conftest import make_member
from tests.telephony.live_calls import answer, hang_up, ring

SYSTEM = Actor.system("test")
CALLER = "+447911123456"


@pytest.fixture
def ann(org):
    return make_member(org, Role.AGENT, "ann@acme.test")


@pytest.fixture
def dana(org, ann):
    """A contact of Ann's at North Mills with an open deal, an earlier call and an open task."""
    company = crm.create_company(org, SYSTEM, {"name": "North Mills", "owner_id": str(ann.user.pk)})
    contact = crm.create_contact(org, SYSTEM, {
        "first_name": "Dana", "last_name": "Caller", "phone": CALLER, "company_id": str(company.pk),
        "owner_id": str(ann.user.pk),
    })  # fmt: skip
    crm.create_deal(org, SYSTEM, {"name": "Mill renewal", "value": "12500", "owner_id": str(ann.user.pk),
                                  "contact_ids": [str(contact.pk)]})  # fmt: skip
    crm.create_task(org, SYSTEM, {"title": "Send the quote", "contact_id": str(contact.pk),
                                  "assignee_id": str(ann.user.pk)})  # fmt: skip
    Call.objects.create(tenant=org, contact=contact, agent=ann.user, status=CallStatus.ANALYSED,
                        outcome=CallOutcome.MISSED, from_number=CALLER)  # fmt: skip
    return contact


def _card(client, call):
    return client.get(reverse("telephony:caller_card", args=[call.pk]), HTTP_X_CALLER_CARD="1")


def test_a_known_callers_card_shows_the_contact_deals_calls_and_tasks(org, ann, dana, client):
    call = ring(org, ann.user)
    client.force_login(ann.user)
    page = _card(client, call)
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-card-state="ringing"' in html and "Ringing" in html
    assert "Dana Caller" in html and "North Mills" in html and "+44 7911 123456" in html
    assert "Mill renewal" in html and "12,500 GBP" in html
    assert "Missed" in html  # the earlier call's outcome
    assert "Send the quote" in html
    assert reverse("crm:contact", args=[dana.pk]) in html and "Open contact" in html
    assert 'role="status"' not in html  # the slot around the cards is the live region


def test_the_card_opened_as_a_page_leads_home_where_the_live_slot_shows_it(org, ann, dana, client):
    call = ring(org, ann.user)
    client.force_login(ann.user)
    page = client.get(reverse("telephony:caller_card", args=[call.pk]))  # no X-Caller-Card: a person's visit
    assert page.status_code == 302 and page["Location"] == "/"


def test_an_unknown_caller_gets_create_contact_with_the_number(org, ann, client):
    call = ring(org, ann.user, caller="+447700900999")
    client.force_login(ann.user)
    html = _card(client, call).content.decode()
    assert "Unknown caller" in html and "+44 7700 900999" in html
    assert reverse("crm:contact_new") + "?phone=%2B447700900999" in html
    new_contact = client.get(reverse("crm:contact_new") + "?phone=%2B447700900999").content.decode()
    assert 'value="+447700900999"' in new_contact


def test_a_restricted_contact_is_named_without_its_deals_calls_or_tasks(org, ann, dana, client):
    Contact.objects.filter(pk=dana.pk).update(restricted=True)
    call = ring(org, ann.user)
    client.force_login(ann.user)
    html = _card(client, call).content.decode()
    assert "Dana Caller" in html and "restricted" in html
    assert "Mill renewal" not in html and "Send the quote" not in html
    assert "Open contact" in html


def test_a_restricted_contact_the_agent_may_not_see_is_not_named(org, ann, dana, client):
    bob = make_member(org, Role.AGENT, "bob@acme.test")
    Contact.objects.filter(pk=dana.pk).update(restricted=True)
    call = ring(org, bob.user)
    client.force_login(bob.user)
    html = _card(client, call).content.decode()
    assert "A restricted contact" in html
    assert "Dana" not in html and "123456" not in html and "Open contact" not in html


def test_a_colleagues_contact_is_named_but_not_opened(org, ann, dana, client):
    bob = make_member(org, Role.AGENT, "bob@acme.test")
    call = ring(org, bob.user)
    client.force_login(bob.user)
    html = _card(client, call).content.decode()
    assert "Dana Caller" in html and "Open contact" not in html and "Mill renewal" not in html


def test_open_visibility_lets_an_agent_open_a_colleagues_contact(org, ann, dana, client):
    settings_row = crm_settings(org)
    settings_row.agent_visibility = Visibility.ALL
    settings_row.save()
    bob = make_member(org, Role.AGENT, "bob@acme.test")
    call = ring(org, bob.user)
    client.force_login(bob.user)
    assert "Open contact" in _card(client, call).content.decode()


def test_a_call_never_ringing_for_me_is_404(org, ann, client):
    bob = make_member(org, Role.AGENT, "bob@acme.test")
    call = ring(org, ann.user)
    client.force_login(bob.user)
    assert _card(client, call).status_code == 404


def test_another_organisations_call_is_404(org, other_org, ann, client):
    call = ring(other_org, ann.user)  # names Ann, yet belongs to another organisation
    client.force_login(ann.user)
    assert _card(client, call).status_code == 404


def test_the_card_follows_the_call_ringing_answered_ended(org, ann, client):
    bob = make_member(org, Role.AGENT, "bob@acme.test")
    call = ring(org, ann.user, bob.user)
    answer(call, ann.user)
    client.force_login(ann.user)
    assert "On the call" in _card(client, call).content.decode()
    client.force_login(bob.user)
    assert _card(client, call).status_code == 404  # no longer rung, never the agent: the card closes
    hang_up(call)
    client.force_login(ann.user)
    html = _card(client, call).content.decode()
    assert "Call ended" in html and "data-live-close" in html


def test_a_reload_during_the_call_shows_the_card_at_once_and_not_after_the_end(org, ann, dana, client):
    call = ring(org, ann.user)
    client.force_login(ann.user)
    page = client.get(reverse("crm:contacts")).content.decode()
    assert 'id="caller-cards"' in page and f'data-call-id="{call.pk}"' in page and "Dana Caller" in page
    answer(call, ann.user)
    assert 'data-card-state="on_call"' in client.get(reverse("crm:contacts")).content.decode()
    hang_up(call)
    assert f'data-call-id="{call.pk}"' not in client.get(reverse("crm:contacts")).content.decode()


def test_members_who_take_no_calls_get_no_slot_or_switch(org, web_as):
    page = web_as(Role.AUDITOR).get(reverse("crm:contacts")).content.decode()
    assert 'id="caller-cards"' not in page and "presence-menu" not in page and "telephony/live.js" not in page


def test_no_slot_while_a_second_factor_is_to_be_set_up_or_the_organisation_is_suspended(org, ann, client):
    """The stream would be answered with the enrolment or suspension page, which the browser refuses."""
    client.force_login(ann.user)
    Organization.objects.filter(pk=org.pk).update(require_2fa=True)
    enrolment = client.get(reverse("accounts:two_factor") + "?required=1").content.decode()
    assert "caller-cards" not in enrolment and "telephony/live.js" not in enrolment
    Organization.objects.filter(pk=org.pk).update(require_2fa=False, suspended_at=timezone.now())
    suspended = client.get(reverse("crm:contacts"))
    assert suspended.status_code == 403 and "caller-cards" not in suspended.content.decode()
    Organization.objects.filter(pk=org.pk).update(suspended_at=None)
    assert 'id="caller-cards"' in client.get(reverse("crm:contacts")).content.decode()
