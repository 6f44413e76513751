from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "octopushx.calls"
    label = "calls"
    verbose_name = "Octopush X calls"

    def ready(self) -> None:
        from octopushx.calls import signals, tasks  # noqa: F401  (job handlers, default trackers; privacy.py, retention.py: autodiscovered by Shield)
