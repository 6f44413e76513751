"""A voicemail reaches the people its block names: a CRM task each (linking the call), and an event.

The platform has no in-app notification inbox, so the follow-up is a CRM task on the caller's contact
assigned to each member the voicemail block notifies (its members and its team), plus a
``voicemail.received`` event that Studio workflows and outbound webhooks can act on. Runs as a job
(``telephony.voicemail``), idempotent: a task is made once per member and call.
"""

from __future__ import annotations

from django.utils import timezone

from octopushx.core import events
from octopushx.core.context import Actor
from octopushx.core.links import record_path
from octopushx.crm.models import Task
from octopushx.telephony import flows
from octopushx.telephony.models import PhoneCall
from octopushx.tenancy.models import Membership

MAX_RECIPIENTS = 25


def _block(phone_call: PhoneCall, block_id: str) -> flows.VoicemailBlock | None:
    if phone_call.flow is None:
        return None
    try:
        flow = flows.parse(phone_call.flow.definition)
    except flows.FlowInvalid:
        return None
    if flow.has(block_id) and isinstance(flow.block(block_id), flows.VoicemailBlock):
        return flow.block(block_id)
    return next((b for b in flow.blocks if isinstance(b, flows.VoicemailBlock)), None)


def recipients(tenant, block: flows.VoicemailBlock) -> list:
    """The members the block notifies: those it lists, then its team's, each once (e-mail order)."""
    memberships = Membership.objects.filter(tenant=tenant).select_related("user", "team").order_by("user__email")
    chosen = []
    for membership in memberships:
        email = membership.user.email.lower()
        in_team = block.notify_team and membership.team_id and membership.team.name == block.notify_team
        if email in block.notify_members or in_team:
            chosen.append(membership.user)
    return chosen[:MAX_RECIPIENTS]


def notify(phone_call: PhoneCall, block_id: str) -> list[Task]:
    """Tasks for the voicemail block's members (once each), and the ``voicemail.received`` event."""
    from octopushx.crm import services as crm

    tenant = phone_call.tenant
    block = _block(phone_call, block_id)
    if block is None or phone_call.call_id is None:
        return []
    people = recipients(tenant, block)
    caller = phone_call.from_number or "an unknown number"
    if phone_call.contact_id:
        contact = phone_call.contact
        caller = f"{contact.first_name} {contact.last_name}".strip() or caller
    link = record_path("calls:detail", phone_call.call_id)
    marker = f"[call {phone_call.call_id}]"
    when = timezone.localtime(phone_call.started_at or phone_call.created_at)
    made: list[Task] = []
    if block.create_task:
        for user in people:
            if Task.objects.for_tenant(tenant).filter(assignee=user, description__contains=marker).exists():
                continue
            data = {
                "title": f"Voicemail from {caller}"[:200],
                "description": f"{caller} left a voicemail on {when:%d %b %Y at %H:%M}. "
                f"Listen and read the transcript: {link}\n{marker}",
                "assignee_id": str(user.pk),
                "due_at": timezone.now() + timezone.timedelta(days=1),
            }
            if phone_call.contact_id:
                data["contact_id"] = str(phone_call.contact_id)
            made.append(crm.create_task(tenant, Actor.system("telephony"), data))
    events.emit(tenant, "voicemail.received", {
        "phone_call_id": str(phone_call.pk), "call_id": str(phone_call.call_id),
        "contact_id": str(phone_call.contact_id) if phone_call.contact_id else None,
        "notify_user_ids": [str(u.pk) for u in people],
    })  # fmt: skip
    return made
