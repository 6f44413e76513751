"""Versioned legal documents (per platform and reseller brand) and who accepted which version."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from octopushx.core.models import TenantModel


class DocumentKind(models.TextChoices):
    TERMS = "terms", "Terms of service"
    PRIVACY = "privacy", "Privacy policy"
    COOKIES = "cookies", "Cookie policy"
    AUP = "aup", "Acceptable use policy"
    DPA = "dpa", "Data processing agreement"
    SUBPROCESSORS = "subprocessors", "Sub-processors"


class LegalDocument(TenantModel):
    """One published version; ``tenant`` is the publisher (the platform or a reseller brand)."""

    kind = models.CharField(max_length=16, choices=DocumentKind.choices)
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField(help_text="Markdown; rendered and sanitised on display")
    summary = models.CharField(max_length=500, blank=True, help_text="What changed in this version")
    published_at = models.DateTimeField()
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        app_label = "shield"
        unique_together = [("tenant", "kind", "version")]
        ordering = ["kind", "-version"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} v{self.version}"


class Acceptance(TenantModel):
    """A user accepted a document version while working in ``tenant`` (for the DPA: on its behalf)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    document = models.ForeignKey(LegalDocument, on_delete=models.PROTECT, related_name="acceptances")
    kind = models.CharField(max_length=16, choices=DocumentKind.choices)
    version = models.PositiveIntegerField()
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        app_label = "shield"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "document"])]

    def __str__(self) -> str:
        return f"{self.user_id} accepted {self.kind} v{self.version}"
