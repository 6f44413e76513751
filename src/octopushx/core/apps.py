from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "octopushx.core"
    label = "core"

    def ready(self) -> None:
        from django.core.signals import request_finished
        from django.db.backends.signals import connection_created

        from octopushx.core import jobs
        from octopushx.core.logging import forget_request_id

        jobs.load_job_modules()
        request_finished.connect(forget_request_id, dispatch_uid="octopushx.forget_request_id")
        connection_created.connect(_no_jit, dispatch_uid="octopushx.no_jit")


def _no_jit(sender, connection, **kwargs) -> None:
    """PostgreSQL's JIT compiles a plan whose estimated cost is high: a report query that runs once
    spent 1.3 s of its 7.4 s compiling. Our queries are short and varied, so it stays off."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET jit = off")
