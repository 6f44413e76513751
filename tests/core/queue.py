"""Look at what this test process handed to Huey, robust to a shared Redis queue holding
messages for tasks this process never imported."""

from __future__ import annotations

from huey.contrib.djhuey import HUEY


def waiting_deliveries(job) -> list:
    """Huey messages for ``job`` still waiting (a delayed one sits in the queue with an eta)."""
    found = []
    for data in [*HUEY.storage.enqueued_items(), *HUEY.storage.scheduled_items()]:
        try:
            task = HUEY.deserialize_task(data)
        except Exception:  # another process's task, unknown here
            continue
        if task.args == (str(job.pk),):
            found.append(task)
    return found
