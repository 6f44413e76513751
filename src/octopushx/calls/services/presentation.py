"""How a call reads to a person: its title, its numbers in the organisation's national format,
durations as m:ss and sentiment scores as labels (never raw machine values)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import phonenumbers
from django.utils import timezone

if TYPE_CHECKING:
    from octopushx.calls.models import Call

# The bands the list filter uses too (``filter_calls``): |score| below 0.05 reads as neutral.
SENTIMENT_BANDS = ((0.05, "Positive", "success"), (-0.05, "Neutral", "secondary"))
NEGATIVE = ("Negative", "danger")


def display_number(e164: str, region: str = "GB") -> str:
    """``+442079460013`` → ``020 7946 0013`` in a GB organisation; other countries' numbers
    (and any number in another organisation) in the international format."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, region or None)
    except phonenumbers.NumberParseException:
        return e164
    home = phonenumbers.country_code_for_region(region or "GB")
    style = phonenumbers.PhoneNumberFormat.NATIONAL if number.country_code == home else None
    return phonenumbers.format_number(number, style or phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def minutes_seconds(seconds: float | None) -> str:
    """``20.5`` → ``0:20``; ``3725`` → ``1:02:05``."""
    whole = int(max(seconds or 0, 0))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def sentiment_label(score: float | None) -> tuple[str, str]:
    """``(label, colour)`` of a score in -1..1: ``("Positive", "success")`` and so on."""
    if score is None:
        return "", ""
    for floor, label, colour in SENTIMENT_BANDS:
        if score >= floor:
            return label, colour
    return NEGATIVE


def call_moment(call: Call) -> str:
    """When the call happened (or arrived), in the site's time zone: ``25 Nov 03:39``."""
    moment = timezone.localtime(call.started_at or call.created_at)
    this_year = moment.year == timezone.localtime().year
    return moment.strftime("%-d %b %H:%M" if this_year else "%-d %b %Y %H:%M")


def customer_label(call: Call) -> str:
    """The matched contact's name, else the customer's number as people write it; empty if unknown.
    A restricted contact the viewer may not see (``contact_hidden``, set by the list) is not named."""
    if getattr(call, "contact_hidden", False):
        return "a restricted contact"
    if call.contact_id:
        return str(call.contact)
    return display_number(call.customer_number, call.tenant.default_region)


def call_title(call: Call) -> str:
    """``Inbound call from Jack Jones · 25 Nov 03:39``; without a contact or a number, only the
    direction and the time (never the uploaded file's name)."""
    direction = call.get_direction_display()
    who = customer_label(call)
    if who:
        who = f" {'from' if call.direction == 'inbound' else 'to'} {who}"
    return f"{direction} call{who} · {call_moment(call)}"
