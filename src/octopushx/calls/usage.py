"""Octopush X in billing's metering (autodiscovered): transcribed minutes, once per analysed call.

The key is the call's id, so a call analysed again (reprocessing, a retried job) is counted once,
by its duration in minutes (to the hundredth, half-up).
"""

from __future__ import annotations

from octopushx.calls import services
from octopushx.calls.models import Call
from octopushx.core.metering import Reading, meter


@meter("transcription_minutes", "call.analysed")
def transcribed_minutes(tenant, payload: dict) -> Reading | None:
    call = Call.objects.filter(tenant=tenant, pk=payload.get("call_id")).only("pk", "duration").first()
    if call is None or not call.duration:
        return None
    return Reading(key=str(call.pk), quantity=services.minutes_of(call))  # transcribed now
