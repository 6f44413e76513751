"""An organisation with something in every kind of place: records, a call with its transcript and
recording, an import, legal acceptance, audit entries; a distinctive word planted throughout."""

from __future__ import annotations

from octopushx.calls.models import Call
from octopushx.core import blobs
from octopushx.core.context import Actor
from octopushx.crm import services as crm
from octopushx.tenancy.roles import Role
from tests.calls.conftest import tone_wav
from tests.calls.factories import analysed_call
from tests.conftest import make_member

NEEDLE = "Zyxquorblat"  # appears nowhere else


def planted(org, *, needle: str = NEEDLE) -> dict:
    owner = make_member(org, Role.OWNER)
    actor = Actor(user=owner.user, role=Role.OWNER, ip="192.0.2.7")
    contact = crm.create_contact(org, actor, {"first_name": needle, "last_name": "Harbour", "email": "h@example.test"})
    crm.create_note(org, actor, {"body": f"<p>{needle} called about the kayak</p>", "contact_id": str(contact.pk)})
    call = analysed_call(org, lines=[("agent", "Hello."), ("customer", f"My name is {needle}.")])
    audio = tone_wav(0.1)
    recording = blobs.store(org, audio, filename=f"{needle}.wav", content_type="audio/wav", purpose="call")
    Call.objects.filter(pk=call.pk).update(recording=recording)
    return {"owner": owner, "actor": actor, "contact": contact, "call": call, "recording": recording, "audio": audio}
