"""Entitlements: what an organisation may use (features) and how many people it may have (seats).

The one place every package asks: ``entitlements.allows(tenant, "studio")``,
``entitlements.require(tenant, "studio")`` (403 with "Not in your plan: …"),
``entitlements.seat_limit(tenant)``, ``entitlements.usage_refusal(tenant, metric, quantity)``
(why more of a metered quantity must wait: over the plan's quota with no overage) and
``entitlements.quantity_limit(tenant, name)`` (a cap a product declares, such as concurrent phone
calls, that the plan may set; products declare theirs with ``declare_limit`` in their ``usage.py``). Who decides is registered here by higher packages (billing
registers its plans; shield its operator-set seat cap), so a lower package never imports them.
With no provider answering, everything is allowed and seats are unlimited.

Pages of a feature are gated by ``EntitlementMiddleware`` from ``gate_pages(feature, namespace)``;
API routers by ``router.add_decorator(entitlements.api_requires(feature))``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from django.core.exceptions import PermissionDenied


class NotInPlan(PermissionDenied):
    """The organisation's plan does not include ``feature`` (the API answers 403 with the message)."""

    def __init__(self, feature: str, message: str):
        super().__init__(message)
        self.feature = feature
        self.message = message


@dataclass(frozen=True)
class SeatLimit:
    """A cap on members plus open invitations, and how to read and lift it."""

    limit: int
    label: str  # what sets it, read after "seats of the": "Team plan"
    remedy: str = "upgrade the plan"


@dataclass(frozen=True)
class QuantityLimit:
    """A cap on a declared quantity (``declare_limit``), what sets it, and, for a monthly one, its period."""

    limit: int  # 0: unlimited
    label: str  # what sets it, read after "set by the": "Team plan"
    period: tuple | None = None  # (start, end) datetimes of the period a monthly quantity counts in


class Provider(Protocol):
    def allows(self, tenant, feature: str) -> bool | None:
        """False refuses; True or None (no opinion) lets the other providers decide."""

    def refusal(self, tenant, feature: str) -> str:
        """Why ``feature`` is refused and how to get it."""

    def seat_limit(self, tenant) -> SeatLimit | None:
        """The cap this provider sets, or None."""

    def usage_refusal(self, tenant, metric: str, quantity, key: str = "") -> str | None:
        """Why ``quantity`` more of ``metric`` (measured under ``key``) must wait, or None. Optional."""

    def quantity_limit(self, tenant, name: str) -> QuantityLimit | None:
        """The cap this provider sets on a declared quantity, or None (no opinion). Optional."""


_providers: dict[str, Provider] = {}
LIMITS: dict[str, str] = {}  # declared quantity -> the label people read
_page_gates: dict[str, str] = {}  # URL namespace -> feature


def register(name: str, provider: Provider) -> None:
    """Add (or replace, by name) a provider."""
    _providers[name] = provider


def unregister(name: str) -> None:
    _providers.pop(name, None)


def gate_pages(feature: str, namespace: str) -> None:
    """Every page of URL ``namespace`` needs ``feature``."""
    _page_gates[namespace] = feature


def _refusing(tenant, feature: str) -> Provider | None:
    if tenant is None:
        return None
    for provider in list(_providers.values()):
        if provider.allows(tenant, feature) is False:
            return provider
    return None


def allows(tenant, feature: str) -> bool:
    """Whether ``tenant`` may use ``feature``."""
    return _refusing(tenant, feature) is None


def refusal(tenant, feature: str) -> str | None:
    """Why ``tenant`` may not use ``feature`` ("Not in your plan: …"), or None when it may."""
    provider = _refusing(tenant, feature)
    return provider.refusal(tenant, feature) if provider is not None else None


def require(tenant, feature: str) -> None:
    """Raise ``NotInPlan`` (a 403) when ``tenant`` may not use ``feature``."""
    provider = _refusing(tenant, feature)
    if provider is not None:
        raise NotInPlan(feature, provider.refusal(tenant, feature))


def seat_limit(tenant) -> SeatLimit | None:
    """The strictest seat cap of every provider (None: unlimited)."""
    limits = [limit for p in list(_providers.values()) if (limit := p.seat_limit(tenant)) is not None]
    return min(limits, key=lambda limit: limit.limit) if limits else None


def usage_refusal(tenant, metric: str, quantity=0, key: str = "") -> str | None:
    """Why ``tenant`` may not use ``quantity`` more of ``metric`` now (over quota), or None when it may.

    ``key`` is the usage's idempotency key: what was measured under it before is never refused again.
    """
    if tenant is None:
        return None
    for provider in list(_providers.values()):
        check = getattr(provider, "usage_refusal", None)
        message = check(tenant, metric, quantity, key) if check is not None else None
        if message:
            return message
    return None


def declare_limit(name: str, label: str) -> None:
    """A product's quantity a plan may cap (``usage.py``: ``declare_limit("phone_minutes", "Phone minutes")``)."""
    LIMITS[name] = label


def quantity_limit(tenant, name: str) -> QuantityLimit | None:
    """The strictest cap any provider sets on ``name`` for ``tenant`` (None: no provider has one)."""
    if tenant is None:
        return None
    found = []
    for provider in list(_providers.values()):
        check = getattr(provider, "quantity_limit", None)
        limit = check(tenant, name) if check is not None else None
        if limit is not None:
            found.append(limit)
    capped = [limit for limit in found if limit.limit > 0]
    if capped:
        return min(capped, key=lambda limit: limit.limit)
    return found[0] if found else None


def api_requires(feature: str) -> Callable:
    """A ninja router decorator: every operation of the router needs ``feature`` (after sign-in)."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def gated(request, *args, **kwargs):
            require(getattr(request, "tenant", None), feature)
            return view(request, *args, **kwargs)

        return gated

    return decorator


class EntitlementMiddleware:
    """Pages of a gated namespace answer 403 with the plan message (after the tenant is known)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = getattr(request, "resolver_match", None)
        feature = _page_gates.get(match.namespace) if match is not None and match.namespace else None
        if feature is not None:
            require(getattr(request, "tenant", None), feature)
        return None
