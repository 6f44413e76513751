"""Template filters for the calls pages: m:ss durations, sentiment labels, national numbers."""

from __future__ import annotations

from django import template

from octopushx.calls.services import presentation

register = template.Library()


@register.filter
def mmss(seconds) -> str:
    """``20.5`` → ``0:20``."""
    try:
        return presentation.minutes_seconds(float(seconds))
    except (TypeError, ValueError):
        return ""


@register.filter
def sentiment_label(score) -> str:
    """``0.18`` → ``Positive``."""
    return presentation.sentiment_label(score)[0] if score is not None else ""


@register.filter
def sentiment_colour(score) -> str:
    """The Tabler colour of a score's badge: ``success``, ``secondary`` or ``danger``."""
    return presentation.sentiment_label(score)[1] if score is not None else ""


@register.filter
def phone(e164: str, region: str = "GB") -> str:
    """``+442079460013`` → ``020 7946 0013`` for a GB organisation."""
    return presentation.display_number(e164 or "", region)


@register.filter
def person(user) -> str:
    """A member's display name (never the email address when a name exists)."""
    if user is None:
        return ""
    return getattr(user, "display_name", "") or str(user)


@register.filter
def customer(call) -> str:
    """The call's contact or the customer's number as people write it ("" when neither is known)."""
    return presentation.customer_label(call)
