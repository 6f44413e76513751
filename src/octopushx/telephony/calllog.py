"""A telephony call's two records: the ``PhoneCall`` (what the provider reported) and its ``calls.Call``.

``open_call`` is the one way a call enters the log, inbound (the provider's first voice webhook) or outbound
(click-to-call): it is idempotent on the provider's call id, so a repeated webhook answers the same call.
The ``calls.Call`` record is created at once with status "live", so the call log and the contact's timeline
show it while it rings; its recording comes later through the existing intake (``attach_recording_url``).
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from octopushx.calls import services as call_services
from octopushx.core import audit, events
from octopushx.core.context import Actor
from octopushx.telephony.models import CallState, PhoneCall


def open_call(
    tenant,
    *,
    provider: str,
    provider_call_id: str,
    direction: str,
    from_number: str,
    to_number: str,
    number=None,
    flow=None,
    agent=None,
    contact=None,
    state: str = CallState.QUEUED,
    at: datetime | None = None,
    actor: Actor | None = None,
    phone_call_id=None,
) -> tuple[PhoneCall, bool]:
    """The call with this provider id, made now if new: ``(phone_call, created)``.

    The contact is matched by the customer's E.164 number unless given; the agent is the member who
    placed an outbound call, or (inbound) set later by whoever answers. ``phone_call_id`` is the new
    row's id when the provider was already given URLs naming it (click-to-call's bridge URL).
    """
    existing = PhoneCall.objects.for_tenant(tenant).filter(provider=provider, provider_call_id=provider_call_id)
    found = existing.select_related("call").first()
    if found is not None:
        return found, False
    at = at or timezone.now()
    data = {
        "external_id": provider_call_id,
        "direction": direction,
        "from_number": from_number,
        "to_number": to_number,
        "started_at": at.isoformat(),
        "agent": agent,
        "contact_id": str(contact.pk) if contact is not None else None,
    }
    try:
        with transaction.atomic():
            call, _ = call_services.log_live_call(tenant, provider, data)
            phone_call = PhoneCall.objects.create(
                **({"pk": phone_call_id} if phone_call_id else {}),
                tenant=tenant,
                provider=provider,
                provider_call_id=provider_call_id,
                direction=call.direction,
                from_number=call.from_number,
                to_number=call.to_number,
                number=number,
                flow=flow,
                flow_revision=flow.revision if flow is not None else None,
                agent=agent or call.agent,
                contact=call.contact,
                call=call,
                state=state,
                state_at=at,
                started_at=at,
            )
            audit.record(tenant, actor or Actor.system(f"{provider} telephony"), "phone_call.started",
                         obj=phone_call, changes={"direction": [None, phone_call.direction],
                                                  "state": [None, state]})  # fmt: skip
            events.emit(tenant, "phone_call.started", {
                "phone_call_id": str(phone_call.pk), "call_id": str(call.pk), "direction": phone_call.direction,
                "contact_id": str(phone_call.contact_id) if phone_call.contact_id else None,
                "agent_id": str(phone_call.agent_id) if phone_call.agent_id else None,
            })  # fmt: skip
    except IntegrityError:
        found = existing.select_related("call").first()
        if found is None:
            raise
        return found, False
    return phone_call, True
