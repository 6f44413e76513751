from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "octopushx.accounts"
    label = "accounts"

    def ready(self) -> None:
        from octopushx.accounts import signals  # noqa: F401
