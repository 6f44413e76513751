"""What every page needs from billing: whether the Settings area shows the Billing and reseller tabs."""

from __future__ import annotations

from octopushx.billing import services
from octopushx.tenancy.roles import Perm, has_perm


def billing(request) -> dict:
    membership = getattr(request, "membership", None)
    shown = (
        membership is not None
        and services.enabled()
        and services.is_billed(getattr(request, "tenant", None))
        and has_perm(membership.role, Perm.ADMIN)
    )
    # The reseller console's tabs: a reseller's owners and admins, with billing on.
    reseller = (
        membership is not None
        and services.enabled()
        and getattr(getattr(request, "tenant", None), "kind", None) == "reseller"
        and has_perm(membership.role, Perm.ADMIN)
    )
    return {"billing_tab": shown, "reseller_tab": reseller}
