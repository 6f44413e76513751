"""Runs the detectors on each new audit entry, once its personal part (IP, changes) exists."""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver

from octopushx.core.models import AuditPersonal
from octopushx.shield.monitoring import detectors
from octopushx.shield.monitoring import services as _services  # noqa: F401 (job handler)


@receiver(post_save, sender=AuditPersonal, dispatch_uid="shield.security_detectors")
def detect(sender, instance: AuditPersonal, created: bool, **kwargs):
    if created and detectors.detectors_for(instance.entry.action):
        detectors.run(instance)
