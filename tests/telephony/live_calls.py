"""Calls ringing for members, as the webhooks will make them: the call opened, its ringing members set,
and ``live.call_changed`` told (directly: tests have no commit to wait for)."""

from __future__ import annotations

import uuid

from octopushx.telephony import calllog, live
from octopushx.telephony.models import CallState, PhoneCall


def ring(tenant, *users, caller: str = "+447911123456", to: str = "+442079460000") -> PhoneCall:
    phone_call, _ = calllog.open_call(
        tenant, provider="twilio", provider_call_id=f"CA{uuid.uuid4().hex}", direction="inbound",
        from_number=caller, to_number=to, state=CallState.RINGING,
    )  # fmt: skip
    phone_call.ringing_users = [str(u.pk) for u in users]
    phone_call.save(update_fields=["ringing_users"])
    live.call_changed(phone_call)
    return phone_call


def answer(phone_call: PhoneCall, user) -> PhoneCall:
    phone_call.agent, phone_call.state, phone_call.ringing_users = user, CallState.IN_PROGRESS, []
    phone_call.save(update_fields=["agent", "state", "ringing_users"])
    live.call_changed(phone_call)
    return phone_call


def hang_up(phone_call: PhoneCall) -> PhoneCall:
    phone_call.state = CallState.COMPLETED
    phone_call.save(update_fields=["state"])
    live.call_changed(phone_call)
    return phone_call
