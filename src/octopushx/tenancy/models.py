"""Organisations (platform → reseller → customer), teams, memberships and invitations."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from octopushx.tenancy.roles import Role


class OrgKind(models.TextChoices):
    PLATFORM = "platform", "Platform"
    RESELLER = "reseller", "Reseller"
    CUSTOMER = "customer", "Customer"


class WeekStart(models.TextChoices):
    """The first day of the week in reports (weekly buckets, "this week"); Python's weekday numbers below."""

    MONDAY = "monday", "Monday"
    SUNDAY = "sunday", "Sunday"
    SATURDAY = "saturday", "Saturday"


WEEKDAY_NUMBER = {WeekStart.MONDAY: 0, WeekStart.SATURDAY: 5, WeekStart.SUNDAY: 6}


class Organization(models.Model):
    """A node in the organisation tree. Customer organisations are the tenants that own data."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=16, choices=OrgKind.choices, default=OrgKind.CUSTOMER)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    name = models.CharField(max_length=200)
    brand_name = models.CharField(max_length=200, blank=True, help_text="White-label product name")
    brand_color = models.CharField(max_length=7, blank=True, default="")
    default_region = models.CharField(max_length=2, default="GB")
    time_zone = models.CharField(
        max_length=64, default="Europe/London", help_text="IANA name: schedules, working hours"
    )
    week_start = models.CharField(
        max_length=8, choices=WeekStart.choices, default=WeekStart.MONDAY, help_text="First day of the week in reports"
    )
    require_2fa = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspension_reason = models.CharField(max_length=64, blank=True)
    suspension_note = models.TextField(blank=True)
    # Raised by ``tenancy.config.changed`` with the configuration it stands for; never written by ``save()``.
    config_version = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        """A save of an organisation read earlier must not put back an older ``config_version``."""
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                f.name for f in self._meta.concrete_fields if not f.primary_key and f.name != "config_version"
            ]
        super().save(*args, **kwargs)

    @property
    def is_active(self) -> bool:
        return self.deleted_at is None

    def ancestors(self) -> list[Organization]:
        chain, node = [], self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain

    def is_descendant_of(self, other: Organization) -> bool:
        return any(a.pk == other.pk for a in self.ancestors())

    @property
    def brand(self) -> str:
        """The product name this organisation's people see (a customer's: its reseller's brand)."""
        from octopushx.tenancy import branding

        return branding.for_organization(self).product_name

    @property
    def from_email(self) -> str:
        """The From header of emails to this organisation's people and contacts (in its brand)."""
        from octopushx.tenancy import branding

        return branding.for_organization(self).from_email

    @property
    def accent(self) -> str:
        for org in [self, *self.ancestors()]:
            if org.brand_color:
                return org.brand_color
        return "#0f766e"


class Team(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=120)

    class Meta:
        unique_together = [("tenant", "name")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL)
    extension = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        unique_together = [("tenant", "user")]
        ordering = ["user__email"]

    def __str__(self) -> str:
        return f"{self.user} @ {self.tenant} ({self.role})"


class Invitation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} as {self.role}"

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()


class Brand(models.Model):
    """The white-label brand of a reseller (or the platform's default): what its customers see.

    The product name and the colour stay on the organisation (``brand_name``, ``brand_color``)
    so the organisation profile and the brand edit one value; this row holds the rest.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="brand_record")
    logo = models.ForeignKey("core.Blob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    favicon = models.ForeignKey("core.Blob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    support_email = models.EmailField(blank=True)
    support_url = models.URLField(max_length=300, blank=True)
    sender_name = models.CharField(max_length=100, blank=True)
    sender_email = models.EmailField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"brand of {self.tenant_id}"


class BrandDomain(models.Model):
    """A custom domain of a brand; served in that brand once its DNS TXT record is verified."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="brand_domains")
    domain = models.CharField(max_length=253, unique=True)
    token = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain

    @property
    def record_name(self) -> str:
        return f"{VERIFY_PREFIX}.{self.domain}"

    @property
    def record_value(self) -> str:
        return f"{VERIFY_VALUE_PREFIX}{self.token}"


VERIFY_PREFIX = "_brand-verify"
VERIFY_VALUE_PREFIX = "brand-verify="


class SupportGrant(models.Model):
    """A customer's owner lets its reseller's admins in, for support, until ``expires_at``.

    While a grant is live (not revoked, not expired) a reseller owner or admin may switch into
    the customer (as an admin); afterwards the switch is refused and a session inside ends.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="support_grants")
    reseller = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"support access to {self.tenant_id} until {self.expires_at:%Y-%m-%d %H:%M}"

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()
