"""Type-ahead pickers: form fields for a reference to a record or a member, searched on the server.

The page holds only the chosen options (never the whole table) and ``data-picker="<search url>"``;
``static/octopushx/pickers.js`` turns the select into a Tom Select that asks that URL as the user
types. The search URL answers ``{"results": [{"value", "text", "detail"}]}``, where ``detail`` is the
second line that tells namesakes apart. The field validates a submitted value against its queryset,
which the form scopes to what the member may see: the browser is never trusted.
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.core.exceptions import ValidationError

Describe = Callable[[object], str]


class Picker(forms.Select):
    """A ``<select>`` holding only its chosen option, searched on the server as the user types."""

    def __init__(self, search_url: str = "", *, placeholder: str = "", attrs: dict | None = None):
        super().__init__(attrs)
        self.search_url = search_url
        self.placeholder = placeholder

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        widget_attrs = context["widget"]["attrs"]
        widget_attrs["data-picker"] = str(self.search_url)
        if self.placeholder:
            widget_attrs["data-placeholder"] = self.placeholder
        return context

    def chosen(self, values: list[str]) -> list[tuple[str, str, str]]:
        """``(value, text, detail)`` of each chosen value that still exists, in the given order."""
        values = [v for v in values if v not in ("", None)]
        if not values:
            return []
        choices = self.choices
        queryset = getattr(choices, "queryset", None)
        if queryset is None:  # a plain list of choices
            known = {str(key): label for key, label in choices}
            return [(v, str(known[v]), "") for v in values if v in known]
        field = choices.field
        key = field.to_field_name or "pk"
        model_field = queryset.model._meta.pk if key == "pk" else queryset.model._meta.get_field(key)
        valid = []
        for value in values:
            try:
                valid.append(model_field.to_python(value))
            except (ValidationError, ValueError, TypeError):
                continue  # a tampered value: shown as nothing chosen, refused by the field
        rows = {str(getattr(row, key)): row for row in queryset.filter(**{f"{key}__in": valid})}
        detail = getattr(field, "detail", None)
        return [
            (value, field.label_from_instance(rows[value]), detail(rows[value]) if detail else "")
            for value in values
            if value in rows
        ]

    def optgroups(self, name, value, attrs=None):
        groups = []
        chosen = self.chosen(list(value))
        if not self.allow_multiple_selected:
            # An empty option, so "nothing chosen" can be submitted (and is what a new form shows).
            groups.append((None, [self.create_option(name, "", self.placeholder or "—", not chosen, 0)], 0))
        for index, (key, text, detail) in enumerate(chosen, start=1):
            option = self.create_option(name, key, text, True, index)
            if detail:
                option["attrs"]["data-detail"] = detail
            groups.append((None, [option], index))
        return groups


class MultiPicker(Picker, forms.SelectMultiple):
    """Several references: the chosen ones as options, more found by typing."""

    allow_multiple_selected = True


class _Picks:
    """What both picker fields share: the picker widget and the two lines of each row.

    ``label(row)`` is the first line (default ``str(row)``), ``detail(row)`` the second line.
    """

    picker: type = Picker

    def __init__(
        self,
        queryset,
        *,
        search_url: str = "",
        label_from: Describe | None = None,
        detail: Describe | None = None,
        placeholder: str = "",
        **kwargs,
    ):
        kwargs.setdefault("widget", self.picker(search_url, placeholder=placeholder))
        super().__init__(queryset, **kwargs)
        self.label_from = label_from
        self.detail = detail

    def label_from_instance(self, obj) -> str:
        return self.label_from(obj) if self.label_from else str(obj)


class PickerField(_Picks, forms.ModelChoiceField):
    """A reference to one row of ``queryset`` (scope it to what the member sees), picked by typing."""

    def __init__(self, queryset, **kwargs):
        kwargs.setdefault("empty_label", None)
        super().__init__(queryset, **kwargs)
        self.error_messages["invalid_choice"] = "Pick one from the list: that one is not available to you."


class MultiPickerField(_Picks, forms.ModelMultipleChoiceField):
    """References to several rows of ``queryset``, picked by typing."""

    picker = MultiPicker

    def __init__(self, queryset, **kwargs):
        super().__init__(queryset, **kwargs)
        self.error_messages["invalid_choice"] = "Pick from the list: one of them is not available to you."
        self.error_messages["invalid_pk_value"] = "Pick from the list: one of them is not available to you."
