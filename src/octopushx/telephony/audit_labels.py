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
        "presence.line_changed": "Phone line changed",
        "call_flow.rotated": "Round robin moved on",
        "phone_call.updated": "Phone call updated",
        "provider_account.connected": "Telephony provider connected",
        "provider_account.disconnected": "Telephony provider disconnected",
        "phone_numbers.synced": "Phone numbers synced",
        "phone_number.assigned": "Phone number assigned to a call flow",
        "phone_number.webhooks_set": "Phone number's webhooks set",
        "audio_prompt.created": "Recorded greeting uploaded",
        "audio_prompt.deleted": "Recorded greeting deleted",
    },
    object_types={
        "callflow": "Call flow",
        "presence": "Presence",
        "linelimits": "Phone line limits",
        "phonecall": "Phone call",
        "provideraccount": "Telephony provider",
        "phonenumber": "Phone number",
        "audioprompt": "Recorded greeting",
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
        "account_id": "Account",
        "webhooks_set": "Webhooks set",
        "sip_uri": "SIP URI",
        "duration_s": "Length (s)",
    },  # fmt: skip
    system_actors={"telephony": "Telephony"},
)
