"""Value rules shared by every write path (UI, API, import): emails, phones, custom fields.

Each ``clean_*`` returns the stored form of a value or raises ``ValueError`` with a message
meant for a person; callers attach the field name.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import nh3
import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email

from octopushx.crm.models import CustomField, FieldType

DIGITS = re.compile(r"\d")
NOTE_TAGS = {
    "p",
    "br",
    "strong",
    "b",
    "em",
    "i",
    "u",
    "s",
    "ul",
    "ol",
    "li",
    "a",
    "blockquote",
    "code",
    "pre",
    "h3",
    "h4",
}


def clean_email(value: Any) -> str:
    email = str(value or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValueError(f"{value!r} is not a valid email address")
    return email


def clean_phone(value: Any, region: str = "GB") -> str:
    """Any national or international format → E.164 (``+441632960123``)."""
    raw = str(value or "").strip()
    if not raw or len(DIGITS.findall(raw)) < 4:
        raise ValueError(f"{value!r} is not a valid phone number")
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    try:
        number = phonenumbers.parse(raw, region or "GB")
    except phonenumbers.NumberParseException:
        raise ValueError(f"{value!r} is not a valid phone number")
    # Checking the tenant's own region first skips the search over regions sharing a country code.
    home = phonenumbers.country_code_for_region(region or "GB")
    valid = (number.country_code == home and phonenumbers.is_valid_number_for_region(number, region or "GB")) or (
        phonenumbers.is_valid_number(number)
    )
    if not valid:
        raise ValueError(f"{value!r} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_query(text: str, region: str = "GB") -> tuple[str | None, str]:
    """For search: the E.164 form if ``text`` is a whole number, and its bare digits."""
    digits = "".join(DIGITS.findall(text))
    try:
        e164 = clean_phone(text, region)
    except ValueError:
        e164 = None
    return e164, digits


def display_phone(e164: str) -> str:
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return e164


CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$", "JPY": "¥", "INR": "₹"}


def display_money(value: Decimal | int | str | None, currency: str) -> str:
    """An amount as people read it: "£12,500", "£12,500.50", "CHF 1,200" (no ".00" on whole amounts)."""
    amount = Decimal(str(value or 0))
    text = f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"
    sign, text = ("-", text[1:]) if text.startswith("-") else ("", text)
    symbol = CURRENCY_SYMBOLS.get((currency or "").upper())
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{currency} {text}".strip()


def clean_url(value: Any) -> str:
    url = str(value or "").strip()
    if url and "://" not in url:
        url = "https://" + url
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise ValueError(f"{value!r} is not a valid URL")
    return url


def clean_number(value: Any) -> str:
    if isinstance(value, bool):
        raise ValueError("Enter a number")
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        raise ValueError(f"{value!r} is not a number")
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a number")
    return str(number)


def clean_date(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise ValueError(f"{value!r} is not a date (use YYYY-MM-DD)")


def clean_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "y", "on"}:
        return True
    if text in {"0", "false", "no", "n", "off", ""}:
        return False
    raise ValueError(f"{value!r} is not yes or no")


def sanitize_html(html: str) -> str:
    """Rich text kept safe: a small allow-list of tags, no scripts, styles or event handlers."""
    return nh3.clean(html or "", tags=NOTE_TAGS, attributes={"a": {"href", "title"}}, link_rel="noopener noreferrer")


def clean_custom_value(field: CustomField, value: Any, region: str = "GB") -> Any:
    kind = field.field_type
    if kind in (FieldType.TEXT, FieldType.LONG_TEXT):
        text = str(value).strip()
        limit = 255 if kind == FieldType.TEXT else 20000
        if len(text) > limit:
            raise ValueError(f"At most {limit} characters")
        return text
    if kind in (FieldType.NUMBER, FieldType.CURRENCY):
        return clean_number(value)
    if kind == FieldType.DATE:
        return clean_date(value)
    if kind == FieldType.BOOLEAN:
        return clean_bool(value)
    if kind == FieldType.SELECT:
        if str(value) not in field.options:
            raise ValueError(f"{value!r} is not one of the options: {', '.join(field.options)}")
        return str(value)
    if kind == FieldType.MULTI_SELECT:
        values = value if isinstance(value, (list, tuple)) else [v.strip() for v in str(value).split(";") if v.strip()]
        unknown = [str(v) for v in values if str(v) not in field.options]
        if unknown:
            raise ValueError(f"{', '.join(unknown)} not in the options: {', '.join(field.options)}")
        return [str(v) for v in values]
    if kind == FieldType.URL:
        return clean_url(value)
    if kind == FieldType.EMAIL:
        return clean_email(value)
    if kind == FieldType.PHONE:
        return clean_phone(value, region)
    raise ValueError(f"Unknown field type {kind!r}")


def clean_custom(
    definitions: dict[str, CustomField],
    values: dict[str, Any] | None,
    *,
    region: str = "GB",
    partial: bool = False,
    existing: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Validate ``values`` against the tenant's definitions; returns the merged, cleaned dict.

    Errors are keyed ``custom_fields.<key>``. ``None`` or ``""`` clears a value.
    """
    if values is not None and not isinstance(values, dict):
        raise ValidationError({"custom_fields": ["Send an object of field keys and values"]})
    cleaned = dict(existing or {}) if partial else {}
    errors: dict[str, list[str]] = {}
    for key, value in (values or {}).items():
        field = definitions.get(key)
        if field is None:
            errors[f"custom_fields.{key}"] = [f"Unknown custom field {key!r}"]
            continue
        if value is None or value == "" or value == []:
            cleaned.pop(key, None)
            continue
        try:
            cleaned[key] = clean_custom_value(field, value, region)
        except ValueError as exc:
            errors[f"custom_fields.{key}"] = [str(exc)]
    for key, field in definitions.items():
        if field.required and key not in cleaned and f"custom_fields.{key}" not in errors:
            errors[f"custom_fields.{key}"] = [f"{field.label} is required"]
    if errors:
        raise ValidationError(errors)
    return cleaned
