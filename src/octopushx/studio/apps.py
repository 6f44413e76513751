from django.apps import AppConfig


class StudioConfig(AppConfig):
    name = "octopushx.studio"
    label = "studio"
    verbose_name = "Octopush Studio"

    def ready(self) -> None:
        from octopushx.core import automation, entitlements
        from octopushx.studio import health, triggers  # noqa: F401  (the bus listener, the /readyz figures)
        from octopushx.studio.models import Workflow, WorkflowTrigger
        from octopushx.tenancy import config

        config.watch(Workflow)  # the workflows listening to an event are cached by configuration version
        config.watch(WorkflowTrigger)
        automation.discover()  # every product's record types, triggers and steps, before any run
        entitlements.gate_pages("studio", namespace="studio")  # "Not in your plan" when the plan lacks Studio
