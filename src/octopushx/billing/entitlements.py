"""Billing's answer to ``core.entitlements``: the plan's features, seats, minute quota and phone line caps (billing on)."""

from __future__ import annotations

from decimal import Decimal

from octopushx.billing import catalogue, invoicing, ledger, services
from octopushx.billing.models import Metric, Status, Subscription, UsageEvent
from octopushx.core.entitlements import QuantityLimit, SeatLimit
from octopushx.tenancy.models import Organization

# The phone line's caps per seat of each default plan, for the quantities telephony declares in its
# ``usage.py``. A plan not listed (one the operator adds) sets none: the organisation's own setting holds.
PHONE_LIMITS_PER_SEAT: dict[str, dict[str, int]] = {
    "starter": {"phone_concurrent_calls": 1, "phone_minutes": 500},
    "team": {"phone_concurrent_calls": 1, "phone_minutes": 1500},
    "enterprise": {"phone_concurrent_calls": 2, "phone_minutes": 3000},
}
MONTHLY_LIMITS = {"phone_minutes"}


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

    def usage_refusal(self, tenant: Organization, metric: str, quantity, key: str = "") -> str | None:
        """Transcription over the period's included minutes waits, unless the plan bills overage.

        A trial (free) never runs into overage: it keeps to its plan's included minutes.
        """
        if metric != Metric.TRANSCRIPTION_MINUTES:
            return None
        subscription = _subscription(tenant)
        if subscription is None:
            return None
        if subscription.plan.overage_allowed and subscription.status != Status.TRIALING:
            return None  # billed as overage on the invoice
        if key and UsageEvent.objects.for_tenant(tenant).filter(metric=metric, key=key[:200]).exists():
            return None  # measured before: reprocessing is never charged twice
        start, end = ledger.current_period(subscription)
        used = ledger.totals(tenant, start, end)[metric]
        months = 12 if subscription.interval == "year" else 1
        included = invoicing.included_minutes(
            services.state_of(subscription), catalogue.snapshot(subscription.version), months
        )
        if used + Decimal(str(quantity or 0)) <= included:
            return None
        what = "trial" if subscription.status == Status.TRIALING else f"{subscription.plan.name} plan"
        return (
            f"Over quota: {used.normalize():,f} of the {included:,} transcription minutes your {what} "
            f"includes until {end:%-d %B} are used. Add a minutes pack or upgrade under Settings → Billing: "
            "waiting calls are then analysed straight away."
        )

    def quantity_limit(self, tenant: Organization, name: str) -> QuantityLimit | None:
        """The plan's cap on a phone line quantity: per seat times the seats; monthly ones in the billing period."""
        subscription = _subscription(tenant)
        if subscription is None:
            return None
        per_seat = PHONE_LIMITS_PER_SEAT.get(subscription.plan.slug, {}).get(name)
        if per_seat is None:
            return None
        period = None
        if name in MONTHLY_LIMITS and subscription.interval == "month":
            period = ledger.current_period(subscription)  # an annual plan's minutes count per calendar month
        what = "trial" if subscription.status == Status.TRIALING else f"{subscription.plan.name} plan"
        return QuantityLimit(per_seat * max(1, subscription.seats), what, period)
