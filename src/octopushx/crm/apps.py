from django.apps import AppConfig


def _register_fold(sender, connection, **kwargs) -> None:
    from octopushx.crm import folding

    folding.register(connection)


class CrmConfig(AppConfig):
    name = "octopushx.crm"
    label = "crm"
    verbose_name = "OctoCRM"

    def ready(self) -> None:
        from django.db import connections
        from django.db.backends.signals import connection_created

        # Job handlers must be registered in every process that submits or runs them.
        from octopushx.crm import activity, folding, tasks  # noqa: F401  (privacy.py and retention.py are autodiscovered by Shield)

        activity.connect()

        from octopushx.crm.models import CrmSettings, CustomField
        from octopushx.tenancy import config

        config.watch(CrmSettings)  # crm.visibility.crm_settings and custom_definitions are cached by version
        config.watch(CustomField)

        # SQLite's search triggers and queries call crm_fold (crm 0010): every connection needs it.
        connection_created.connect(_register_fold, dispatch_uid="crm_fold")
        for connection in connections.all(initialized_only=True):
            folding.register(connection)
