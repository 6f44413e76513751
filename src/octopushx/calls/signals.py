"""Every new organisation starts with the shipped trackers (competitors, cancellation intent,
pricing, complaint, legal threat); organisations that existed before got them from migration
``calls.0006_trackers_defaults``."""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver

from octopushx.calls.services import trackers
from octopushx.tenancy.models import Organization


@receiver(post_save, sender=Organization, dispatch_uid="calls.default_trackers")
def default_trackers(sender, instance: Organization, created: bool, raw: bool = False, **kwargs):
    if created and not raw:
        trackers.ensure_default_trackers(instance)
