"""Money as ``Decimal`` in each currency's minor unit: pence for GBP, whole yen for JPY.

Prices the operator types must fit the currency's minor unit exactly (``15.001`` GBP is refused,
never silently rounded); computed amounts are rounded half-up per line with ``round_line``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# ISO 4217 minor-unit exponents of the currencies the catalogue accepts.
MINOR_UNITS: dict[str, int] = {"GBP": 2, "EUR": 2, "USD": 2, "CHF": 2, "SEK": 2, "AUD": 2, "CAD": 2, "JPY": 0}
DEFAULT_CURRENCY = "GBP"
MAX_AMOUNT = Decimal("1000000")


def minor_unit(currency: str) -> Decimal:
    """The smallest amount of ``currency``: ``Decimal("0.01")`` for GBP, ``Decimal("1")`` for JPY."""
    return Decimal(1).scaleb(-MINOR_UNITS[currency])


def parse_price(value: object, currency: str) -> Decimal:
    """A price typed by a person, checked against the currency; ``ValueError`` says what is wrong."""
    if currency not in MINOR_UNITS:
        raise ValueError(f"Unknown currency {currency!r}; use one of {', '.join(sorted(MINOR_UNITS))}")
    if isinstance(value, float):
        value = repr(value)  # 15.1 -> "15.1", not its binary expansion
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValueError(f"{value!r} is not an amount")
    if not amount.is_finite():
        raise ValueError(f"{value!r} is not an amount")
    if amount < 0:
        raise ValueError("A price cannot be negative")
    if amount > MAX_AMOUNT:
        raise ValueError(f"A price is at most {MAX_AMOUNT} {currency}")
    unit = minor_unit(currency)
    if amount != amount.quantize(unit):
        places = MINOR_UNITS[currency]
        raise ValueError(f"{currency} amounts have {places} decimal place{'s' if places != 1 else ''} at most")
    return amount.quantize(unit)


def round_line(amount: Decimal, currency: str) -> Decimal:
    """Round a computed line amount half-up to the currency's minor unit."""
    return amount.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


def format_amount(amount: Decimal, currency: str) -> str:
    """The amount as a decimal string with exactly the currency's places (``"15.00"``)."""
    return str(amount.quantize(minor_unit(currency)))
