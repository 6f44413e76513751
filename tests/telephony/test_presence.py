"""Presence: set by the agent, busy while on a call, restored at hang-up, reconciled after a time-out."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry
from octopushx.telephony import services
from octopushx.telephony.models import CALL_PRESENCE_TIMEOUT, Presence
from octopushx.tenancy.roles import Role

PRESENCE = "/api/v1/telephony/presence"
SYSTEM = Actor.system("test")


def test_a_member_starts_offline_and_sets_their_own_presence(org, api_as):
    api = api_as(Role.AGENT)
    assert api.get(PRESENCE).json()["status"] == "offline"
    data = api.put(PRESENCE, {"status": "available"}).json()
    assert (data["status"], data["set_by"]) == ("available", "manual")
    assert Presence.objects.get(user=api.membership.user).status == "available"
    assert AuditEntry.objects.filter(tenant=org, action="presence.changed").count() == 1


def test_an_unknown_status_is_422_and_changes_nothing(org, api_as):
    api = api_as(Role.AGENT)
    response = api.put(PRESENCE, {"status": "lunch"})
    assert response.status_code == 422
    assert "status" in response.json()["errors"]
    assert not Presence.objects.exists()


def test_an_auditor_reads_but_cannot_set_a_presence(org, api_as):
    api = api_as(Role.AUDITOR)
    assert api.get(PRESENCE).status_code == 200
    assert api.put(PRESENCE, {"status": "available"}).status_code == 403


def test_presence_is_per_organisation(org, other_org, api_as):
    api = api_as(Role.AGENT)
    api.put(PRESENCE, {"status": "away"})
    assert services.presence_of(other_org, api.membership.user).status == "offline"


def test_a_call_makes_the_agent_busy_and_hang_up_restores_their_choice(org, api_as):
    api = api_as(Role.AGENT)
    user = api.membership.user
    api.put(PRESENCE, {"status": "available"})
    services.apply_call_status(org, user, call_ref="CA1", state="in-progress")
    assert (api.get(PRESENCE).json()["status"], api.get(PRESENCE).json()["set_by"]) == ("busy", "call")
    # Choosing "away" mid-call is kept for the hang-up; the agent stays busy meanwhile.
    assert api.put(PRESENCE, {"status": "away"}).json()["status"] == "busy"
    services.apply_call_status(org, user, call_ref="CA1", state="completed")
    presence = Presence.objects.get(user=user)
    assert (presence.status, presence.set_by, presence.last_call_ended_at is not None) == ("away", "manual", True)


def test_the_end_of_another_call_does_not_clear_busy(org, api_as):
    user = api_as(Role.AGENT).membership.user
    services.set_presence(org, SYSTEM, user, "available")
    services.apply_call_status(org, user, call_ref="CA2", state="in-progress")
    services.apply_call_status(org, user, call_ref="CA1", state="completed")
    assert Presence.objects.get(user=user).status == "busy"


def test_busy_from_a_lost_hang_up_expires_after_the_timeout(org, api_as):
    user = api_as(Role.AGENT).membership.user
    services.set_presence(org, SYSTEM, user, "available")
    started = timezone.now() - CALL_PRESENCE_TIMEOUT - timedelta(minutes=1)
    services.apply_call_status(org, user, call_ref="CA3", state="in-progress", at=started)
    presence = Presence.objects.get(user=user)
    assert presence.effective_status() == "available"  # routing already ignores the stale call
    assert services.reconcile_presence() == 1
    presence.refresh_from_db()
    assert (presence.status, presence.set_by, presence.call_ref) == ("available", "timeout", "")
    assert services.reconcile_presence() == 0


def test_a_recent_call_is_not_reconciled(org, api_as):
    user = api_as(Role.AGENT).membership.user
    services.apply_call_status(org, user, call_ref="CA4", state="ringing")
    assert services.reconcile_presence() == 0
    assert Presence.objects.get(user=user).status == "busy"
