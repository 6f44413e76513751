from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "octopushx.reports"
    label = "reports"
    verbose_name = "Reports"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from octopushx.core import datasets

        datasets.discover()  # every product's datasets, so a broken registration fails at start-up
        from octopushx.reports import schedules  # noqa: F401  (the send job and the reaper-round hook)
