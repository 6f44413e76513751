"""``{% cookie_consent as consent %}`` and ``{% analytics_script as src %}`` for the base layout."""

from __future__ import annotations

from django import template
from django.conf import settings

from octopushx.shield.legal import consent as cookie_consent_store

register = template.Library()


@register.simple_tag(takes_context=True)
def cookie_consent(context):
    request = context.get("request")
    return cookie_consent_store.read(request) if request is not None else None


@register.simple_tag
def analytics_script() -> str:
    return getattr(settings, "ANALYTICS_SCRIPT_URL", "") or ""
