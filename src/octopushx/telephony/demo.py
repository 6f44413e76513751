"""Demo call flow: Acme's support line (hours with UK holidays, a menu, ring groups, a queue,
voicemail) and the Support team's presence, so the simulator has someone to ring (loaded once)."""

from __future__ import annotations

from octopushx.core import audit
from octopushx.core.context import Actor
from octopushx.telephony import services
from octopushx.telephony.models import CallFlow
from octopushx.tenancy.models import Membership

SUPPORT_LINE = {
    "name": "Support line",
    "timezone": "Europe/London",
    "start": "hours",
    "recording": {"enabled": True, "disclosure": "Calls to Acme are recorded for quality and training."},
    "blocks": [
        {"id": "hours", "type": "hours", "holidays": "GB", "holiday_subdivision": "ENG", "open": "welcome",
         "closed": "vm", "schedule": {day: ["09:00-17:30"] for day in ("mon", "tue", "wed", "thu", "fri")}},
        {"id": "welcome", "type": "greeting", "say": "Thank you for calling Acme Support.", "next": "menu"},
        {"id": "menu", "type": "menu", "say": "Press 1 for billing, 2 for technical support, or 3 to hold for the "
         "next available agent.", "options": {"1": "billing", "2": "support", "3": "queue"}, "timeout_s": 8,
         "no_input": "support"},
        {"id": "billing", "type": "ring_group", "members": ["owner@acme.test", "admin@acme.test"],
         "strategy": "simultaneous", "timeout_s": 20, "next": "vm"},
        {"id": "support", "type": "ring_group", "team": "Support", "strategy": "longest_idle", "timeout_s": 45,
         "member_timeout_s": 15, "next": "queue"},
        {"id": "queue", "type": "queue", "say": "All our agents are on calls. Please hold.", "team": "Support",
         "hold_music": "https://assets.acme.test/hold-music.mp3", "max_wait_s": 180, "next": "vm"},
        {"id": "vm", "type": "voicemail", "say": "Please leave your name, number and a short message after the tone.",
         "notify_team": "Support"},
    ],
}  # fmt: skip

# Everyone who takes calls is available on a line (Ofcom's drama numbers), so the simulator and the
# compiled documents show real endpoints; the manager is away, to show a ring group skipping someone.
PRESENCE = {
    "owner@acme.test": ("available", "+447700900101"),
    "admin@acme.test": ("available", "+447700900102"),
    "manager@acme.test": ("away", "+447700900103"),
    "agent@acme.test": ("available", "+447700900104"),
    "agent2@acme.test": ("available", "+447700900105"),
}


def load(tenant) -> str:
    if CallFlow.objects.for_tenant(tenant).exists():
        return "Demo call flow: already there."
    actor = Actor.system("demo")
    services.create_flow(tenant, actor, SUPPORT_LINE)
    for membership in Membership.objects.filter(tenant=tenant, user__email__in=PRESENCE).select_related("user"):
        status, line = PRESENCE[membership.user.email]
        presence = services.set_presence(tenant, actor, membership.user, status)
        presence.phone_number = line
        presence.save(update_fields=["phone_number", "updated_at"])
        audit.record(tenant, actor, "presence.line_set", obj=presence, changes={"phone_number": ["", line]})
    return "Demo call flow: the Support line (try its routing simulator), with the members' lines and presence."
