"""Telephony's action beside every phone number the pages show: a click-to-call button.

Shown to members who take calls, when the organisation can place calls (a connected account with a
number); the answer is worked out once per request.
"""

from __future__ import annotations

import uuid

from django.template.loader import render_to_string

from octopushx.core import phone_actions
from octopushx.telephony import clicktocall, services


def _can_call(request) -> bool:
    cached = getattr(request, "_telephony_can_call", None)
    if cached is None:
        tenant = getattr(request, "tenant", None)
        cached = bool(tenant and services.takes_calls(getattr(request, "membership", None)) and clicktocall.can_call(tenant))  # fmt: skip
        request._telephony_can_call = cached
    return cached


@phone_actions.action
def call_button(request, e164: str, contact_id=None) -> str:
    if not _can_call(request):
        return ""
    context = {"to": e164, "shown": phone_actions.display(e164), "contact_id": contact_id or "",
               "key": uuid.uuid4().hex[:8], "next": request.get_full_path()}  # fmt: skip
    return render_to_string("telephony/_call_button.html", context, request=request)
