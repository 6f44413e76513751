from django.apps import AppConfig


class TelephonyConfig(AppConfig):
    name = "octopushx.telephony"
    label = "telephony"
    verbose_name = "Cloud telephony"
