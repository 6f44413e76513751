"""Workflows, their published versions, and runs with one row per step execution.

The rows are the truth about automation: a run is claimed with a lease like a ``core.Job``, and
each step execution carries an idempotency key (``<run>:<step>``, the same on every attempt)
that is written in the transaction of a local effect (task, field, tag) and sent as the dedupe
id of a remote one (HTTP ``webhook-id``, email ``Message-ID``), so no effect happens twice.
"""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from octopushx.core.models import TenantModel


def _webhook_key() -> str:
    return secrets.token_urlsafe(18)


class Reenrol(models.TextChoices):
    ONCE = "once", "Once per record"
    EVERY = "every", "Every time"


class Workflow(TenantModel):
    name = models.CharField(max_length=120)
    description = models.CharField(max_length=500, blank=True)
    enabled = models.BooleanField(default=False)
    version = models.PositiveIntegerField(default=0, help_text="The latest published version")
    definition = models.JSONField(default=dict, help_text="The latest version's body (trigger, steps)")
    reenrol = models.CharField(max_length=8, choices=Reenrol.choices, default=Reenrol.EVERY)
    # The inbound webhook address and the Standard Webhooks secret (encrypted with the tenant key).
    key = models.CharField(max_length=40, unique=True, default=_webhook_key)
    secret = models.TextField(blank=True)
    template = models.CharField(max_length=60, blank=True, help_text="The gallery template it started from")
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["tenant", "name"])]

    def __str__(self) -> str:
        return self.name


class WorkflowVersion(TenantModel):
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    definition = models.JSONField()
    author = models.CharField(max_length=254, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["workflow", "number"], name="studio_version_unique")]


class WorkflowTrigger(TenantModel):
    """One trigger of an enabled workflow's latest version, indexed for the bus and the scheduler."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="triggers")
    kind = models.CharField(max_length=16)  # event | schedule | webhook | manual
    event = models.CharField(max_length=60, blank=True)
    cron = models.CharField(max_length=120, blank=True)
    time_zone = models.CharField(max_length=64, blank=True)
    next_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "event"]),
            models.Index(fields=["kind", "next_at"]),
        ]


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    WAITING = "waiting", "Waiting"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"
    CANCELLED = "cancelled", "Cancelled"
    LOOP_PREVENTED = "loop_prevented", "Loop prevented"


FINISHED = (
    RunStatus.SUCCEEDED,
    RunStatus.FAILED,
    RunStatus.SKIPPED,
    RunStatus.CANCELLED,
    RunStatus.LOOP_PREVENTED,
)


class Run(TenantModel):
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="runs")
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED)
    # False until the trigger's conditions and the re-enrolment rule let it in (checked by the
    # worker, so an emitting request pays one insert); a run that is not admitted is deleted.
    admitted = models.BooleanField(default=False)
    trigger = models.JSONField(default=dict)  # {"type", "event", "event_id", "payload" | "body", ...}
    dedupe_key = models.CharField(max_length=200)
    record_type = models.CharField(max_length=32, blank=True)
    record_id = models.CharField(max_length=64, blank=True)
    contact_id = models.CharField(max_length=64, blank=True, help_text="The person the run is about, if any")
    record_label = models.CharField(max_length=200, blank=True, help_text="The record's name when the run started")
    depth = models.PositiveSmallIntegerField(default=0)
    cause_run = models.UUIDField(null=True, blank=True)
    retry_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries")
    retry_mode = models.CharField(max_length=16, blank=True)  # failed_step | start | latest
    test = models.BooleanField(default=False)
    run_after = models.DateTimeField(default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)
    claimed_by = models.UUIDField(null=True, blank=True)
    # The claim that took it: a worker takes a few runs of one organisation at once and runs them
    # one after the other, so the organisation's concurrency cap counts claims, not rows.
    claim = models.UUIDField(null=True, blank=True)
    claims = models.PositiveIntegerField(default=0, help_text="Times its worker stopped during it")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    step_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["workflow", "dedupe_key"], name="studio_run_dedupe")]
        indexes = [
            # the claim: one tenant's next due queued run
            models.Index(fields=["status", "tenant", "run_after"]),
            # history pages
            models.Index(fields=["tenant", "workflow", "-created_at"]),
            models.Index(fields=["tenant", "-created_at"]),
            models.Index(fields=["tenant", "status", "-created_at"]),
            models.Index(fields=["tenant", "contact_id"]),
        ]


class StepStatus(models.TextChoices):
    RUNNING = "running", "Running"
    WAITING = "waiting", "Waiting"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class StepRun(TenantModel):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="steps")
    step_id = models.CharField(max_length=40)
    type = models.CharField(max_length=32)
    position = models.PositiveIntegerField(default=0, help_text="Order of execution in the run")
    key = models.CharField(max_length=120, unique=True, help_text="Idempotency key: <run>:<step>")
    status = models.CharField(max_length=16, choices=StepStatus.choices, default=StepStatus.RUNNING)
    attempts = models.PositiveIntegerField(default=0)
    input = models.JSONField(default=dict)
    output = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    wake_at = models.DateTimeField(null=True, blank=True)
    copied = models.BooleanField(default=False, help_text="Carried over from the run this one retries")

    class Meta:
        ordering = ["position"]
        indexes = [models.Index(fields=["run", "position"])]


class Enrolment(TenantModel):
    """A record entered a workflow (the "once per record" re-enrolment rule)."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="+")
    record_type = models.CharField(max_length=32)
    record_id = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workflow", "record_type", "record_id"], name="studio_enrolment_unique")
        ]


def new_id() -> uuid.UUID:
    return uuid.uuid4()
