"""How telephony's audit entries read in Shield's trail."""

from __future__ import annotations

from octopushx.core.audit_labels import labels

labels(
    {
        "call_flow.created": "Call flow created",
        "call_flow.updated": "Call flow changed",
        "call_flow.deleted": "Call flow deleted",
        "presence.changed": "Presence changed",
        "line_limits.changed": "Phone line limits changed",
        "presence.line_set": "Phone line set",
        "call_flow.rotated": "Round robin moved on",
        "phone_call.updated": "Phone call updated",
    },
    object_types={
        "callflow": "Call flow",
        "presence": "Presence",
        "linelimits": "Phone line limits",
        "phonecall": "Phone call",
    },
    fields={
        "is_active": "Active",
        "set_by": "Set by",
        "blocks": "Blocks changed",
        "max_concurrent_calls": "Concurrent calls",
        "monthly_minutes": "Minutes a month",
        "answered_at": "Answered",
        "ended_at": "Ended",
        "phone_number": "Phone line",
    },  # fmt: skip
    system_actors={"telephony": "Telephony"},
)
