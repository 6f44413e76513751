"""How telephony's audit entries read in Shield's trail."""

from __future__ import annotations

from octopushx.core.audit_labels import labels

labels(
    {
        "call_flow.created": "Call flow created",
        "call_flow.updated": "Call flow changed",
        "call_flow.deleted": "Call flow deleted",
        "presence.changed": "Presence changed",
        "presence.line_changed": "Phone line changed",
        "provider_account.connected": "Telephony provider connected",
        "provider_account.disconnected": "Telephony provider disconnected",
        "phone_numbers.synced": "Phone numbers synced",
        "phone_number.assigned": "Phone number assigned to a call flow",
        "phone_number.webhooks_set": "Phone number's webhooks set",
    },
    object_types={
        "callflow": "Call flow",
        "presence": "Presence",
        "provideraccount": "Telephony provider",
        "phonenumber": "Phone number",
        "phonecall": "Phone call",
    },
    fields={
        "is_active": "Active",
        "set_by": "Set by",
        "blocks": "Blocks changed",
        "account_id": "Account",
        "webhooks_set": "Webhooks set",
        "sip_uri": "SIP URI",
        "phone_number": "Phone number",
    },
    system_actors={"telephony": "Telephony"},
)
