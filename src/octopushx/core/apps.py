from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "octopushx.core"
    label = "core"

    def ready(self) -> None:
        from django.core.signals import request_finished

        from octopushx.core import jobs
        from octopushx.core.logging import forget_request_id

        jobs.load_job_modules()
        request_finished.connect(forget_request_id, dispatch_uid="octopushx.forget_request_id")
