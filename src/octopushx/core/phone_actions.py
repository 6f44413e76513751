"""Actions beside a phone number wherever a page shows one (telephony's call button), registered from above.

A product's ``phone_actions.py`` (autodiscovered) registers ``fn(request, e164, contact_id) -> str``:
the HTML of its action for that number, or "" (not for this member or organisation). So the CRM
and the call pages show a call button without importing telephony.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import phonenumbers
from django.utils.html import format_html, format_html_join
from django.utils.module_loading import autodiscover_modules
from django.utils.safestring import SafeString, mark_safe

_ACTIONS: dict[str, Callable] = {}
_discovered = False


def action(fn: Callable) -> Callable:
    """Register ``fn(request, e164, contact_id) -> str`` (HTML, already escaped) as a phone-number action."""
    _ACTIONS[f"{fn.__module__}.{fn.__qualname__}"] = fn
    return fn


def _discover() -> None:
    global _discovered
    if not _discovered:
        autodiscover_modules("phone_actions")
        _discovered = True


def display(e164: str) -> str:
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return e164


def actions(request, e164: str, contact_id=None) -> SafeString:
    """The registered actions for the number (HTML), without the number."""
    _discover()
    if request is None or not e164:
        return mark_safe("")
    return mark_safe("".join(fn(request, e164, contact_id) or "" for fn in _ACTIONS.values()))  # noqa: S308


def render(request, e164: str, contact_id=None) -> SafeString:
    """The number as people read it, followed by the registered actions for it."""
    shown = format_html('<span class="phone-number">{}</span>', display(e164))
    extra = actions(request, e164, contact_id)
    return format_html('<span class="phone-with-actions">{}{}</span>', shown, extra) if extra else shown


def render_many(request, numbers: Iterable[str], contact_id=None) -> SafeString:
    """Several numbers, one per line, each with its actions."""
    return format_html_join(mark_safe("<br>"), "{}", ((render(request, n, contact_id),) for n in numbers if n))
