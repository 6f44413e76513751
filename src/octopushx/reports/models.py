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


class WidgetSize(models.TextChoices):
    SMALL = "sm", "Small"
    MEDIUM = "md", "Medium"
    LARGE = "lg", "Large"


class Dashboard(TenantModel):
    """A custom dashboard: an ordered list of widgets, each a saved report or a ready widget.

    ``widgets`` is ``[{"id": "w…", "report_id": "<uuid>"} | {"id": "w…", "widget": "sales.win_rate"},
    each with "size": sm|md|lg]`` in display order. A widget keeps pointing at its report after
    the report is deleted: the dashboard then says so in that widget's place instead of failing.
    Visibility as for ``Report``: the owner, and when ``shared`` the ``roles`` listed (all when empty).
    """

    name = models.CharField(max_length=200)
    description = models.CharField(max_length=500, blank=True)
    widgets = models.JSONField(default=list, blank=True)
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
