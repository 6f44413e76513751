"""Saved reports: a query spec (``reports.query``), how it is shown, and who may open it."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from octopushx.core.models import TenantModel


class View(models.TextChoices):
    TABLE = "table", "Table"
    BAR = "bar", "Bar chart"
    LINE = "line", "Line chart"
    STACKED_BAR = "stacked_bar", "Stacked bar chart"
    PIE = "pie", "Pie / donut"
    NUMBER = "number", "Single number"


class Report(TenantModel):
    """A saved report. ``shared`` with the ``roles`` listed (all roles when empty); the owner always sees it.

    Whoever opens it gets the numbers their own role may see: the spec is run for the viewer.
    """

    name = models.CharField(max_length=200)
    spec = models.JSONField(default=dict)
    view = models.CharField(max_length=12, choices=View.choices, default=View.TABLE)
    roles = models.JSONField(default=list, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    shared = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["tenant", "owner"]), models.Index(fields=["tenant", "shared"])]

    def __str__(self) -> str:
        return self.name
