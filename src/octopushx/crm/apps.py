from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "octopushx.crm"
    label = "crm"
    verbose_name = "OctoCRM"

    def ready(self) -> None:
        # Job handlers must be registered in every process that submits or runs them.
        from octopushx.crm import tasks  # noqa: F401  (privacy.py and retention.py are autodiscovered by Shield)
