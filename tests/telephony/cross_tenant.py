"""Factories for telephony's path parameters, used by tests/test_cross_tenant.py."""

from __future__ import annotations

import io
import uuid

from octopushx.core.context import Actor
from octopushx.telephony import calllog, services


def _flow(tenant, user):
    definition = {
        "name": f"Cross-tenant line {uuid.uuid4().hex[:6]}",
        "start": "bye",
        "blocks": [{"id": "bye", "type": "hangup", "say": "Goodbye"}],
    }
    row, _warnings = services.create_flow(tenant, Actor.system("test"), definition)
    return row.pk


def _account(tenant, user):
    from octopushx.telephony.models import ProviderAccount

    return ProviderAccount.objects.get_or_create(tenant=tenant, provider="twilio", defaults={"account_id": "AC" + "9" * 32})[0].pk  # fmt: skip


def _number(tenant, user):
    from octopushx.telephony.models import PhoneNumber, ProviderAccount

    account = ProviderAccount.objects.get(pk=_account(tenant, user))
    number = f"+4420794{uuid.uuid4().int % 10**5:05d}"
    return PhoneNumber.objects.create(tenant=tenant, account=account, provider="twilio", number=number).pk


def _phone_call(tenant, user):
    """A call ringing tenant B's member (the caller card's id)."""
    phone_call, _ = calllog.open_call(
        tenant, provider="twilio", provider_call_id=f"CA{uuid.uuid4().hex}", direction="inbound",
        from_number="+447911123456", to_number="+442079460000", state="ringing",
    )  # fmt: skip
    phone_call.ringing_users = [str(user.pk)]
    phone_call.save(update_fields=["ringing_users"])
    return phone_call.pk


def _recording(tenant, user):
    from octopushx.telephony import prompts
    from tests.calls.conftest import tone_wav

    name = f"Greeting {uuid.uuid4().hex[:6]}"
    return prompts.upload(tenant, Actor.system("test"), name=name, source=io.BytesIO(tone_wav(seconds=0.5))).pk


FACTORIES = {
    "flow_id": _flow, "account_id": _account, "number_id": _number, "phone_call_id": _phone_call,
    "prompt_id": _recording, "recording_id": _recording,
}  # fmt: skip
