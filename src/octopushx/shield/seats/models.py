"""A tenant's security policy (sessions) and its subscription stub (plan and seats).

The subscription stands in for billing until that app exists: the seat check is real.
"""

from __future__ import annotations

from django.db import models

from octopushx.core.models import TenantModel


class Plan(models.TextChoices):
    TRIAL = "trial", "Trial"
    TEAM = "team", "Team"
    BUSINESS = "business", "Business"
    ENTERPRISE = "enterprise", "Enterprise"


# Seats each plan includes; None is unlimited.
PLAN_SEATS: dict[str, int | None] = {
    Plan.TRIAL: 5,
    Plan.TEAM: 25,
    Plan.BUSINESS: 100,
    Plan.ENTERPRISE: None,
}


class SecurityPolicy(TenantModel):
    """Per-tenant security settings; one row per tenant, created on first change."""

    max_sessions_per_user = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Concurrent browser sessions per user; empty is unlimited"
    )

    class Meta:
        app_label = "shield"
        constraints = [models.UniqueConstraint(fields=["tenant"], name="shield_one_policy_per_tenant")]

    def __str__(self) -> str:
        return f"security policy of {self.tenant_id}"


class Subscription(TenantModel):
    """The tenant's plan; ``seats`` overrides the plan's included seats when set."""

    plan = models.CharField(max_length=16, choices=Plan.choices, default=Plan.TRIAL)
    seats = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        app_label = "shield"
        constraints = [models.UniqueConstraint(fields=["tenant"], name="shield_one_subscription_per_tenant")]

    def __str__(self) -> str:
        return f"{self.plan} subscription of {self.tenant_id}"

    @property
    def seat_limit(self) -> int | None:
        return self.seats if self.seats is not None else PLAN_SEATS.get(self.plan)
