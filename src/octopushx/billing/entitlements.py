"""Billing's answer to ``core.entitlements``: the plan's features and seats (only with billing on)."""

from __future__ import annotations

from octopushx.billing import catalogue, services
from octopushx.billing.models import Subscription
from octopushx.core.entitlements import SeatLimit
from octopushx.tenancy.models import Organization


def _subscription(tenant: Organization) -> Subscription | None:
    if not services.enabled() or not services.is_billed(tenant):
        return None
    return services.current_subscription(tenant)


class PlanEntitlements:
    def allows(self, tenant: Organization, feature: str) -> bool | None:
        subscription = _subscription(tenant)
        if subscription is None:
            return None
        return feature in services.features_of(subscription)

    def refusal(self, tenant: Organization, feature: str) -> str:
        """ "Not in your plan: Studio. Upgrade to Enterprise, or add the Studio add-on …"."""
        subscription = _subscription(tenant)
        label = catalogue.feature_label(feature)
        if subscription is None:
            return f"Not in your plan: {label}."
        version = subscription.version
        plans = [p.name for p in version.plans.order_by("position") if feature in p.features]
        addons = [a.name for a in version.addons.order_by("position") if feature in a.features]
        ways = []
        if plans:
            ways.append(f"Upgrade to {' or '.join(plans)}")
        if addons:
            ways.append(f"add the {' or '.join(addons)} add-on")
        how = (", or ".join(ways) + " under Settings → Billing.") if ways else "Ask the operator for a plan with it."
        return f"Not in your plan: {label}. {how[0].upper()}{how[1:]}"

    def seat_limit(self, tenant: Organization) -> SeatLimit | None:
        subscription = _subscription(tenant)
        if subscription is None:
            return None
        capacity = services.seat_capacity(subscription)
        if capacity is None:
            return None
        return SeatLimit(capacity, f"{subscription.plan.name} plan", "add seats under Settings → Billing")
