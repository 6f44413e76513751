"""New customer organisations start their trial (with billing on) the moment they are created."""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver

from octopushx.billing import services
from octopushx.core.context import Actor
from octopushx.tenancy.models import Organization


@receiver(post_save, sender=Organization, dispatch_uid="billing.trial_for_new_customer")
def trial_for_new_customer(sender, instance: Organization, created: bool, raw: bool = False, **kwargs):
    if created and not raw and services.enabled() and services.is_billed(instance):
        services.start_trial(instance, Actor.system("billing"))
