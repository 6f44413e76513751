"""Shared models: the tenant-owned base, audit trail, tenant keys, blobs and the job table."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404
from django.utils import timezone


class TenantQuerySet(models.QuerySet):
    def for_tenant(self, tenant) -> TenantQuerySet:
        return self.filter(tenant=tenant)

    def get_for_tenant(self, tenant, pk):
        """The one gate: a row of another tenant (or a malformed id) is a 404."""
        try:
            return self.for_tenant(tenant).get(pk=pk)
        except (self.model.DoesNotExist, ValueError, TypeError, ValidationError):
            raise Http404(f"No {self.model._meta.verbose_name} with that id")


class TenantModel(models.Model):
    """Base for every tenant-owned row: a UUID key, the tenant, and timestamps."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True


class AuditEntry(models.Model):
    """One link of a tenant's hash chain.

    The chain covers the non-personal fields plus a salted commitment to the personal
    ones (actor label, IP, user agent, changed values), which live in ``AuditPersonal``.
    Erasing a person replaces their personal part without breaking the chain.
    """

    id = models.BigAutoField(primary_key=True)
    tenant = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="+")
    seq = models.PositiveBigIntegerField()
    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_token = models.ForeignKey(
        "accounts.ApiToken", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_ref = models.CharField(max_length=64, blank=True)  # ids of actor user/token at write time
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True, db_index=True)
    object_id = models.CharField(max_length=64, blank=True, db_index=True)
    commitment = models.CharField(max_length=64)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        unique_together = [("tenant", "seq")]
        ordering = ["-seq"]
        indexes = [models.Index(fields=["tenant", "-at"])]

    def __str__(self) -> str:
        return f"{self.action} #{self.seq}"


class AuditPersonal(models.Model):
    entry = models.OneToOneField(AuditEntry, primary_key=True, on_delete=models.CASCADE, related_name="personal")
    salt = models.CharField(max_length=32)
    actor_label = models.CharField(max_length=254, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    erased_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"personal part of audit entry {self.entry_id}"


class AuditHead(models.Model):
    """The tip of each tenant's chain, locked while appending so links never fork."""

    tenant = models.OneToOneField("tenancy.Organization", primary_key=True, on_delete=models.CASCADE)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"audit head {self.tenant_id} #{self.seq}"


class TenantKey(models.Model):
    """A tenant's data key, wrapped (AES-256-GCM) by the master key; deleting it shreds data."""

    tenant = models.OneToOneField(
        "tenancy.Organization", primary_key=True, on_delete=models.CASCADE, related_name="data_key"
    )
    wrapped = models.BinaryField()
    master_key_id = models.CharField(max_length=16)
    created_at = models.DateTimeField(default=timezone.now)
    rotated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"data key of {self.tenant_id} (master {self.master_key_id})"


class MasterKeyCheck(models.Model):
    """A value sealed with the master key, so starting with the wrong key fails loudly."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    key_id = models.CharField(max_length=16)
    sealed = models.BinaryField()

    def __str__(self) -> str:
        return f"master key check {self.key_id}"


class Blob(TenantModel):
    """An encrypted file in the storage backend; ``path`` is opaque and holds no names."""

    path = models.CharField(max_length=200, unique=True)
    filename = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    purpose = models.CharField(max_length=40, blank=True)

    def __str__(self) -> str:
        return f"blob {self.id} ({self.size} bytes)"


class JobState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class Job(models.Model):
    """The truth about a unit of background work; Huey only delivers the id."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(
        "tenancy.Organization", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=64, db_index=True)
    payload = models.JSONField(default=dict, blank=True)
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    state = models.CharField(max_length=16, choices=JobState.choices, default=JobState.QUEUED, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=5)
    run_after = models.DateTimeField(default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    progress = models.FloatField(default=0)
    # The WorkerProcess that claimed the running attempt (none when run by `jobs run` or a test).
    claimed_by = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "run_after"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} ({self.state})"


class WorkerProcess(models.Model):
    """A live `serve` or `worker` process that consumes jobs, with its heartbeat.

    When one is gone (its process no longer exists on this machine, or its heartbeat
    stopped), the jobs it held are re-run at once instead of after their lease.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    heartbeat_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"worker {self.hostname}:{self.pid}"
