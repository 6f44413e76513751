from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "octopushx.calls"
    label = "calls"
    verbose_name = "Octopush X calls"

    def ready(self) -> None:
        from octopushx.calls import tasks  # noqa: F401  (job handlers; privacy.py, retention.py: autodiscovered by Shield)
