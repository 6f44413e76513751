"""Cookie consent on public pages: the visitor's choice, remembered in a signed cookie.

A value whose signature does not match (edited by hand, or signed with another key) is
ignored: the visitor is asked again and analytics stay off.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

COOKIE = "opx_consent"
SALT = "octopushx.cookie-consent"
MAX_AGE = 180 * 86400
CHOICES = ("essential", "analytics")


@dataclass(frozen=True)
class Consent:
    analytics: bool
    at: str


def read(request) -> Consent | None:
    """The visitor's remembered choice, or None (never chosen, expired or tampered with)."""
    raw = request.get_signed_cookie(COOKIE, default=None, salt=SALT, max_age=MAX_AGE)
    if raw is None:
        return None
    try:
        data = json.loads(raw)
        return Consent(analytics=data["analytics"] is True, at=str(data.get("at", "")))
    except (ValueError, TypeError, KeyError):
        return None


def remember(response, *, analytics: bool) -> None:
    value = json.dumps({"analytics": analytics, "at": timezone.now().isoformat(timespec="seconds")})
    response.set_signed_cookie(
        COOKIE,
        value,
        salt=SALT,
        max_age=MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
