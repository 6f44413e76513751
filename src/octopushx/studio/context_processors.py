"""What every page needs to know about Studio: whether the member sees it in the navigation
(its role may, and the organisation's plan includes Studio)."""

from __future__ import annotations

from octopushx.core import entitlements
from octopushx.studio import services


def studio(request) -> dict:
    membership = getattr(request, "membership", None)
    if membership is None or not entitlements.allows(getattr(request, "tenant", None), "studio"):
        return {"studio": {"read": False, "edit": False}}
    return {"studio": {"read": services.can_read(membership), "edit": services.can_edit(membership)}}
