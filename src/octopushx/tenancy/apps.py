from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "octopushx.tenancy"
    label = "tenancy"
