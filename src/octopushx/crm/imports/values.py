"""What a value found in a file stands for: choice options (with the values HubSpot, Pipedrive and
Salesforce export), country names and dates."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from functools import cache

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from octopushx.crm.models import Consent, CustomField, FieldType, LawfulBasis, LeadStatus, Lifecycle

CHOICES = {"lifecycle_stage": Lifecycle, "lead_status": LeadStatus, "consent": Consent, "lawful_basis": LawfulBasis}

# Known exports' values (compared folded: lower case, letters and digits only). Our own values and
# labels are always recognised; these are the others'.
ALIASES: dict[str, dict[str, str]] = {
    "lifecycle_stage": {
        # HubSpot internal values (its labels fold to the same words as ours)
        "marketingqualifiedlead": "mql",
        "salesqualifiedlead": "sql",
        # Pipedrive person labels
        "hotlead": "sql",
        "warmlead": "mql",
        "coldlead": "lead",
        # Salesforce account/contact types
        "prospect": "lead",
        "customerdirect": "customer",
        "customerchannel": "customer",
        "channelpartnerreseller": "other",
        "installationpartner": "other",
        "technologypartner": "other",
    },
    "lead_status": {
        # HubSpot
        "opendeal": "in_progress",
        "attemptedtocontact": "in_progress",
        # Salesforce lead statuses (classic and current defaults)
        "opennotcontacted": "open",
        "workingcontacted": "in_progress",
        "working": "in_progress",
        "nurturing": "open",
        "qualified": "connected",
        "closedconverted": "connected",
        "closednotconverted": "unqualified",
        # Pipedrive lead labels
        "hot": "connected",
        "warm": "in_progress",
        "cold": "open",
    },
    "consent": {
        "yes": "granted",
        "true": "granted",
        "optedin": "granted",
        "subscribed": "granted",
        "no": "withdrawn",
        "false": "withdrawn",
        "optedout": "withdrawn",
        "unsubscribed": "withdrawn",
    },
    "lawful_basis": {"legitimateinterest": "legitimate_interests"},
}

COUNTRY_ALIASES = {
    "uk": "GB",
    "greatbritain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northernireland": "GB",
    "unitedkingdomofgreatbritainandnorthernireland": "GB",
    "usa": "US",
    "unitedstatesofamerica": "US",
    "america": "US",
    "uae": "AE",
    "southkorea": "KR",
    "korearepublicof": "KR",
    "russia": "RU",
    "russianfederation": "RU",
    "czechrepublic": "CZ",
    "holland": "NL",
    "thenetherlands": "NL",
    "vietnam": "VN",
    "turkey": "TR",
    "ivorycoast": "CI",
}


def fold(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", str(text).lower())


def options_for(target: str, custom: dict[str, CustomField]) -> list[tuple[str, str]] | None:
    """The options of a choice field (value, label), or ``None`` when the field is not a choice."""
    if target in CHOICES:
        return [(value, label) for value, label in CHOICES[target].choices if value]
    if target.startswith("cf."):
        field = custom.get(target[3:])
        if field is not None and field.field_type in (FieldType.SELECT, FieldType.MULTI_SELECT):
            return [(option, option) for option in field.options]
    return None


def suggest(target: str, value: str, options: list[tuple[str, str]]) -> str | None:
    """The option a value stands for, when it is one of ours or a known export's; ``None`` otherwise."""
    wanted = fold(value)
    for option, label in options:
        if wanted in (fold(option), fold(label)):
            return option
    alias = ALIASES.get(target, {}).get(wanted)
    if alias is not None and alias in {option for option, _label in options}:
        return alias
    return None


@cache
def _countries() -> dict[str, str]:
    import phonenumbers
    from phonenumbers.geocoder import _region_display_name

    names = {}
    for region in phonenumbers.SUPPORTED_REGIONS:
        name = _region_display_name(region, "en")
        if name:
            names[fold(name)] = region
        names[fold(region)] = region
    names.update(COUNTRY_ALIASES)
    return names


def country_code(value: str) -> str:
    """A two-letter code from a code or an English country name ("United Kingdom", "USA")."""
    found = _countries().get(fold(value))
    if found is None:
        raise ValueError(f"{value!r} is not a country we know: use a two-letter code such as GB")
    return found


DATE_FORMATS = ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y")
SLASHED = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?$")


def parse_moment(value: str, region: str = "GB") -> datetime:
    """A date or date and time as exports write them: ISO 8601, ``YYYY-MM-DD HH:MM``, or
    ``D/M/YYYY`` (``M/D/YYYY`` when the organisation's region is the US, or when the day shows it).
    A time without a zone is UTC."""
    text = value.strip()
    moment = parse_datetime(text.replace(" ", "T", 1)) if len(text) > 10 else None
    if moment is None:
        try:
            moment = datetime.combine(date.fromisoformat(text[:10]), time()) if len(text) == 10 else None
        except ValueError:
            moment = None
    if moment is None:
        match = SLASHED.match(text)
        if match:
            first, second, year = int(match[1]), int(match[2]), int(match[3])
            day, month = (second, first) if (region == "US" and second <= 31 and first <= 12) else (first, second)
            if month > 12 and day <= 12:
                day, month = month, day
            hour = int(match[4] or 0)
            if match[7]:
                hour = hour % 12 + (12 if match[7].lower() == "pm" else 0)
            try:
                moment = datetime(year, month, day, hour, int(match[5] or 0), int(match[6] or 0))
            except ValueError:
                moment = None
    if moment is None:
        for pattern in DATE_FORMATS:
            try:
                moment = datetime.strptime(text, pattern)
                break
            except ValueError:
                continue
    if moment is None:
        raise ValueError(f"{value!r} is not a date we can read: use YYYY-MM-DD or YYYY-MM-DD HH:MM")
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    if moment > timezone.now() + timedelta(days=1):
        raise ValueError(f"{value!r} is in the future")
    return moment
