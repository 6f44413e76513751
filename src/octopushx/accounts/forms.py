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


class ProfileForm(CleanTextFormMixin, forms.Form):
    full_name = forms.CharField(label="Name", max_length=200, required=False)
    time_zone = forms.ChoiceField(
        label="Time zone",
        required=False,
        help_text="Scheduled reports arrive at their time of day in this zone.",
    )

    def __init__(self, *args, zones: list[str], organisation_zone: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [("", f"The organisation's ({organisation_zone})")] + [
            (zone, zone.replace("_", " ")) for zone in zones
        ]
        self.fields["time_zone"].widget.attrs["autocomplete"] = "off"


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's reset form, sending from a job, also for accounts created without a password.

    The view only queues ``accounts.password_reset_email``: looking the address up and sending
    inline would make the page answer measurably slower when the address has an account.
    A new organisation's first owner (and a member added without one) starts with an unusable
    password and sets it through this link; Django's own form skips them.
    """

    def get_users(self, email):
        from octopushx.accounts.models import User

        return (u for u in User.objects.filter(email__iexact=email, is_active=True) if u.email.lower() == email.lower())

    def save(self, *args, **kwargs) -> None:
        from octopushx.core import jobs, links

        # The link goes to the address the person is using, known here and not in the job.
        jobs.submit(
            "accounts.password_reset_email",
            payload={"email": self.cleaned_data["email"], "base_url": links.base_url()},
        )

    def send_reset_emails(self, base_url: str = "") -> int:
        """Email the reset link to each active account with this address (the job's part)."""
        from urllib.parse import urlsplit

        from octopushx.core import links
        from octopushx.tenancy import branding

        base_url = base_url or links.base_url()
        users = list(self.get_users(self.cleaned_data["email"]))
        base = urlsplit(base_url)
        # Asked on a reseller's verified domain: the email comes in that reseller's brand.
        brand = branding.for_host(base.netloc)
        super().save(
            domain_override=base.netloc,
            use_https=base.scheme == "https",
            subject_template_name="accounts/password_reset_subject.txt",
            email_template_name="accounts/password_reset_email.txt",
            from_email=brand.from_email,
            extra_email_context={"base_url": base_url, "product_name": brand.product_name},
        )
        return len(users)
