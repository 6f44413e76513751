"""The reseller programme's money side: price books, wholesale statements, margins, customers.

Two levels of billing: a reseller's customers are invoiced by the reseller at its retail prices
(``invoices.close_period`` reads the price book here), and the platform invoices each reseller
once a month at wholesale with one statement line per customer. Both come from the same issued
invoices (each keeps its retail subtotal and what the same period costs at list price), so
revenue − wholesale cost = margin holds to the penny, and a statement is rebuilt from the ledger.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections import defaultdict
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q

from octopushx.billing import catalogue, clock, invoicing, money, services
from octopushx.billing.models import (
    Interval,
    Invoice,
    InvoiceCounter,
    InvoiceStatus,
    PriceBook,
    Pricing,
    Statement,
    StatementLine,
    Status,
    Subscription,
)
from octopushx.core import audit, events
from octopushx.core.context import Actor
from octopushx.tenancy.models import Invitation, Membership, Organization, OrgKind
from octopushx.tenancy.roles import Perm, Role, has_perm

STATEMENT_PREFIX = "INV-"  # statements are invoices of the platform: one number sequence, no gaps


def reseller_of(tenant: Organization) -> Organization | None:
    """The reseller a customer organisation buys through (None: a direct customer)."""
    parent = tenant.parent if tenant.parent_id else None
    return parent if parent is not None and parent.kind == OrgKind.RESELLER else None


def _check_reseller_admin(reseller: Organization, actor: Actor) -> None:
    if reseller.kind != OrgKind.RESELLER:
        raise PermissionDenied("Only resellers have a price book, customers and statements")
    if actor.user is not None and not has_perm(actor.role, Perm.ADMIN) and not catalogue.is_platform_staff(actor):
        raise PermissionDenied("Only the reseller's owners and admins manage its programme")


# --- the price book ------------------------------------------------------------------------------


def current_book(reseller: Organization) -> PriceBook | None:
    return PriceBook.objects.for_tenant(reseller).order_by("-revision").first()


def book_for_period(reseller: Organization, currency: str, last_day: date) -> PriceBook | None:
    """The revision in force at the end of ``last_day`` (UTC) in ``currency``, if any."""
    end = datetime.combine(last_day, time.max, tzinfo=UTC)
    book = PriceBook.objects.for_tenant(reseller).filter(effective_at__lte=end).order_by("-revision").first()
    return book if book is not None and book.currency == currency else None


def wholesale_prices(currency: str) -> dict[str, dict[str, dict[str, Decimal]]]:
    """List (wholesale) prices of the current catalogue in ``currency``: kind -> slug -> interval -> amount."""
    data = catalogue.snapshot(catalogue.current_version())
    out: dict[str, dict[str, dict[str, Decimal]]] = {"plans": {}, "addons": {}}
    for kind in ("plans", "addons"):
        for item in data[kind]:
            out[kind][item["slug"]] = {
                interval: Decimal(amount)
                for interval, amount in (item["prices"].get(currency) or {}).items()
                if amount is not None
            }
    return out


def price_book_out(reseller: Organization) -> dict[str, Any]:
    """The book with each item's list price and margin beside it (for the reseller only)."""
    book = current_book(reseller)
    currency = book.currency if book else money.DEFAULT_CURRENCY
    prices = book.prices if book else {}
    version = catalogue.current_version()
    wholesale = wholesale_prices(currency)
    items = []
    for kind, rows in (("plans", version.plans.order_by("position")), ("addons", version.addons.order_by("position"))):
        for item in rows:
            if kind == "addons" and item.pricing == Pricing.PLAN_SEAT:
                continue  # priced at the plan's seat price, retail or not
            for interval in Interval.values:
                list_price = wholesale[kind].get(item.slug, {}).get(interval)
                if list_price is None:
                    continue
                retail = (prices.get(kind) or {}).get(item.slug, {}).get(interval)
                retail_amount = Decimal(retail) if retail is not None else None
                items.append(
                    {
                        "kind": kind[:-1],
                        "slug": item.slug,
                        "name": item.name,
                        "interval": interval,
                        "wholesale": money.format_amount(list_price, currency),
                        "retail": money.format_amount(retail_amount, currency) if retail_amount is not None else None,
                        "margin": money.format_amount((retail_amount if retail_amount is not None else list_price)
                                                      - list_price, currency),
                    }
                )  # fmt: skip
    return {
        "currency": currency,
        "revision": book.revision if book else 0,
        "effective_at": book.effective_at.isoformat() if book else None,
        "plans": prices.get("plans", {}),
        "addons": prices.get("addons", {}),
        "items": items,
    }


def set_price_book(
    reseller: Organization,
    actor: Actor,
    *,
    currency: str = money.DEFAULT_CURRENCY,
    plans: dict[str, Any] | None = None,
    addons: dict[str, Any] | None = None,
    confirm: bool = False,
) -> tuple[PriceBook, list[str]]:
    """Replace the reseller's retail prices with a new revision; returns it and the warnings.

    A price at wholesale warns (no margin); below wholesale is refused unless ``confirm``; a
    negative, malformed or unknown item is always refused. Nothing is written on any error.
    """
    _check_reseller_admin(reseller, actor)
    errors: dict[str, list[str]] = {}
    warnings: list[str] = []
    code = str(currency or "").strip().upper()
    if code not in money.MINOR_UNITS:
        raise ValidationError(
            {"currency": [f"Unknown currency {currency!r}; use one of {', '.join(money.MINOR_UNITS)}"]}
        )
    wholesale = wholesale_prices(code)
    version = catalogue.current_version()
    names = {
        "plans": {p.slug: p for p in version.plans.all()},
        "addons": {a.slug: a for a in version.addons.all()},
    }
    clean: dict[str, dict[str, dict[str, str]]] = {"plans": {}, "addons": {}}
    below: list[str] = []
    for kind, given in (("plans", plans), ("addons", addons)):
        if given is None:
            continue
        if not isinstance(given, dict):
            errors[kind] = ['An object: {"slug": {"month": "45.00", "year": "450.00"}}']
            continue
        for slug, by_interval in given.items():
            where = f"{kind}.{slug}"
            item = names[kind].get(slug)
            if item is None:
                errors[where] = [f"Unknown {kind[:-1]} {slug!r}; choose from: {', '.join(names[kind])}"]
                continue
            if kind == "addons" and item.pricing == Pricing.PLAN_SEAT:
                errors[where] = [f"{item.name} is sold at the plan's seat price: set the plan's price instead"]
                continue
            if not isinstance(by_interval, dict) or not by_interval:
                errors[where] = ['Prices by interval: {"month": "45.00", "year": "450.00"}']
                continue
            for interval, raw in by_interval.items():
                key = f"{where}.{interval}"
                if interval not in Interval.values:
                    errors[key] = [f"Choose month or year, not {interval!r}"]
                    continue
                if raw is None:
                    continue  # left at list price
                try:
                    amount = money.parse_price(raw, code)
                except ValueError as exc:
                    errors[key] = [str(exc)]
                    continue
                list_price = wholesale[kind].get(slug, {}).get(interval)
                if list_price is None:
                    errors[key] = [f"{item.name} has no {interval}ly wholesale price in {code}"]
                    continue
                label = f"{item.name} ({interval}ly)"
                if amount < list_price:
                    below.append(key)
                    loss = money.format_amount(list_price - amount, code)
                    message = (
                        f"{label}: {money.format_amount(amount, code)} {code} is below the wholesale price "
                        f"{money.format_amount(list_price, code)} {code}: you lose {loss} {code} on each unit"
                    )
                    if confirm:
                        warnings.append(message)
                    else:
                        errors[key] = [message + ' (send "confirm": true to keep it)']
                elif amount == list_price:
                    warnings.append(
                        f"{label}: {money.format_amount(amount, code)} {code} is the wholesale price: no margin"
                    )
                clean[kind].setdefault(slug, {})[interval] = money.format_amount(amount, code)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        Organization.objects.select_for_update().filter(pk=reseller.pk).first()
        previous = current_book(reseller)
        book = PriceBook.objects.create(
            tenant=reseller,
            revision=(previous.revision if previous else 0) + 1,
            currency=code,
            prices=clean,
            effective_at=clock.now(),
            created_by=actor.label[:254],
        )
        audit.record(
            reseller,
            actor,
            "price_book.changed",
            obj=book,
            changes={
                "currency": [previous.currency if previous else None, code],
                "prices": [previous.prices if previous else None, clean],
                **({"below_wholesale_confirmed": [None, below]} if below else {}),
            },
        )
    return book, warnings


# --- statements (platform -> reseller, at wholesale) ------------------------------------------------


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def _bounds(month: date) -> tuple[datetime, datetime]:
    return (
        datetime.combine(month, time.min, tzinfo=UTC),
        datetime.combine(_next_month(month), time.min, tzinfo=UTC),
    )


def customer_invoices(reseller: Organization):
    """Invoices the reseller issued to its customers (numbered ones; drafts are not yet owed)."""
    return (
        Invoice.objects.filter(issuer=reseller, tenant__parent=reseller)
        .exclude(status=InvoiceStatus.DRAFT)
        .select_related("tenant")
    )


def statement_lines(reseller: Organization, month: date, currency: str) -> list[dict[str, Any]]:
    """One line per customer: its invoices issued in ``month``, their retail and wholesale subtotals."""
    start, end = _bounds(month)
    found = customer_invoices(reseller).filter(currency=currency, issued_at__gte=start, issued_at__lt=end)
    by_customer: dict[Any, dict[str, Any]] = {}
    for invoice in found.order_by("tenant__name", "tenant_id", "sequence"):
        row = by_customer.setdefault(
            invoice.tenant_id,
            {"customer": invoice.tenant, "invoices": [], "retail": Decimal(0), "wholesale": Decimal(0)},
        )
        row["invoices"].append(invoice.number)
        row["retail"] += invoice.subtotal
        row["wholesale"] += invoice.wholesale_subtotal if invoice.wholesale_subtotal is not None else invoice.subtotal
    return list(by_customer.values())


def _reseller_customer(reseller: Organization) -> invoicing.Customer:
    from octopushx.billing.invoices import customer_of

    return customer_of(reseller)


def compute_statement(reseller: Organization, month: date, currency: str) -> dict[str, Any] | None:
    """The statement of ``month`` as plain data (None: nothing was invoiced that month)."""
    from octopushx.billing.invoices import tax_rates

    lines = statement_lines(reseller, month, currency)
    if not lines:
        return None
    subtotal = sum((row["wholesale"] for row in lines), Decimal(0))
    rule = invoicing.tax_rule(_reseller_customer(reseller), tax_rates())
    tax = money.round_line(subtotal * rule.rate / 100, currency)
    return {
        "month": month.isoformat(),
        "currency": currency,
        "lines": [
            {
                "customer_id": str(row["customer"].pk),
                "customer": row["customer"].name,
                "invoices": row["invoices"],
                "retail_subtotal": money.format_amount(row["retail"], currency),
                "amount": money.format_amount(row["wholesale"], currency),
            }
            for row in lines
        ],
        "subtotal": money.format_amount(subtotal, currency),
        "tax_rate": str(rule.rate),
        "tax_rule": rule.label,
        "tax": money.format_amount(tax, currency),
        "total": money.format_amount(subtotal + tax, currency),
        "_rows": lines,
    }


def issue_statement(reseller: Organization, month: date, currency: str) -> Statement | None:
    """Issue the month's statement once (idempotent: an existing one is returned untouched)."""
    from octopushx.tenancy.services import platform_org

    existing = Statement.objects.for_tenant(reseller).filter(month=month, currency=currency).first()
    if existing is not None:
        return existing
    data = compute_statement(reseller, month, currency)
    if data is None:
        return None
    rows = data.pop("_rows")
    issuer = platform_org()
    try:
        with transaction.atomic():
            counter, _ = InvoiceCounter.objects.get_or_create(issuer=issuer)
            counter = InvoiceCounter.objects.select_for_update().get(pk=counter.pk)
            if Statement.objects.for_tenant(reseller).filter(month=month, currency=currency).exists():
                raise IntegrityError("issued meanwhile")
            counter.last_number += 1
            counter.save(update_fields=["last_number"])
            statement = Statement.objects.create(
                tenant=reseller,
                issuer=issuer,
                number=f"{STATEMENT_PREFIX}{counter.last_number:06d}",
                sequence=counter.last_number,
                currency=currency,
                month=month,
                subtotal=Decimal(data["subtotal"]),
                tax=Decimal(data["tax"]),
                tax_rate=Decimal(data["tax_rate"]),
                tax_rule=data["tax_rule"],
                total=Decimal(data["total"]),
                computed=json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False),
                issued_at=clock.now(),
                created_at=clock.now(),
            )
            StatementLine.objects.bulk_create(
                [
                    StatementLine(
                        tenant=reseller,
                        statement=statement,
                        position=position,
                        customer=row["customer"],
                        description=f"{row['customer'].name}: invoices {', '.join(row['invoices'])}"[:300],
                        invoices=row["invoices"],
                        retail_subtotal=row["retail"],
                        amount=money.round_line(row["wholesale"], currency),
                    )
                    for position, row in enumerate(rows)
                ]
            )
            audit.record(
                reseller,
                Actor.system("billing"),
                "statement.issued",
                obj=statement,
                changes={"number": [None, statement.number], "total": [None, data["total"]]},
            )
    except IntegrityError:
        return Statement.objects.for_tenant(reseller).filter(month=month, currency=currency).first()
    events.emit(reseller, "statement.issued", {"statement_id": str(statement.pk), "number": statement.number})
    return statement


def close_statements(at: date) -> int:
    """Issue every reseller's statement for months that ended before ``at``; returns how many were new."""
    first_open = _month_start(at)
    before = datetime.combine(first_open, time.min, tzinfo=UTC)
    issued = 0
    for reseller in Organization.objects.filter(kind=OrgKind.RESELLER, deleted_at__isnull=True).order_by("created_at"):
        months = set()
        for currency, issued_at in (
            customer_invoices(reseller).filter(issued_at__lt=before).values_list("currency", "issued_at")
        ):
            months.add((_month_start(issued_at.astimezone(UTC).date()), currency))
        done = set(Statement.objects.for_tenant(reseller).values_list("month", "currency"))
        for month, currency in sorted(months - done):
            if issue_statement(reseller, month, currency) is not None:
                issued += 1
    return issued


@transaction.atomic
def mark_statement_paid(statement: Statement, actor: Actor) -> Statement:
    """Platform staff record the reseller's payment of a statement (audited in the reseller's trail)."""
    if not catalogue.is_platform_staff(actor):
        raise PermissionDenied("Only platform staff mark statements paid")
    locked = Statement.objects.select_for_update().get(pk=statement.pk)
    if locked.status == InvoiceStatus.PAID:
        raise ValidationError({"status": [f"Statement {locked.number} was paid already"]})
    locked.status, locked.paid_at = InvoiceStatus.PAID, clock.now()
    locked.save(update_fields=["status", "paid_at", "updated_at"])
    audit.record(locked.tenant, actor, "statement.paid", obj=locked, changes={"status": ["issued", "paid"]})
    return locked


def statements_of(reseller: Organization):
    return Statement.objects.for_tenant(reseller).order_by("-month", "currency")


def find_statement(reseller: Organization, actor: Actor, statement_id) -> Statement:
    """A statement of the caller's reseller; platform staff reach every reseller's."""
    if catalogue.is_platform_staff(actor) and actor.user is not None:
        found = Statement.objects.filter(pk=statement_id).first() if _is_uuid(statement_id) else None
        if found is not None:
            return found
    return Statement.objects.get_for_tenant(reseller, statement_id)


def _is_uuid(value) -> bool:
    import uuid

    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


# --- margins ---------------------------------------------------------------------------------------


def margin_report(reseller: Organization, month: date | None = None) -> dict[str, Any]:
    """Per month and customer: revenue (retail subtotals), wholesale cost and margin, pre-tax.

    Months are those the customers' invoices were issued in, as on the statements.
    """
    found = customer_invoices(reseller)
    if month is not None:
        start, end = _bounds(month)
        found = found.filter(issued_at__gte=start, issued_at__lt=end)
    rows: dict[tuple[date, str, Any], dict[str, Any]] = {}
    for invoice in found.order_by("issued_at"):
        issued_month = _month_start(invoice.issued_at.astimezone(UTC).date())
        key = (issued_month, invoice.currency, invoice.tenant_id)
        row = rows.setdefault(
            key,
            {"month": issued_month, "currency": invoice.currency, "customer": invoice.tenant,
             "invoices": 0, "revenue": Decimal(0), "wholesale": Decimal(0)},
        )  # fmt: skip
        row["invoices"] += 1
        row["revenue"] += invoice.subtotal
        row["wholesale"] += invoice.wholesale_subtotal if invoice.wholesale_subtotal is not None else invoice.subtotal
    items = []
    totals: dict[str, dict[str, Decimal]] = defaultdict(lambda: {"revenue": Decimal(0), "wholesale": Decimal(0)})
    for (issued_month, currency, _), row in sorted(
        rows.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[1]["customer"].name)
    ):
        margin = row["revenue"] - row["wholesale"]
        totals[currency]["revenue"] += row["revenue"]
        totals[currency]["wholesale"] += row["wholesale"]
        items.append(
            {
                "month": issued_month.strftime("%Y-%m"),
                "customer_id": str(row["customer"].pk),
                "customer": row["customer"].name,
                "currency": currency,
                "invoices": row["invoices"],
                "revenue": money.format_amount(row["revenue"], currency),
                "wholesale_cost": money.format_amount(row["wholesale"], currency),
                "margin": money.format_amount(margin, currency),
            }
        )
    return {
        "items": items,
        "totals": [
            {
                "currency": currency,
                "revenue": money.format_amount(t["revenue"], currency),
                "wholesale_cost": money.format_amount(t["wholesale"], currency),
                "margin": money.format_amount(t["revenue"] - t["wholesale"], currency),
            }
            for currency, t in sorted(totals.items())
        ],
    }


def margin_csv(reseller: Organization, month: date | None = None) -> str:
    report = margin_report(reseller, month)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["month", "customer", "currency", "invoices", "revenue", "wholesale_cost", "margin"])
    for row in report["items"]:
        customer = row["customer"]
        if customer[:1] in ("=", "+", "-", "@"):  # never a formula in the reseller's spreadsheet
            customer = "'" + customer
        writer.writerow(
            [
                row["month"],
                customer,
                row["currency"],
                row["invoices"],
                row["revenue"],
                row["wholesale_cost"],
                row["margin"],
            ]
        )
    return out.getvalue()


def parse_month(raw: str | None) -> date | None:
    if not raw:
        return None
    try:
        return datetime.strptime(raw.strip(), "%Y-%m").date()
    except ValueError:
        raise ValidationError({"month": [f"A month as YYYY-MM, not {raw!r}"]})


# --- customers -------------------------------------------------------------------------------------


def customers_of(reseller: Organization):
    return Organization.objects.filter(parent=reseller, kind=OrgKind.CUSTOMER, deleted_at__isnull=True).order_by("name")


def find_customer(reseller: Organization, actor: Actor, customer_id) -> Organization:
    """A customer of the caller's reseller (another reseller's, or a malformed id: 404)."""
    from django.http import Http404

    if not _is_uuid(customer_id):
        raise Http404("No customer with that id")
    found = Organization.objects.filter(pk=customer_id, kind=OrgKind.CUSTOMER, deleted_at__isnull=True).first()
    if found is None:
        raise Http404("No customer with that id")
    if reseller.kind == OrgKind.RESELLER and found.parent_id == reseller.pk:
        return found
    if catalogue.is_platform_staff(actor) and actor.user is not None and reseller_of(found) is not None:
        return found
    raise Http404("No customer with that id")


def customer_out(customer: Organization) -> dict[str, Any]:
    """What the console shows of one customer: plan, seats, status, this period's usage, last invoice."""
    from octopushx.billing import ledger

    subscription = services.subscription_of(customer)
    usage = None
    if subscription is not None:
        from octopushx.billing.invoices import anchor_of

        start, end = invoicing.period_containing(anchor_of(subscription), subscription.interval, clock.today())
        totals = ledger.totals(customer, start, end)
        usage = {
            "period_start": start.isoformat(),
            "period_end": end.isoformat(),
            "transcription_minutes": format(Decimal(totals.get("transcription_minutes") or 0).normalize(), "f"),
        }
    last = Invoice.objects.for_tenant(customer).exclude(status=InvoiceStatus.DRAFT).order_by("-period_start").first()
    owners = Membership.objects.filter(tenant=customer, role=Role.OWNER).select_related("user")
    invited = Invitation.objects.filter(
        tenant=customer, role=Role.OWNER, accepted_at__isnull=True, revoked_at__isnull=True
    )
    return {
        "id": str(customer.pk),
        "name": customer.name,
        "plan": subscription.plan.slug if subscription else None,
        "plan_name": subscription.plan.name if subscription else None,
        "seats": subscription.seats if subscription else None,
        "status": "suspended" if customer.suspended_at else (subscription.status if subscription else None),
        "subscription_status": subscription.status if subscription else None,
        "trial_end": subscription.trial_end.isoformat() if subscription and subscription.trial_end else None,
        "cancel_at_period_end": subscription.cancel_at_period_end if subscription else False,
        "suspended": customer.suspended_at is not None,
        "admins": [m.user.email for m in owners] + [f"{i.email} (invited)" for i in invited if i.is_open],
        "usage": usage,
        "last_invoice": (
            {
                "id": str(last.pk),
                "number": last.number,
                "status": last.status,
                "total": money.format_amount(last.total, last.currency),
                "currency": last.currency,
            }
            if last
            else None
        ),
        "support_access_until": _support_until(customer),
        "created_at": customer.created_at.isoformat(),
    }


def _support_until(customer: Organization) -> str | None:
    from octopushx.tenancy import support

    grant = support.live_grant(customer)
    return grant.expires_at.isoformat() if grant else None


def _check_seats(seats: Any, errors: dict[str, list[str]]) -> int | None:
    if isinstance(seats, bool) or not isinstance(seats, int):
        errors["seats"] = ["Seats must be a whole number of at least 1"]
        return None
    if seats < 1:
        errors["seats"] = ["Seats must be a whole number of at least 1"]
        return None
    if seats > services.MAX_SEATS:
        errors["seats"] = [f"At most {services.MAX_SEATS} seats"]
        return None
    return seats


def create_customer(
    reseller: Organization,
    actor: Actor,
    *,
    name: str,
    admin_email: str,
    plan: str,
    seats: int,
    trial: bool = True,
) -> Organization:
    """Create a customer under the reseller, invite its first owner, start its subscription.

    With ``trial`` the 14-day trial starts on the chosen plan; without it the subscription is
    active (billed) from today. Everything is checked first; on any error nothing is created.
    """
    from octopushx.tenancy import services as tenancy

    _check_reseller_admin(reseller, actor)
    if not services.enabled():
        raise ValidationError({"__all__": ["Billing is not turned on for this installation"]})
    errors: dict[str, list[str]] = {}
    clean_name = str(name or "").strip()
    if not clean_name:
        errors["name"] = ["A name is required"]
    elif len(clean_name) > 200:
        errors["name"] = ["At most 200 characters"]
    elif customers_of(reseller).filter(name__iexact=clean_name).exists():
        errors["name"] = [f"You already have a customer named {clean_name!r}"]
    email = str(admin_email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        errors["admin_email"] = ["Enter a valid email address"]
    else:
        mine = customers_of(reseller)
        duplicate = Membership.objects.filter(
            tenant__in=mine, user__email=email, role__in=[Role.OWNER, Role.ADMIN]
        ).exists() or any(
            i.is_open for i in Invitation.objects.filter(tenant__in=mine, email=email, accepted_at__isnull=True)
        )
        if duplicate:
            errors["admin_email"] = [f"{email} already administers one of your customers"]
    version = catalogue.current_version()
    chosen = version.plans.filter(slug=plan).first() if isinstance(plan, str) else None
    if chosen is None:
        known = ", ".join(version.plans.values_list("slug", flat=True))
        errors["plan"] = [f"Unknown plan {plan!r}; choose one of: {known}"]
    clean_seats = _check_seats(seats, errors)
    if chosen is not None and clean_seats is not None:
        if clean_seats < chosen.min_seats:
            errors["seats"] = [f"The {chosen.name} plan needs at least {chosen.min_seats} seats"]
        elif chosen.max_seats is not None and clean_seats > chosen.max_seats:
            errors["seats"] = [f"The {chosen.name} plan allows at most {chosen.max_seats} seats"]
    book = current_book(reseller)
    currency = book.currency if book else money.DEFAULT_CURRENCY
    if chosen is not None and not chosen.prices.filter(currency=currency, interval=Interval.MONTH).exists():
        errors.setdefault("plan", []).append(f"{chosen.name} has no monthly price in {currency}")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        customer = tenancy.create_organization(actor, name=clean_name, kind=OrgKind.CUSTOMER, parent=reseller)
        subscription = services.start_trial(customer, actor, plan=plan)
        subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
        subscription.plan, subscription.plan_chosen, subscription.seats = chosen, True, clean_seats
        subscription.currency = currency
        if not trial:
            subscription.trial_end, subscription.status = None, Status.ACTIVE
        subscription.save()
        # The timeline's first row must say what was sold from day one.
        started = subscription.changes.order_by("recorded_at").first()
        started.state = services.state_of(subscription)
        started.save(update_fields=["state", "updated_at"])
        inviter = dataclasses.replace(actor, role=Role.OWNER)  # the reseller acts as the owner would
        tenancy.invite(customer, inviter, email=email, role=Role.OWNER)
        audit.record(
            reseller,
            actor,
            "reseller.customer_created",
            obj=customer,
            changes={"name": [None, clean_name], "plan": [None, plan], "seats": [None, clean_seats],
                     "admin_email": [None, email], "trial": [None, trial]},
        )  # fmt: skip
    return customer


def update_customer(
    reseller: Organization,
    actor: Actor,
    customer: Organization,
    *,
    plan: str | None = None,
    seats: int | None = None,
    suspended: bool | None = None,
    note: str = "",
) -> Organization:
    """Change a customer's plan or seats, or suspend/reinstate it (Shield's suspension, audited)."""
    from octopushx.shield.suspension.services import reinstate_tenant, suspend_tenant

    _check_reseller_admin(reseller, actor)
    if suspended is not None and not isinstance(suspended, bool):
        raise ValidationError({"suspended": ["true or false"]})
    if seats is not None:
        errors: dict[str, list[str]] = {}
        _check_seats(seats, errors)
        if errors:
            raise ValidationError(errors)
    with transaction.atomic():
        if plan is not None or seats is not None:
            admin = dataclasses.replace(actor, role=Role.OWNER) if actor.user is not None else actor
            services.change_subscription(customer, admin, plan=plan, seats=seats)
            audit.record(
                reseller, actor, "reseller.customer_changed", obj=customer,
                changes={k: [None, v] for k, v in (("plan", plan), ("seats", seats)) if v is not None},
            )  # fmt: skip
        if suspended is True and customer.suspended_at is None:
            suspend_tenant(customer, actor, reason="other", note=note or "Suspended by the reseller")
        elif suspended is False and customer.suspended_at is not None:
            reinstate_tenant(customer, actor, note=note or "Reinstated by the reseller")
    customer.refresh_from_db()
    return customer


def close_customer(reseller: Organization, actor: Actor, customer: Organization) -> Organization:
    """End a customer's subscription at the end of the period it is billed for (data kept).

    The customer keeps its service until then; deleting its data stays its owner's decision
    (Settings → Delete organisation), so a mistaken click costs nothing that cannot be undone.
    """
    _check_reseller_admin(reseller, actor)
    with transaction.atomic():
        admin = dataclasses.replace(actor, role=Role.OWNER) if actor.user is not None else actor
        services.change_subscription(customer, admin, auto_renew=False, cancel_at_period_end=True)
        audit.record(
            reseller, actor, "reseller.customer_closed", obj=customer, changes={"cancel_at_period_end": [False, True]}
        )
    return customer


def customer_filter(reseller: Organization) -> Q:
    return Q(parent=reseller, kind=OrgKind.CUSTOMER)
