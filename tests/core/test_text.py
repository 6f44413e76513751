"""The text rule: what is refused, what is kept, and how it is stripped for output."""

from __future__ import annotations

import pytest
from django import forms

from octopushx.core import text


@pytest.mark.parametrize(
    "value", ["\x00", "a\x01", "\x0b", "\x0c", "\x1b[31m", "\x7f", "\x85", "\u202a", "\u202e", "\u2066", "\u2069"]
)
def test_control_and_bidi_override_characters_are_refused(value):
    assert text.problem(value)


@pytest.mark.parametrize(
    "value", ["Zoë Ångström", "line\nnext", "a\tb", "a\r\nb", "\u200f\u05e9\u05dc\u05d5\u05dd", "😀"]
)
def test_ordinary_text_newlines_tabs_and_marks_are_kept(value):
    assert text.problem(value) is None


def test_strip_removes_exactly_the_refused_characters():
    assert text.strip("A\x00d\x01a\n\t\u202eX") == "Ada\n\tX"


def test_form_mixin_puts_the_error_on_the_field():
    class Form(text.CleanTextFormMixin, forms.Form):
        name = forms.CharField()
        notes = forms.CharField(widget=forms.Textarea, required=False)

    form = Form(data={"name": "Bob\x01", "notes": "one\ntwo"})
    assert not form.is_valid() and list(form.errors) == ["name"]
    assert Form(data={"name": "Bob", "notes": "one\n\ttwo"}).is_valid()
