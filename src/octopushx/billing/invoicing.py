"""Invoices as a pure function: (timeline, catalogue, usage, customer, period) -> lines and totals.

No ORM, no settings, no clock: the same inputs give the same invoice, byte for byte
(``Computed.canonical()``). What is sold on a day is read from the subscription's timeline (each
row the whole state from its ``effective_on``), priced from the catalogue version that state names.

Proration (README, "Invoices"): a period of ``N`` days is charged at the state in force on its
first day. An upgrade effective on day ``d`` (1 = the first day) charges the difference in the
period price for the rest of the period: ``difference × (N − d + 1) / N``, rounded half-up to
the minor unit. Downgrades and removals are not credited: the period keeps what was charged, and
the next period starts at the lower state. Each component (the plan's seats, each add-on) keeps
the highest level charged in the period, so going down and up again charges only what is new.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from octopushx.billing.money import MINOR_UNITS, round_line

ISSUER_COUNTRY = "GB"
DEFAULT_TAX_RATES: dict[str, Decimal] = {"GB": Decimal("20")}  # UK VAT, unless the operator sets another


@dataclass(frozen=True)
class Line:
    kind: str  # plan | addon | proration | overage
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal


@dataclass(frozen=True)
class Customer:
    name: str
    country: str = "GB"
    business: bool = False
    vat_number: str = ""


@dataclass(frozen=True)
class TaxRule:
    rate: Decimal  # percent
    label: str  # what the invoice says about the rule that applied


@dataclass(frozen=True)
class Computed:
    currency: str
    period_start: date
    period_end: date  # the last day of the period
    catalogue_version: int
    lines: tuple[Line, ...]
    subtotal: Decimal
    tax_rate: Decimal
    tax_rule: str
    tax: Decimal
    total: Decimal
    customer: Customer = field(default_factory=lambda: Customer(""))

    def canonical(self) -> str:
        """The invoice as canonical JSON (sorted keys, decimals as strings): equal inputs, equal bytes."""
        return json.dumps(asdict(self), sort_keys=True, default=str, separators=(",", ":"), ensure_ascii=False)


def tax_rule(customer: Customer, rates: dict[str, Decimal], issuer_country: str = ISSUER_COUNTRY) -> TaxRule:
    """Which tax applies: reverse charge for a business abroad with a VAT number, else its country's rate."""
    country = (customer.country or issuer_country).upper()
    if customer.business and customer.vat_number.strip() and country != issuer_country:
        return TaxRule(
            Decimal("0"),
            f"Reverse charge: the customer accounts for VAT (VAT number {customer.vat_number.strip()}, {country})",
        )
    known = {**DEFAULT_TAX_RATES, **rates}
    if country in known:
        rate = Decimal(known[country])
        return TaxRule(rate, f"VAT {_percent(rate)} % ({country})")
    rate = Decimal(known.get(issuer_country, 0))
    return TaxRule(rate, f"VAT {_percent(rate)} % ({issuer_country} rate: no rate set for {country})")


def _percent(rate: Decimal) -> str:
    return format(rate.normalize(), "f")


def period_days(start: date, end: date) -> int:
    return (end - start).days + 1


def _price(item: dict[str, Any], currency: str, interval: str) -> Decimal | None:
    value = item.get("prices", {}).get(currency, {}).get(interval)
    return Decimal(value) if value is not None else None


def _components(
    state: dict[str, Any], catalogue: dict[str, Any], currency: str, interval: str
) -> dict[str, tuple[str, Decimal, Decimal]]:
    """What ``state`` costs for a whole period: component -> (description, quantity, unit price)."""
    plans = {p["slug"]: p for p in catalogue["plans"]}
    addons = {a["slug"]: a for a in catalogue["addons"]}
    plan = plans[state["plan"]]
    seats = int(state["seats"])
    seat_price = _price(plan, currency, interval) or Decimal(0)
    out = {"plan": (f"{plan['name']} plan, per seat", Decimal(seats), seat_price)}
    for slug in sorted(state.get("addons") or {}):
        quantity = int(state["addons"][slug])
        addon = addons.get(slug)
        if addon is None or plan["slug"] in addon.get("included_in", []):
            continue
        if addon["pricing"] == "plan_seat":
            out[f"addon:{slug}"] = (f"{addon['name']} (at the plan's seat price)", Decimal(quantity), seat_price)
        elif addon["pricing"] == "per_seat":
            price = _price(addon, currency, interval) or Decimal(0)
            out[f"addon:{slug}"] = (f"{addon['name']}, per seat", Decimal(seats * quantity), price)
        else:
            price = _price(addon, currency, interval) or Decimal(0)
            out[f"addon:{slug}"] = (addon["name"], Decimal(quantity), price)
    return out


def included_minutes(state: dict[str, Any], catalogue: dict[str, Any], months: int) -> Decimal:
    """Transcription minutes a state includes over ``months``: the plan's per seat, plus minute packs."""
    plans = {p["slug"]: p for p in catalogue["plans"]}
    addons = {a["slug"]: a for a in catalogue["addons"]}
    per_month = int(plans[state["plan"]]["included_minutes_per_seat"]) * int(state["seats"])
    for slug, quantity in (state.get("addons") or {}).items():
        per_month += int(addons.get(slug, {}).get("minutes", 0)) * int(quantity)
    return Decimal(per_month * months)


def overage_rate(catalogue: dict[str, Any], currency: str) -> tuple[str, Decimal] | None:
    """The price of one minute over the plan: the first minutes pack's monthly price over its minutes."""
    for addon in catalogue["addons"]:
        price = _price(addon, currency, "month")
        if addon.get("minutes") and addon.get("pricing") == "flat" and price is not None:
            return addon["name"], price / Decimal(addon["minutes"])
    return None


def _long_date(day: date) -> str:
    return f"{day.day} {day.strftime('%B %Y')}"


def compute(
    *,
    timeline: list[tuple[date, dict[str, Any]]],
    catalogues: dict[int, dict[str, Any]],
    usage: dict[str, Decimal],
    customer: Customer,
    tax_rates: dict[str, Decimal],
    period_start: date,
    period_end: date,
) -> Computed:
    """The invoice of the period from ``period_start`` to ``period_end`` (its last day).

    ``timeline``: (effective_on, state) in order; ``catalogues``: catalogue snapshots by version
    number (each state names its version); ``usage``: metric -> total in the period.
    """
    ordered = sorted(timeline, key=lambda row: row[0])  # stable: same-day rows keep their order
    before = [state for day, state in ordered if day <= period_start]
    if not before:
        raise ValueError("The timeline has no state on the period's first day")
    start_state = before[-1]
    currency, interval = start_state["currency"], start_state["interval"]
    if currency not in MINOR_UNITS:
        raise ValueError(f"Unknown currency {currency!r}")
    days = period_days(period_start, period_end)
    months = 12 if interval == "year" else 1
    start_catalogue = catalogues[int(start_state["catalogue_version"])]

    lines: list[Line] = []
    charged: dict[str, Decimal] = {}  # component -> the highest period price charged so far
    for key, (description, quantity, unit_price) in _components(
        start_state, start_catalogue, currency, interval
    ).items():
        amount = round_line(quantity * unit_price, currency)
        charged[key] = quantity * unit_price
        lines.append(Line("plan" if key == "plan" else "addon", description, quantity, unit_price, amount))

    highest_minutes = included_minutes(start_state, start_catalogue, months)
    last_catalogue = start_catalogue
    for day, state in ordered:
        if not period_start < day <= period_end:
            continue
        catalogue = catalogues[int(state["catalogue_version"])]
        last_catalogue = catalogue
        highest_minutes = max(highest_minutes, included_minutes(state, catalogue, months))
        d = (day - period_start).days + 1
        remaining = days - d + 1
        for key, (description, quantity, unit_price) in _components(state, catalogue, currency, interval).items():
            value = quantity * unit_price
            difference = value - charged.get(key, Decimal(0))
            if difference <= 0:
                continue  # not an upgrade of this component: nothing until the next period
            charged[key] = value
            amount = round_line(difference * remaining / days, currency)
            text = (
                f"{description} × {quantity.normalize():f} from {_long_date(day)} "
                f"({remaining} of {days} days of {difference:f} {currency})"
            )
            lines.append(Line("proration", text, Decimal(1), amount, amount))

    plans = {p["slug"]: p for p in last_catalogue["plans"]}
    end_state = [state for d, state in ordered if d <= period_end][-1]
    used = Decimal(usage.get("transcription_minutes") or 0)
    rate = overage_rate(last_catalogue, currency)
    if plans[end_state["plan"]].get("overage_allowed") and rate is not None and used > highest_minutes:
        over = Decimal(math.ceil(used - highest_minutes))
        lines.append(
            Line(
                "overage",
                f"Transcription minutes over the {highest_minutes.normalize():f} included "
                f"({used.normalize():f} used; at the {rate[0]} rate)",
                over,
                rate[1],
                round_line(over * rate[1], currency),
            )
        )

    subtotal = sum((line.amount for line in lines), Decimal(0))
    rule = tax_rule(customer, tax_rates)
    tax = (subtotal * rule.rate / 100).quantize(Decimal(1).scaleb(-MINOR_UNITS[currency]), rounding=ROUND_HALF_UP)
    return Computed(
        currency=currency,
        period_start=period_start,
        period_end=period_end,
        catalogue_version=int(start_state["catalogue_version"]),
        lines=tuple(lines),
        subtotal=subtotal,
        tax_rate=rule.rate,
        tax_rule=rule.label,
        tax=tax,
        total=subtotal + tax,
        customer=customer,
    )


def with_retail_prices(catalogue: dict[str, Any], book: dict[str, Any] | None, currency: str) -> dict[str, Any]:
    """The catalogue snapshot with a reseller's retail prices in ``currency`` in place of list prices.

    ``book`` is ``{"plans": {slug: {interval: "amount"}}, "addons": {...}}``; what it leaves out
    keeps its list price. Extra seats priced at the plan's seat price follow the retail seat price,
    and the overage rate follows the retail minutes pack, because ``compute`` reads both from here.
    """
    if not book:
        return catalogue
    out = {"plans": [], "addons": []}
    for kind in ("plans", "addons"):
        retail = book.get(kind) or {}
        for item in catalogue[kind]:
            own = retail.get(item["slug"])
            if own:
                prices = {code: dict(by_interval) for code, by_interval in item.get("prices", {}).items()}
                prices.setdefault(currency, {}).update({interval: str(amount) for interval, amount in own.items()})
                item = {**item, "prices": prices}
            out[kind].append(item)
    return out


def add_months(day: date, months: int, anchor_day: int | None = None) -> date:
    """``day`` moved by ``months``, on ``anchor_day`` (or the month's last day when it is shorter)."""
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    month += 1
    following = date(year + (month == 12), month % 12 + 1, 1)
    last = (following - date.resolution).day
    return date(year, month, min(anchor_day or day.day, last))


def periods(anchor: date, interval: str, until: date) -> list[tuple[date, date]]:
    """Billing periods (first day, last day) from ``anchor`` whose last day is before ``until``."""
    step = 12 if interval == "year" else 1
    out: list[tuple[date, date]] = []
    n = 0
    while True:
        start = add_months(anchor, n * step, anchor.day)
        end = add_months(anchor, (n + 1) * step, anchor.day) - date.resolution
        if end >= until:
            return out
        out.append((start, end))
        n += 1


def period_containing(anchor: date, interval: str, day: date) -> tuple[date, date]:
    """The billing period (first day, last day) that ``day`` falls in (the trial counts from its start)."""
    if day < anchor:
        return day, anchor - date.resolution
    done = periods(anchor, interval, day)
    start = add_months(anchor, len(done) * (12 if interval == "year" else 1), anchor.day)
    return start, add_months(start, 12 if interval == "year" else 1, anchor.day) - date.resolution
