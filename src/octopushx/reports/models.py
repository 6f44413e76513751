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


class Frequency(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"


class OutputFormat(models.TextChoices):
    PDF = "pdf", "PDF"
    CSV = "csv", "CSV"


class ReportSchedule(TenantModel):
    """Email a dashboard (``dashboard``: a ready slug or a custom dashboard's id) or a saved report
    to members at a time of day in each recipient's own time zone.

    Each recipient has a row (``ScheduleRecipient``) holding their next due time in UTC: the
    scheduler fires a row when its time has come, one firing per slot (a conditional update).
    Nothing rendered is kept: each send renders the output fresh for that recipient's role.
    """

    name = models.CharField(max_length=200, blank=True)
    dashboard = models.CharField(max_length=64, blank=True)
    report = models.ForeignKey(Report, null=True, blank=True, on_delete=models.SET_NULL, related_name="schedules")
    period = models.CharField(max_length=20, default="this_month", help_text="For dashboards: the period shown")
    format = models.CharField(max_length=4, choices=OutputFormat.choices, default=OutputFormat.PDF)
    frequency = models.CharField(max_length=8, choices=Frequency.choices, default=Frequency.WEEKLY)
    weekday = models.PositiveSmallIntegerField(null=True, blank=True, help_text="0 = Monday … 6 = Sunday (weekly)")
    day_of_month = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="1–31 (monthly); a shorter month sends on its last day"
    )
    time_of_day = models.TimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    enabled = models.BooleanField(default=True)
    next_at = models.DateTimeField(null=True, blank=True, help_text="The earliest recipient's next send (UTC)")
    last_sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "created_at"])]

    def __str__(self) -> str:
        return self.name or self.dashboard or (self.report.name if self.report else "Scheduled report")


class ScheduleRecipient(TenantModel):
    """One member receiving a schedule, with their own due time (computed in ``time_zone``)."""

    schedule = models.ForeignKey(ReportSchedule, on_delete=models.CASCADE, related_name="recipients")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    time_zone = models.CharField(max_length=64, help_text="The zone next_at was computed in")
    next_at = models.DateTimeField(null=True, blank=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        unique_together = [("schedule", "user")]
        indexes = [models.Index(fields=["next_at"])]
