from __future__ import annotations

from django import forms
from django.contrib.auth import forms as auth_forms

from octopushx.core.text import CleanTextFormMixin


class SignInForm(forms.Form):
    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}))
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class CodeForm(forms.Form):
    code = forms.CharField(
        label="6-digit code",
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


class TokenForm(CleanTextFormMixin, forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses this token, e.g. “Twilio webhook”.")
    expires_in_days = forms.TypedChoiceField(
        label="Expires",
        coerce=int,
        choices=[(30, "in 30 days"), (90, "in 90 days"), (365, "in a year"), (0, "never")],
        initial=90,
    )


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's reset form, also for accounts created without a password.

    A new organisation's first owner (and a member added without one) starts with an
    unusable password and sets it through this link; Django's own form skips them.
    """

    def get_users(self, email):
        from octopushx.accounts.models import User

        return (u for u in User.objects.filter(email__iexact=email, is_active=True) if u.email.lower() == email.lower())
