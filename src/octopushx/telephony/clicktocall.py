"""Click-to-call and the member's own line.

``place_call`` rings the agent's line (their phone number or SIP URI) through the provider's REST API;
when the agent answers, the provider fetches the bridge URL (``bridge.py``), which dials the customer
with the organisation's number as caller ID and records both channels. Everything is checked before the
provider hears of it (a connected account and a number to call from, the agent's line, a callable
number, a contact the agent may see); a provider failure writes nothing. The call then enters the log
through ``calllog.open_call`` (a live call record on the contact's timeline at once).

The caller ID is the organisation's first number assigned to a call flow (by number), else its first
synced number: the number customers know and call back.
"""

from __future__ import annotations

import re
import uuid

import phonenumbers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from octopushx.core import audit, events
from octopushx.core.context import Actor
from octopushx.crm import fields as crm_fields
from octopushx.crm.models import Contact
from octopushx.crm.visibility import get_visible
from octopushx.telephony import accounts, calllog, limits, providers
from octopushx.telephony.models import AccountStatus, PhoneCall, PhoneNumber, Presence
from octopushx.telephony.services import CALL_TAKERS, presence_of

LINE_PLACE = "Telephony → My phone line"
NOT_CALLABLE = (phonenumbers.PhoneNumberType.PREMIUM_RATE, phonenumbers.PhoneNumberType.SHARED_COST)
SIP_URI = re.compile(r"^sips?:[^@\s:]+@[A-Za-z0-9.-]+(:\d{1,5})?(;[^\s]*)?$")


# --- the member's line ----------------------------------------------------------------------------


def clean_line(tenant, phone_number: str, sip_uri: str) -> tuple[str, str]:
    """``(E.164 or "", SIP URI or "")`` or ``ValidationError`` naming the field."""
    errors: dict[str, list[str]] = {}
    number = (phone_number or "").strip()
    if number:
        try:
            number = crm_fields.clean_phone(number, tenant.default_region)
        except ValueError:
            errors["phone_number"] = ["Not a valid phone number: use the international form, e.g. +447700900123"]
    uri = (sip_uri or "").strip()
    if uri and (len(uri) > 200 or not SIP_URI.match(uri)):
        errors["sip_uri"] = ["A SIP URI looks like sip:alice@example.sip.twilio.com"]
    if errors:
        raise ValidationError(errors)
    return number, uri


def set_line(tenant, actor: Actor, user, membership, *, phone_number: str, sip_uri: str) -> Presence:
    """Where the member's calls ring: a SIP URI wins over a phone number (both may be empty)."""
    if membership is None or membership.role not in CALL_TAKERS:
        raise PermissionDenied("Auditors do not take calls, so they have no phone line")
    number, uri = clean_line(tenant, phone_number, sip_uri)
    with transaction.atomic():
        presence = Presence.objects.for_tenant(tenant).select_for_update().filter(user=user).first()
        presence = presence or Presence(tenant=tenant, user=user)
        before = {"phone_number": presence.phone_number or None, "sip_uri": presence.sip_uri or None}
        presence.phone_number, presence.sip_uri = number, uri
        presence.save()
        after = {"phone_number": number or None, "sip_uri": uri or None}
        if after != before:
            audit.record(tenant, actor, "presence.line_changed", obj=presence, changes=audit.diff(before, after))
            events.emit(tenant, "presence.line_changed", {"user_id": str(user.pk)})
    return presence


def line_of(presence: Presence) -> str:
    """What click-to-call rings: the SIP URI, else the phone number, else ""."""
    return presence.sip_uri or presence.phone_number


# --- placing a call -------------------------------------------------------------------------------


def caller_number(tenant) -> PhoneNumber | None:
    """The organisation's number shown to the customer (see the module docstring)."""
    numbers = PhoneNumber.objects.for_tenant(tenant).filter(account__status=AccountStatus.CONNECTED)
    numbers = numbers.select_related("account")
    return numbers.filter(flow__isnull=False).order_by("number").first() or numbers.order_by("number").first()


def can_call(tenant) -> bool:
    """Whether click-to-call buttons show: a connected account with a number to call from."""
    return caller_number(tenant) is not None


def clean_destination(tenant, to: str) -> str:
    try:
        number = crm_fields.clean_phone(to, tenant.default_region)
    except ValueError:
        raise ValidationError({"to": [f"{str(to or '').strip() or 'An empty number'} is not a valid phone number"]}) from None  # fmt: skip
    if phonenumbers.number_type(phonenumbers.parse(number)) in NOT_CALLABLE:
        raise ValidationError({"to": ["Premium-rate numbers cannot be called"]})
    return number


def _contact(tenant, membership, contact_id) -> Contact | None:
    if contact_id in (None, ""):
        return None
    try:
        uuid.UUID(str(contact_id))
    except ValueError:
        raise ValidationError({"contact_id": ["Not a contact id"]}) from None
    return get_visible(Contact, tenant, membership, contact_id)  # 404 when not the agent's to see


def bridge_url(provider: str, phone_call_id) -> str:
    return f"{accounts.hooks_base()}/hooks/telephony/{provider}/bridge/{phone_call_id}"


def status_url(number: PhoneNumber) -> str:
    return accounts.webhooks_for(number).status_url


def place_call(tenant, actor: Actor, user, membership, *, to: str, contact_id=None) -> PhoneCall:
    """Ring the agent's line, then (on answer) the customer at ``to``: the new call, state "queued".

    Refusals (nothing placed, nothing written): 403 for members who take no calls; 422 without a
    connected account and number, without a line, for a bad or premium-rate number, over the
    organisation's or reseller's line limits; 404 for a
    contact the agent cannot see; ``ProviderUnavailable`` (502) when the provider fails.
    """
    if membership is None or membership.role not in CALL_TAKERS:
        raise PermissionDenied("Auditors do not place calls")
    contact = _contact(tenant, membership, contact_id)
    number = clean_destination(tenant, to)
    origin = caller_number(tenant)
    if origin is None:
        raise ValidationError({"__all__": [
            "Connect a Twilio or Vonage account and sync its numbers first (Telephony → Phone numbers)"]})  # fmt: skip
    line = line_of(presence_of(tenant, user))
    if not line:
        raise ValidationError({"line": [f"Set your phone line first ({LINE_PLACE}): the call rings it, then the customer"]})  # fmt: skip
    limits.ensure_can_call(tenant, "outbound")  # over the line limits: 422 with the reason, nothing placed
    phone_call_id = uuid.uuid4()
    try:
        provider_call_id = providers.place_call(
            origin.provider,
            accounts.credentials(tenant, origin.provider),
            to=line,
            from_=origin.number,
            answer_url=bridge_url(origin.provider, phone_call_id),
            status_url=status_url(origin),
        )
    except providers.ProviderError as error:
        raise accounts.provider_failure(error) from None
    phone_call, _created = calllog.open_call(
        tenant,
        provider=origin.provider,
        provider_call_id=provider_call_id,
        direction="outbound",
        from_number=origin.number,
        to_number=number,
        number=origin,
        agent=user,
        contact=contact,
        state="queued",
        actor=actor,
        phone_call_id=phone_call_id,
    )
    return phone_call
