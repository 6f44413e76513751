from django.apps import AppConfig


class ShieldConfig(AppConfig):
    name = "octopushx.shield"
    label = "shield"

    def ready(self) -> None:
        from octopushx.core import entitlements
        from octopushx.shield import tasks  # noqa: F401 (the daily retention purge)
        from octopushx.shield.monitoring import signals as monitoring_signals  # noqa: F401
        from octopushx.shield.offboarding import services as offboarding  # noqa: F401 (job, explainer, open paths)
        from octopushx.shield.privacy import services as privacy  # noqa: F401 (job handler)
        from octopushx.shield.seats import signals  # noqa: F401
        from octopushx.shield.seats.services import OperatorSeatCap

        entitlements.register("shield.seats", OperatorSeatCap())
