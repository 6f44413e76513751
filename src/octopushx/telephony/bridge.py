"""Click-to-call's second leg: the agent answered, so the provider asks what to do next.

``/hooks/telephony/{provider}/bridge/{phone_call_id}`` answers (signed requests only, 403 otherwise
with nothing changed) TwiML ``<Dial>`` or an NCCO ``connect`` to the customer, with the organisation's
number as caller ID and both channels recorded; the recording reports to the account's recording hook.
"""

from __future__ import annotations

import json
import uuid

from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from twilio.twiml.voice_response import Dial, VoiceResponse

from octopushx.telephony import accounts, signatures
from octopushx.telephony.models import PhoneCall

PROVIDERS = ("twilio", "vonage")


def _phone_call(provider: str, phone_call_id: str) -> PhoneCall | None:
    """The call the URL names (any organisation: the signature then proves it is that organisation's)."""
    try:
        uuid.UUID(str(phone_call_id))
    except ValueError:
        return None
    found = PhoneCall.objects.filter(pk=phone_call_id, provider=provider).select_related("tenant", "number")
    return found.first()


def recording_url(provider: str, phone_call: PhoneCall) -> str:
    account = phone_call.number.account_id if phone_call.number else ""
    return f"{accounts.hooks_base()}/hooks/telephony/{provider}/recording/{account}"


def twiml(phone_call: PhoneCall) -> str:
    response = VoiceResponse()
    if not phone_call.is_live:
        response.hangup()
        return response.to_xml()
    dial = Dial(
        caller_id=phone_call.from_number,
        record="record-from-answer-dual",
        recording_status_callback=recording_url("twilio", phone_call),
        recording_status_callback_event="completed",
        recording_status_callback_method="POST",
    )
    dial.number(phone_call.to_number)
    response.append(dial)
    return response.to_xml()


def ncco(phone_call: PhoneCall) -> list[dict]:
    if not phone_call.is_live:
        return [{"action": "talk", "text": "This call has ended."}]
    event_url = accounts.hooks_base() + f"/hooks/telephony/vonage/event/{phone_call.number.account_id if phone_call.number else ''}"  # fmt: skip
    return [
        {
            "action": "record",
            "split": "conversation",
            "channels": 2,
            "format": "mp3",
            "eventUrl": [recording_url("vonage", phone_call)],
            "eventMethod": "POST",
        },
        {
            "action": "connect",
            "from": phone_call.from_number.lstrip("+"),
            "eventUrl": [event_url],
            "eventMethod": "POST",
            "endpoint": [{"type": "phone", "number": phone_call.to_number.lstrip("+")}],
        },
    ]


@csrf_exempt
@require_http_methods(["GET", "POST"])
def bridge(request, provider: str, phone_call_id: str):
    """Dial the customer now that the agent has answered."""
    phone_call = _phone_call(provider, phone_call_id) if provider in PROVIDERS else None
    if phone_call is None or not signatures.valid(provider, request, phone_call.tenant):
        # The same answer for an unknown call and a bad signature: nothing to learn from it.
        return JsonResponse({"detail": "Forbidden"}, status=403)
    if provider == "twilio":
        return HttpResponse(twiml(phone_call), content_type="application/xml")
    return HttpResponse(json.dumps(ncco(phone_call)), content_type="application/json")
