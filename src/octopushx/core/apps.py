from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "octopushx.core"
    label = "core"

    def ready(self) -> None:
        from octopushx.core import jobs

        jobs.load_job_modules()
