"""Hooks into sign-in (session limit) and into membership/invitation creation (seats)."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import pre_save
from django.dispatch import receiver

from octopushx.core.context import client_ip
from octopushx.shield.seats import services
from octopushx.tenancy.models import Invitation, Membership


@receiver(user_logged_in, dispatch_uid="shield.session_limit")
def limit_sessions(sender, request, user, **kwargs):
    if request is None or not hasattr(request, "session"):
        return
    services.enforce_session_limit(user, request.session.session_key, client_ip(request))


@receiver(pre_save, sender=Membership, dispatch_uid="shield.seat_for_member")
def seat_for_member(sender, instance: Membership, **kwargs):
    if instance._state.adding:
        services.check_seat_available(instance.tenant, invitation_email=instance.user.email)


@receiver(pre_save, sender=Invitation, dispatch_uid="shield.seat_for_invitation")
def seat_for_invitation(sender, instance: Invitation, **kwargs):
    if instance._state.adding:
        services.check_seat_available(instance.tenant)
