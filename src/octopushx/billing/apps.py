from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "octopushx.billing"
    label = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from octopushx.billing import ledger, payments, signals, tasks  # noqa: F401 (metering, card payments, trials, jobs)
        from octopushx.billing.entitlements import PlanEntitlements
        from octopushx.core import entitlements

        entitlements.register("billing.plans", PlanEntitlements())

        from octopushx.billing import dunning
        from octopushx.tenancy import suspension

        suspension.register_explainer(dunning.NON_PAYMENT, dunning.explain_suspension)
