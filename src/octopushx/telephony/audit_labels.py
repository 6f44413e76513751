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
    },
    object_types={"callflow": "Call flow", "presence": "Presence", "linelimits": "Phone line limits"},
    fields={
        "is_active": "Active",
        "set_by": "Set by",
        "blocks": "Blocks changed",
        "max_concurrent_calls": "Concurrent calls",
        "monthly_minutes": "Minutes a month",
    },  # fmt: skip
    system_actors={"telephony": "Telephony"},
)
