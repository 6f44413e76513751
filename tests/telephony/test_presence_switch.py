"""The top bar's presence switch: members who take calls see and change their own status."""

from __future__ import annotations

from django.urls import reverse

from octopushx.core.models import AuditEntry
from octopushx.telephony import services
from octopushx.telephony.models import Presence
from octopushx.tenancy.roles import Role
from tests.conftest import make_member

SWITCH = reverse("telephony:presence")


def test_the_top_bar_shows_an_agent_offline_at_first(org, web_as):
    page = web_as(Role.AGENT).get(reverse("crm:contacts")).content.decode()
    assert 'data-testid="presence"' in page and "presence-offline" in page


def test_choosing_a_status_with_htmx_sets_it_and_answers_the_switch(org, client):
    ann = make_member(org, Role.AGENT, "ann@acme.test")
    client.force_login(ann.user)
    response = client.post(SWITCH, {"status": "available"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith('<details class="presence-menu"') and "presence-available" in html
    assert Presence.objects.get(user=ann.user).status == "available"
    assert AuditEntry.objects.filter(tenant=org, action="presence.changed").count() == 1


def test_without_javascript_the_form_posts_and_returns_to_the_page(org, client):
    ann = make_member(org, Role.AGENT, "ann@acme.test")
    client.force_login(ann.user)
    response = client.post(SWITCH, {"status": "away", "next": "/crm/"})
    assert (response.status_code, response["Location"]) == (302, "/crm/")
    assert Presence.objects.get(user=ann.user).status == "away"
    elsewhere = client.post(SWITCH, {"status": "away", "next": "https://evil.test/"})
    assert elsewhere["Location"] == "/"


def test_an_unknown_status_is_422_and_changes_nothing(org, client):
    ann = make_member(org, Role.AGENT, "ann@acme.test")
    client.force_login(ann.user)
    response = client.post(SWITCH, {"status": "lunch"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422 and "One of" in response.content.decode()
    assert not Presence.objects.exists()


def test_an_auditor_cannot_set_a_presence(org, web_as):
    assert web_as(Role.AUDITOR).post(SWITCH, {"status": "available"}).status_code == 403
    assert not Presence.objects.exists()


def test_on_a_call_the_switch_says_so_and_keeps_the_choice_for_the_hang_up(org, client):
    ann = make_member(org, Role.AGENT, "ann@acme.test")
    client.force_login(ann.user)
    client.post(SWITCH, {"status": "available"})
    services.apply_call_status(org, ann.user, call_ref="CA1", state="in-progress")
    page = client.get(reverse("crm:contacts")).content.decode()
    assert "On a call" in page and "presence-call" in page
    client.post(SWITCH, {"status": "away"})
    assert Presence.objects.get(user=ann.user).status == "busy"
    services.apply_call_status(org, ann.user, call_ref="CA1", state="completed")
    assert Presence.objects.get(user=ann.user).status == "away"


def test_signed_out_posts_go_to_sign_in(client):
    response = client.post(SWITCH, {"status": "available"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
