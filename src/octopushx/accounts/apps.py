from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "octopushx.accounts"
    label = "accounts"

    def ready(self) -> None:
        from octopushx.accounts import signals, tasks  # noqa: F401 (receivers and job handlers)
