"""Data-subject requests (GDPR Articles 15–21): intake, verification, due dates, fulfilment."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from octopushx.core.models import TenantModel


class RequestKind(models.TextChoices):
    ACCESS = "access", "Access (a copy of the data)"
    EXPORT = "export", "Export (portability)"
    RECTIFICATION = "rectification", "Rectification"
    ERASURE = "erasure", "Erasure"
    RESTRICTION = "restriction", "Restriction of processing"
    OBJECTION = "objection", "Objection to processing"


class RequestState(models.TextChoices):
    RECEIVED = "received", "Received"
    VERIFIED = "verified", "Verified"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    REJECTED = "rejected", "Rejected"


class RequestSource(models.TextChoices):
    FORM = "form", "Public form"
    API = "api", "API"
    STAFF = "staff", "Staff entry"


class PrivacyRequest(TenantModel):
    kind = models.CharField(max_length=16, choices=RequestKind.choices)
    state = models.CharField(max_length=12, choices=RequestState.choices, default=RequestState.RECEIVED)
    source = models.CharField(max_length=8, choices=RequestSource.choices)
    email = models.CharField(max_length=254, blank=True)
    phone = models.CharField(max_length=20, blank=True)
    contact_ref = models.CharField(max_length=64, blank=True, help_text="The contact id given with the request")
    details = models.TextField(blank=True, help_text="What to rectify, or the grounds of an objection")
    changes = models.JSONField(default=dict, blank=True, help_text="Rectification: field -> new value")
    verification_hash = models.CharField(max_length=64, blank=True)
    verification_expires_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    verification_method = models.CharField(max_length=8, blank=True)  # email | staff
    verification_reason = models.TextField(blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    extension_reason = models.TextField(blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    result_blob = models.ForeignKey("core.Blob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    download_hash = models.CharField(max_length=64, blank=True)
    download_expires_at = models.DateTimeField(null=True, blank=True)
    downloaded_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        app_label = "shield"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "state", "due_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} request ({self.get_state_display()})"

    @property
    def is_open(self) -> bool:
        return self.state not in (RequestState.COMPLETED, RequestState.REJECTED)
