"""The catalogue: read the current version, publish a new one, and the default the migration seeds.

A catalogue version is handled as a plain snapshot (``{"plans": [...], "addons": [...]}`` with
prices as decimal strings). Publishing copies the current snapshot, applies one change, checks
the whole result and writes it as the next version in one transaction; existing versions and the
subscriptions on them are never touched (grandfathering).
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from octopushx.billing import clock, money
from octopushx.billing.models import AddOn, CatalogueVersion, Interval, Plan, Price, Pricing
from octopushx.core import audit
from octopushx.core.context import Actor
from octopushx.tenancy.models import Membership, OrgKind
from octopushx.tenancy.roles import Role

# Feature keys a plan or add-on may grant, with the name people read.
FEATURES: dict[str, str] = {
    "calls": "Calls",
    "reports": "Reports",
    "studio": "Studio",
    "shield_advanced": "Advanced Shield",
}
ANNUAL_MONTHS = 10  # an annual price is ten monthly ones unless the operator says otherwise

DEFAULT_CATALOGUE: dict[str, Any] = {
    "plans": [
        {
            "slug": "starter",
            "name": "Starter",
            "features": ["calls", "reports"],
            "included_minutes_per_seat": 100,
            "min_seats": 1,
            "max_seats": None,
            "overage_allowed": False,
            "prices": {"GBP": {"month": "15.00", "year": "150.00"}},
        },
        {
            "slug": "team",
            "name": "Team",
            "features": ["calls", "reports"],
            "included_minutes_per_seat": 500,
            "min_seats": 1,
            "max_seats": None,
            "overage_allowed": True,
            "prices": {"GBP": {"month": "35.00", "year": "350.00"}},
        },
        {
            "slug": "enterprise",
            "name": "Enterprise",
            "features": ["calls", "reports", "studio", "shield_advanced"],
            "included_minutes_per_seat": 2000,
            "min_seats": 1,
            "max_seats": None,
            "overage_allowed": True,
            "prices": {"GBP": {"month": "60.00", "year": "600.00"}},
        },
    ],
    "addons": [
        {
            "slug": "minutes_1000",
            "name": "1,000 transcription minutes",
            "pricing": Pricing.FLAT,
            "features": [],
            "included_in": [],
            "minutes": 1000,
            "storage_gb": 0,
            "seats": 0,
            "max_quantity": 100,
            "prices": {"GBP": {"month": "20.00", "year": "200.00"}},
        },
        {
            "slug": "studio",
            "name": "Studio",
            "pricing": Pricing.PER_SEAT,
            "features": ["studio"],
            "included_in": ["enterprise"],
            "minutes": 0,
            "storage_gb": 0,
            "seats": 0,
            "max_quantity": 1,
            "prices": {"GBP": {"month": "10.00", "year": "100.00"}},
        },
        {
            "slug": "storage_100gb",
            "name": "Extra storage 100 GB",
            "pricing": Pricing.FLAT,
            "features": [],
            "included_in": [],
            "minutes": 0,
            "storage_gb": 100,
            "seats": 0,
            "max_quantity": 100,
            "prices": {"GBP": {"month": "15.00", "year": "150.00"}},
        },
        {
            "slug": "extra_seats",
            "name": "Extra seats",
            "pricing": Pricing.PLAN_SEAT,
            "features": [],
            "included_in": [],
            "minutes": 0,
            "storage_gb": 0,
            "seats": 1,
            "max_quantity": 10000,
            "prices": {},
        },
    ],
}

PLAN_FIELDS = ("name", "features", "included_minutes_per_seat", "min_seats", "max_seats", "overage_allowed")
ADDON_FIELDS = ("name", "pricing", "features", "included_in", "minutes", "storage_gb", "seats", "max_quantity")


# --- reading -----------------------------------------------------------------------------------


def current_version() -> CatalogueVersion:
    """The newest catalogue version (the migration seeds version 1; so does the first read of an
    emptied catalogue, for a database flushed after migrating)."""
    version = CatalogueVersion.objects.order_by("-number").first()
    if version is None:
        try:
            with transaction.atomic():
                version = write_version(
                    MODELS, DEFAULT_CATALOGUE, number=1, note="Default catalogue", by="first use", at=clock.now()
                )
        except IntegrityError:  # another process seeded it first
            version = CatalogueVersion.objects.order_by("-number").first()
    return version


def _prices(item) -> dict[str, dict[str, str]]:
    table: dict[str, dict[str, str]] = {}
    for price in item.prices.all():
        table.setdefault(price.currency, {})[price.interval] = money.format_amount(price.amount, price.currency)
    return table


def snapshot(version: CatalogueVersion) -> dict[str, Any]:
    """The version as plain data (what the API answers and what publishing copies)."""
    plans = version.plans.prefetch_related("prices").order_by("position", "slug")
    addons = version.addons.prefetch_related("prices").order_by("position", "slug")
    return {
        "plans": [{"slug": p.slug, **{f: getattr(p, f) for f in PLAN_FIELDS}, "prices": _prices(p)} for p in plans],
        "addons": [{"slug": a.slug, **{f: getattr(a, f) for f in ADDON_FIELDS}, "prices": _prices(a)} for a in addons],
    }


def feature_label(feature: str) -> str:
    return FEATURES.get(feature, feature.replace("_", " ").capitalize())


# --- checking ----------------------------------------------------------------------------------


def _check_prices(prices: Any, where: str, errors: dict[str, list[str]], *, required: bool) -> dict:
    """Normalise ``{"GBP": {"month": "15", "year": ...}}``; a missing annual price is ten monthly ones."""
    if not isinstance(prices, dict) or (required and not prices):
        errors.setdefault(f"{where}prices", []).append('Give at least one price, e.g. {"GBP": {"month": "15.00"}}')
        return {}
    clean: dict[str, dict[str, str]] = {}
    for currency, by_interval in prices.items():
        key = f"{where}prices.{currency}"
        if currency not in money.MINOR_UNITS:
            errors.setdefault(key, []).append(
                f"Unknown currency {currency!r}; use one of {', '.join(sorted(money.MINOR_UNITS))}"
            )
            continue
        if not isinstance(by_interval, dict) or "month" not in by_interval:
            errors.setdefault(key, []).append("Give the monthly price (and optionally the annual one)")
            continue
        unknown = set(by_interval) - set(Interval.values)
        if unknown:
            errors.setdefault(key, []).append(f"Intervals are month and year, not {', '.join(sorted(unknown))}")
            continue
        try:
            monthly = money.parse_price(by_interval["month"], currency)
            annual = (
                money.parse_price(by_interval["year"], currency)
                if by_interval.get("year") is not None
                else monthly * ANNUAL_MONTHS
            )
        except ValueError as exc:
            errors.setdefault(key, []).append(str(exc))
            continue
        clean[currency] = {
            "month": money.format_amount(monthly, currency),
            "year": money.format_amount(annual, currency),
        }
    return clean


def _check_count(value: Any, field: str, errors: dict, *, low: int = 0, high: int = 1_000_000, empty=False) -> None:
    if value is None and empty:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors.setdefault(field, []).append(f"A whole number from {low} to {high}" + (", or empty" if empty else ""))


def _check_features(value: Any, field: str, errors: dict) -> None:
    if not isinstance(value, list) or any(f not in FEATURES for f in value):
        errors.setdefault(field, []).append(f"Feature keys from: {', '.join(FEATURES)}")


def check(data: dict[str, Any]) -> None:
    """Refuse a catalogue that could not be sold; ``ValidationError`` names each problem."""
    errors: dict[str, list[str]] = {}
    plans, addons = data["plans"], data["addons"]
    slugs = [p["slug"] for p in plans]
    if not plans:
        errors["plans"] = ["The catalogue needs at least one plan"]
    for label, items in (("plans", slugs), ("addons", [a["slug"] for a in addons])):
        duplicates = {s for s in items if items.count(s) > 1}
        if duplicates:
            errors.setdefault(label, []).append(f"Each slug once; repeated: {', '.join(sorted(duplicates))}")
    for plan in plans:
        where = f"{plan['slug']}."
        if not str(plan.get("name") or "").strip():
            errors.setdefault(f"{where}name", []).append("A plan needs a name")
        _check_features(plan.get("features"), f"{where}features", errors)
        _check_count(plan.get("included_minutes_per_seat"), f"{where}included_minutes_per_seat", errors)
        _check_count(plan.get("min_seats"), f"{where}min_seats", errors, low=1, high=100_000)
        _check_count(plan.get("max_seats"), f"{where}max_seats", errors, low=1, high=100_000, empty=True)
        if isinstance(plan.get("max_seats"), int) and isinstance(plan.get("min_seats"), int):
            if plan["max_seats"] < plan["min_seats"]:
                errors.setdefault(f"{where}max_seats", []).append("At least the minimum seats")
        plan["prices"] = _check_prices(plan.get("prices"), where, errors, required=True)
    for addon in addons:
        where = f"{addon['slug']}."
        if not str(addon.get("name") or "").strip():
            errors.setdefault(f"{where}name", []).append("An add-on needs a name")
        if addon.get("pricing") not in Pricing.values:
            errors.setdefault(f"{where}pricing", []).append(f"One of: {', '.join(Pricing.values)}")
        _check_features(addon.get("features"), f"{where}features", errors)
        included = addon.get("included_in")
        if not isinstance(included, list) or any(s not in slugs for s in included):
            errors.setdefault(f"{where}included_in", []).append(f"Plan slugs from: {', '.join(slugs)}")
        for field in ("minutes", "storage_gb", "seats"):
            _check_count(addon.get(field), f"{where}{field}", errors)
        _check_count(addon.get("max_quantity"), f"{where}max_quantity", errors, low=1, high=100_000)
        addon["prices"] = _check_prices(
            addon.get("prices"), where, errors, required=addon.get("pricing") != Pricing.PLAN_SEAT
        )
        if addon.get("pricing") == Pricing.PLAN_SEAT and addon["prices"]:
            errors.setdefault(f"{where}prices", []).append("Priced at the plan's seat price: give no prices")
    if errors:
        raise ValidationError(errors)


# --- writing -----------------------------------------------------------------------------------


def write_version(models: dict[str, Any], data: dict[str, Any], *, number: int, note: str, by: str, at) -> Any:
    """Write ``data`` as catalogue version ``number`` through ``models`` (also used by the migration)."""
    version = models["CatalogueVersion"].objects.create(number=number, note=note, created_by=by, created_at=at)
    price_model = models["Price"]
    for position, plan in enumerate(data["plans"]):
        row = models["Plan"].objects.create(
            version=version, slug=plan["slug"], position=position, **{f: plan[f] for f in PLAN_FIELDS}
        )
        for currency, by_interval in plan["prices"].items():
            for interval, amount in by_interval.items():
                price_model.objects.create(plan=row, currency=currency, interval=interval, amount=Decimal(amount))
    for position, addon in enumerate(data["addons"]):
        row = models["AddOn"].objects.create(
            version=version, slug=addon["slug"], position=position, **{f: addon[f] for f in ADDON_FIELDS}
        )
        for currency, by_interval in addon["prices"].items():
            for interval, amount in by_interval.items():
                price_model.objects.create(addon=row, currency=currency, interval=interval, amount=Decimal(amount))
    return version


MODELS = {"CatalogueVersion": CatalogueVersion, "Plan": Plan, "AddOn": AddOn, "Price": Price}


def is_platform_staff(actor: Actor) -> bool:
    """Owners and admins of the platform organisation edit the catalogue."""
    if actor.user is None:
        return actor.token is None  # the system (CLI, migrations) may; an anonymous token may not
    return Membership.objects.filter(
        user=actor.user, tenant__kind=OrgKind.PLATFORM, role__in=[Role.OWNER, Role.ADMIN]
    ).exists()


@transaction.atomic
def publish(actor: Actor, change: dict[str, Any], *, note: str = "") -> CatalogueVersion:
    """Publish the next catalogue version: the current one with ``change`` applied.

    ``change`` is ``{"plan": {...}}`` or ``{"addon": {...}}``, keyed by ``slug``; ``create=True``
    in it means the slug must be new, otherwise it must exist and only the given fields change.
    """
    from octopushx.tenancy.services import platform_org

    if not is_platform_staff(actor):
        raise PermissionDenied("Only platform staff change the catalogue")
    # Versions are numbered in order: lock the newest so two publishers cannot both write n + 1.
    current = CatalogueVersion.objects.select_for_update().order_by("-number").first()
    if current is None:
        raise ValidationError({"catalogue": ["No catalogue yet: run `octopushx migrate`"]})
    data = copy.deepcopy(snapshot(current))
    kind = "plan" if "plan" in change else "addon"
    fields = dict(change[kind])
    create = fields.pop("create", False)
    slug = str(fields.pop("slug", "") or "").strip()
    items = data[f"{kind}s"]
    existing = next((item for item in items if item["slug"] == slug), None)
    label = "plan" if kind == "plan" else "add-on"
    if not slug:
        raise ValidationError({"slug": [f"Name the {label} by its slug"]})
    if create:
        if existing is not None:
            raise ValidationError({"slug": [f"A {label} {slug!r} exists already; change it with PATCH"]})
        if not slug.replace("_", "").replace("-", "").isalnum() or len(slug) > 32 or slug != slug.lower():
            raise ValidationError({"slug": ["Lower-case letters, digits, - and _ (at most 32)"]})
        defaults = {"features": [], "min_seats": 1, "max_seats": None, "overage_allowed": False}
        if kind == "addon":
            defaults = {
                "pricing": Pricing.FLAT,
                "features": [],
                "included_in": [],
                "minutes": 0,
                "storage_gb": 0,
                "seats": 0,
                "max_quantity": 1,
            }
        items.append({"slug": slug, **defaults, **fields})
    else:
        if existing is None:
            known = ", ".join(item["slug"] for item in items)
            raise ValidationError({"slug": [f"No {label} {slug!r} in the catalogue; choose one of: {known}"]})
        if isinstance(fields.get("prices"), dict):
            # A currency given replaces that currency's prices (a new monthly price brings its annual
            # one along unless given too); other currencies stay.
            fields["prices"] = {**existing["prices"], **fields["prices"]}
        changed = {k: v for k, v in fields.items() if v is not None and existing.get(k) != v}
        if not changed:
            raise ValidationError({"__all__": [f"Nothing to change: the {label} already reads like that"]})
        existing.update(changed)
    check(data)
    version = write_version(
        MODELS, data, number=current.number + 1, note=note[:300], by=actor.label[:254], at=clock.now()
    )
    audit.record(
        platform_org(),
        actor,
        "catalogue.published",
        obj=version,
        object_type="catalogue_version",
        changes={"version": [current.number, version.number], kind: [None, slug]},
    )
    return version
