from django.apps import AppConfig


class ShieldConfig(AppConfig):
    name = "octopushx.shield"
    label = "shield"
