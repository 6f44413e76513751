"""Whether the member sees call flows in the navigation (owners, admins, managers, auditors)."""

from __future__ import annotations

from octopushx.telephony import services


def telephony(request) -> dict:
    membership = getattr(request, "membership", None)
    return {"telephony": {"read": services.can_read(membership), "edit": services.can_edit(membership)}}
