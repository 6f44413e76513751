"""Keeps each browser session's last-seen time, and signs out sessions revoked elsewhere."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from octopushx.accounts.models import UserSession
from octopushx.core.context import client_ip


class SessionTrackingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated and request.session.session_key:
            now = timezone.now()
            UserSession.objects.filter(
                session_key=request.session.session_key, last_seen_at__lt=now - timedelta(minutes=1)
            ).update(last_seen_at=now, ip=client_ip(request))
        return self.get_response(request)
