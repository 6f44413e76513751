"""The schedule form: the page's fields mapped onto ``schedules.create_schedule``'s data."""

from __future__ import annotations

from django import forms

from octopushx.core.text import CleanTextFormMixin
from octopushx.reports import dashboards
from octopushx.reports.models import Frequency, OutputFormat

WEEKDAY_CHOICES = [(str(i), name.capitalize()) for i, name in enumerate(["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"])]  # fmt: skip


class ScheduleForm(CleanTextFormMixin, forms.Form):
    target = forms.ChoiceField(label="Dashboard or report")
    name = forms.CharField(label="Name", max_length=200, required=False, help_text="Optional; the subject line")
    period = forms.ChoiceField(
        label="Period", choices=list(dashboards.PERIODS.items()), required=False, help_text="Dashboards only"
    )
    format = forms.ChoiceField(label="Format", choices=OutputFormat.choices, widget=forms.RadioSelect)
    frequency = forms.ChoiceField(label="Frequency", choices=Frequency.choices)
    weekday = forms.ChoiceField(label="Day of the week", choices=WEEKDAY_CHOICES, required=False)
    day_of_month = forms.IntegerField(
        label="Day of the month",
        min_value=1,
        max_value=31,
        required=False,
        help_text="A shorter month sends on its last day.",
    )
    time = forms.CharField(
        label="Time",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="In each recipient's time zone.",  # fmt: skip
    )
    recipients = forms.MultipleChoiceField(label="Recipients", widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, targets, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = targets
        self.fields["recipients"].choices = members

    def data_for_service(self) -> dict:
        data = self.cleaned_data
        kind, _, key = data["target"].partition(":")
        out = {
            "name": data.get("name") or "",
            "format": data["format"],
            "frequency": data["frequency"],
            "time": data["time"],
            "recipient_ids": list(data["recipients"]),
            "dashboard": key if kind == "dashboard" else None,
            "report_id": key if kind == "report" else None,
        }
        if kind == "dashboard":
            out["period"] = data.get("period") or dashboards.DEFAULT_PERIOD
        if data["frequency"] == Frequency.WEEKLY:
            out["weekday"] = int(data["weekday"]) if data.get("weekday") not in (None, "") else None
        if data["frequency"] == Frequency.MONTHLY:
            out["day_of_month"] = data.get("day_of_month")
        return out

    FIELD_OF = {"dashboard": "target", "report_id": "target", "recipient_ids": "recipients", "weekday": "weekday"}

    def add_service_errors(self, errors: dict) -> None:
        for key, messages in errors.items():
            name = key.split(".")[0]
            name = self.FIELD_OF.get(name, name)
            self.add_error(name if name in self.fields else None, messages)
