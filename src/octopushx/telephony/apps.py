from django.apps import AppConfig


class TelephonyConfig(AppConfig):
    name = "octopushx.telephony"
    label = "telephony"
    verbose_name = "Cloud telephony"

    def ready(self) -> None:
        from octopushx.telephony import tasks  # noqa: F401  (the presence reconciler; audit_labels: autodiscovered)
