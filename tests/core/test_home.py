"""The home page shows each member what needs them: tasks, calls to review, deals, alerts."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from octopushx.core.context import Actor
from octopushx.crm import services as crm
from octopushx.shield.monitoring.services import raise_alert
from tests.calls.factories import analysed_call
from tests.conftest import make_member


def _sign_in(client, membership):
    client.force_login(membership.user)
    return client


def _task(membership, title, due):
    actor = Actor(user=membership.user, role=membership.role)
    return crm.create_task(membership.tenant, actor, {"title": title, "due_at": due.isoformat()})


def test_home_lists_my_overdue_tasks_and_not_a_colleagues(org, client):
    me, colleague = make_member(org, "agent"), make_member(org, "agent", "colleague@example.test")
    _task(me, "Call the plumber back", timezone.now() - timedelta(days=2))
    _task(colleague, "Colleague's secret errand", timezone.now() + timedelta(hours=1))
    page = _sign_in(client, me).get("/").content.decode()
    assert "Call the plumber back" in page and "1 overdue" in page
    assert "Colleague" not in page


def test_home_counts_calls_awaiting_review_the_member_may_see(org, client):
    me = make_member(org, "agent")
    analysed_call(org, agent=me.user)
    analysed_call(org, agent=make_member(org, "agent", "other@example.test").user)
    page = _sign_in(client, me).get("/").content.decode()
    assert "1 awaiting review" in page


def test_home_shows_my_deals_closing_soon_with_their_total(org, client):
    me = make_member(org, "manager")
    soon = (timezone.localdate() + timedelta(days=5)).isoformat()
    later = (timezone.localdate() + timedelta(days=90)).isoformat()
    crm.create_deal(
        org,
        Actor.system("test"),
        {"name": "Renewal soon", "value": "1200", "owner_id": str(me.user.pk), "expected_close": soon},
    )
    crm.create_deal(
        org,
        Actor.system("test"),
        {"name": "Next year", "value": "5", "owner_id": str(me.user.pk), "expected_close": later},
    )
    page = _sign_in(client, me).get("/").content.decode()
    assert "Renewal soon" in page and "1,200 GBP" in page
    assert "Next year" not in page


def test_security_panel_is_for_auditors_and_admins_only(org, client):
    raise_alert(org, kind="failed_burst", dedupe_key="t1", summary="Twelve failed sign-ins", details={})
    assert "Twelve failed sign-ins" not in _sign_in(client, make_member(org, "agent")).get("/").content.decode()
    page = _sign_in(client, make_member(org, "auditor")).get("/").content.decode()
    assert "Twelve failed sign-ins" in page and "1 open alert" in page
    assert "Privacy requests" in page  # auditors read requests (README: Roles); they do not act on them


def test_home_never_shows_another_tenants_records(org, other_org, client):
    stranger = make_member(other_org, "agent")
    _task(stranger, "Other tenant's task", timezone.now() - timedelta(days=1))
    analysed_call(other_org, agent=stranger.user)
    page = _sign_in(client, make_member(org, "owner")).get("/").content.decode()
    assert "Other tenant" not in page and "awaiting review" not in page


def test_home_badge_count_matches_the_list_it_links_to(org, client):
    me = make_member(org, "agent")
    for number in range(10):
        _task(me, f"Overdue errand {number}", timezone.now() - timedelta(days=number + 1))
    page = _sign_in(client, me).get("/").content.decode()
    assert "10 overdue" in page
    assert page.count("Overdue errand") == 6
    assert "6 of 10 with a due date shown, soonest first" in page
    assert "due=overdue" in page
    listed = client.get("/crm/tasks/?show=open&whose=mine&due=overdue").content.decode()
    # one row per task (each row's Done button also names its task, for screen readers)
    assert listed.count('<span class="fw-medium">Overdue errand') == 10 and "10 overdue" in listed


def test_tasks_page_counts_overdue_across_every_page(org, client):
    me = make_member(org, "agent")
    for number in range(60):
        _task(me, f"Errand {number}", timezone.now() - timedelta(hours=number + 1))
    page = _sign_in(client, me).get("/crm/tasks/").content.decode()
    assert "60 overdue" in page


def test_phone_system_card_only_for_those_who_can_connect_it(org, client):
    for role, shown in (("owner", True), ("admin", True), ("manager", False), ("agent", False), ("auditor", False)):
        page = _sign_in(client, make_member(org, role)).get("/").content.decode()
        assert ("Connect your phone system" in page) is shown, role
        assert ("/calls/settings/" in page) is shown, role


def test_set_up_cards_only_for_owners_and_admins(org, client):
    for role, shown in (("owner", True), ("admin", True), ("manager", False), ("agent", False), ("auditor", False)):
        page = _sign_in(client, make_member(org, role)).get("/").content.decode()
        assert ('data-testid="setup-cards"' in page) is shown, role
        assert ("Invite your team" in page) is shown, role
        assert "Two-factor sign-in" in page  # everyone's own account
