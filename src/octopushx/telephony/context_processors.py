"""Telephony in every page: whether the member sees call flows, and, for members who take calls, their
presence (the top bar's switch) and the caller cards of their live calls (so a reload keeps the card).

Presence and cards are read only when a page shows them (lazily), once per page.
"""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from octopushx.telephony import callercard, display, services
from octopushx.tenancy.middleware import needs_second_factor


def _cards(request) -> list:
    tenant, membership = request.tenant, request.membership
    return [
        callercard.build(tenant, membership, row, state)
        for row, state in callercard.live_calls_for(tenant, request.user)
    ]


def telephony(request) -> dict:
    membership = getattr(request, "membership", None)
    tenant = getattr(request, "tenant", None)
    user = getattr(request, "user", None)
    takes_calls = (
        tenant is not None
        and user is not None
        and user.is_authenticated
        and services.takes_calls(membership)
        and not membership._state.adding  # a reseller's support session is no member: no line of its own
        and not request.path.startswith("/legal/")  # terms to accept first: every other request goes there
        # Suspended, or a second factor to set up first: the stream would be answered with that page.
        and tenant.suspended_at is None
        and not needs_second_factor(request)
    )
    result = {"read": services.can_read(membership), "edit": services.can_edit(membership), "takes_calls": takes_calls}
    if takes_calls:
        result["presence"] = SimpleLazyObject(lambda: display.presence_view(services.presence_of(tenant, user)))
        result["cards"] = SimpleLazyObject(lambda: _cards(request))
    return {"telephony": result}
