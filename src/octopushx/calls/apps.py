from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "octopushx.calls"
    label = "calls"
    verbose_name = "Octopush X calls"

    def ready(self) -> None:
        from octopushx.calls import privacy, tasks  # noqa: F401  (job handlers; Shield's DSR and retention)
