"""The billing run and invoices: close periods, keep drafts during the grace period, issue, mark paid.

An invoice is computed by ``invoicing.compute`` from the subscription's timeline, the catalogue
versions it names and the usage ledger. While its period's grace days last it stays a draft and
is recomputed on every run (late usage lands on it); after them it is issued: it takes the next
number of its issuer (a counter row locked for the transaction, so numbers have no gaps) and is
never edited again.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from octopushx.billing import catalogue, clock, invoicing, ledger, services
from octopushx.billing.models import (
    BillingProfile,
    CatalogueVersion,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    InvoiceStatus,
    Status,
    Subscription,
    SubscriptionChange,
    TaxRate,
)
from octopushx.core import audit, events
from octopushx.core.context import Actor
from octopushx.tenancy.models import Organization

NUMBER_PREFIX = "INV-"


def grace_days() -> int:
    return int(getattr(settings, "BILLING_GRACE_DAYS", 3))


def anchor_of(subscription: Subscription) -> date:
    """The first paid day: periods run from here (the trial is free)."""
    return subscription.trial_end or subscription.started_on


def customer_of(tenant: Organization) -> invoicing.Customer:
    profile = BillingProfile.objects.for_tenant(tenant).first()
    if profile is None:
        return invoicing.Customer(name=tenant.name)
    return invoicing.Customer(
        name=profile.legal_name or tenant.name,
        country=profile.country.upper(),
        business=profile.business,
        vat_number=profile.vat_number,
    )


def tax_rates() -> dict[str, Any]:
    return {row.country.upper(): row.rate for row in TaxRate.objects.all()}


def compute_period(
    subscription: Subscription, start: date, end: date, price_book: dict[str, Any] | None = None
) -> invoicing.Computed:
    """Read the inputs of one period from the database and compute its invoice.

    ``price_book``: a reseller's retail prices (``PriceBook.prices``) in the subscription's
    currency; without it the period is priced at list (wholesale) prices.
    """
    changes = SubscriptionChange.objects.filter(subscription=subscription, effective_on__lte=end).order_by(
        "effective_on", "recorded_at"
    )
    timeline = [(change.effective_on, change.state) for change in changes]
    numbers = {int(state["catalogue_version"]) for _, state in timeline}
    catalogues = {
        version.number: invoicing.with_retail_prices(catalogue.snapshot(version), price_book, subscription.currency)
        for version in CatalogueVersion.objects.filter(number__in=numbers)
    }
    return invoicing.compute(
        timeline=timeline,
        catalogues=catalogues,
        usage=ledger.totals(subscription.tenant, start, end),
        customer=customer_of(subscription.tenant),
        tax_rates=tax_rates(),
        period_start=start,
        period_end=end,
    )


def _write(invoice: Invoice, computed: invoicing.Computed, book=None, wholesale=None) -> None:
    invoice.price_book_revision = book.revision if book is not None else None
    invoice.wholesale_subtotal = wholesale
    invoice.currency = computed.currency
    invoice.period_end = computed.period_end
    invoice.catalogue_version = computed.catalogue_version
    invoice.subtotal, invoice.tax, invoice.total = computed.subtotal, computed.tax, computed.total
    invoice.tax_rate, invoice.tax_rule = computed.tax_rate, computed.tax_rule
    invoice.customer = {
        "name": computed.customer.name,
        "country": computed.customer.country,
        "business": computed.customer.business,
        "vat_number": computed.customer.vat_number,
    }
    invoice.computed = computed.canonical()
    invoice.save()
    InvoiceLine.objects.filter(invoice=invoice).delete()
    InvoiceLine.objects.bulk_create(
        [
            InvoiceLine(
                tenant=invoice.tenant,
                invoice=invoice,
                position=position,
                kind=line.kind,
                description=line.description[:300],
                quantity=line.quantity,
                unit_price=line.unit_price,
                amount=line.amount,
            )
            for position, line in enumerate(computed.lines)
        ]
    )


def _next_number(issuer: Organization) -> tuple[int, str]:
    counter, _ = InvoiceCounter.objects.get_or_create(issuer=issuer)
    counter = InvoiceCounter.objects.select_for_update().get(pk=counter.pk)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return counter.last_number, f"{NUMBER_PREFIX}{counter.last_number:06d}"


def close_period(subscription: Subscription, start: date, end: date, at: date) -> str:
    """Draft, refresh or issue the invoice of one period as of ``at``; returns what happened.

    ``"kept"``: issued before (never touched again); ``"drafted"``/``"updated"``/``"unchanged"``:
    still in its grace days; ``"issued"``: numbered and frozen now.
    """
    from octopushx.billing import resellers
    from octopushx.tenancy.services import platform_org

    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().filter(subscription=subscription, period_start=start).first()
        if invoice is not None and invoice.status != InvoiceStatus.DRAFT:
            return "kept"
        # A reseller's customer: invoiced by the reseller at its retail prices (the price book in
        # force on the period's last day); the same period at list price is the reseller's cost.
        reseller = resellers.reseller_of(subscription.tenant)
        book = resellers.book_for_period(reseller, subscription.currency, end) if reseller else None
        computed = compute_period(subscription, start, end, book.prices if book else None)
        wholesale = None
        if reseller is not None:
            wholesale = computed.subtotal if book is None else compute_period(subscription, start, end).subtotal
        outcome = "unchanged"
        if invoice is None:
            invoice = Invoice(
                tenant=subscription.tenant,
                subscription=subscription,
                issuer=reseller or platform_org(),
                period_start=start,
                created_at=clock.now(),
            )
            _write(invoice, computed, book, wholesale)
            outcome = "drafted"
        elif (
            invoice.computed != computed.canonical()
            or invoice.wholesale_subtotal != wholesale
            or invoice.price_book_revision != (book.revision if book else None)
        ):
            _write(invoice, computed, book, wholesale)
            outcome = "updated"
        if at > end + timedelta(days=grace_days()):
            invoice.issuer = reseller or platform_org()  # a draft made before its customer moved keeps no stale issuer
            invoice.sequence, invoice.number = _next_number(invoice.issuer)
            invoice.status = InvoiceStatus.ISSUED
            invoice.issued_at = clock.now()
            invoice.save(update_fields=["issuer", "sequence", "number", "status", "issued_at", "updated_at"])
            audit.record(
                invoice.tenant,
                Actor.system("billing"),
                "invoice.issued",
                obj=invoice,
                changes={"number": [None, invoice.number], "total": [None, str(invoice.total)]},
            )
            events.emit(invoice.tenant, "invoice.issued", {"invoice_id": str(invoice.pk), "number": invoice.number})
            outcome = "issued"
    return outcome


def run(at: date | None = None) -> dict[str, int]:
    """The billing cycle as of ``at`` (default: the billing clock's today): every customer's periods
    that ended before ``at`` get their invoice. Idempotent: a second run on the same day issues nothing.
    """
    if not services.enabled():
        return {}
    if at is not None and at != clock.today():
        with clock.frozen(at):
            return run(at)
    at = clock.today()
    counts = {"issued": 0, "drafted": 0, "updated": 0, "unchanged": 0, "kept": 0, "statements": 0}
    subscriptions = (
        Subscription.objects.exclude(status=Status.CANCELLED).select_related("tenant").order_by("created_at")
    )
    for subscription in subscriptions:
        if not services.is_billed(subscription.tenant) or subscription.tenant.deleted_at is not None:
            continue
        subscription = services.settle_trial(subscription)  # the timeline says when the paid periods began
        issued = set(
            Invoice.objects.filter(subscription=subscription)
            .exclude(status=InvoiceStatus.DRAFT)
            .values_list("period_start", flat=True)
        )
        anchor = anchor_of(subscription)
        # Cancelled at the period end: the period the cancellation fell in is the last one billed.
        cancelled = services.cancelled_on(subscription)
        last_day = invoicing.period_containing(anchor, subscription.interval, cancelled)[1] if cancelled else None
        for start, end in invoicing.periods(anchor, subscription.interval, at):
            if last_day is not None and start > last_day:
                break
            if start in issued:
                counts["kept"] += 1
                continue
            counts[close_period(subscription, start, end, at)] += 1
        if last_day is not None and at > last_day + timedelta(days=grace_days()):
            services.end_subscription(subscription, last_day)  # its last invoice is issued by now
    from octopushx.billing import resellers

    counts["statements"] = resellers.close_statements(at)
    return counts


# --- reading and paying ------------------------------------------------------------------------------


def invoices_of(tenant: Organization):
    return Invoice.objects.for_tenant(tenant).order_by("-period_start")


def find(tenant: Organization, actor: Actor, invoice_id) -> Invoice:
    """An invoice of the caller's organisation; platform staff reach every organisation's."""
    if catalogue.is_platform_staff(actor) and actor.user is not None:
        invoice = Invoice.objects.filter(pk=invoice_id).first()
        if invoice is not None:
            return invoice
    return Invoice.objects.get_for_tenant(tenant, invoice_id)


@transaction.atomic
def mark_paid(invoice: Invoice, actor: Actor) -> Invoice:
    """Platform staff record a bank transfer: an issued invoice becomes paid (audited)."""
    if not catalogue.is_platform_staff(actor):
        raise PermissionDenied("Only platform staff mark invoices paid")
    locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if locked.status == InvoiceStatus.DRAFT:
        raise ValidationError({"status": ["A draft cannot be paid: it is issued after its grace days"]})
    if locked.status == InvoiceStatus.PAID:
        raise ValidationError({"status": [f"Invoice {locked.number} was paid already"]})
    locked.status = InvoiceStatus.PAID
    locked.paid_at = clock.now()
    locked.save(update_fields=["status", "paid_at", "updated_at"])
    audit.record(locked.tenant, actor, "invoice.paid", obj=locked, changes={"status": ["issued", "paid"]})
    events.emit(locked.tenant, "invoice.paid", {"invoice_id": str(locked.pk), "number": locked.number})
    return locked


# --- tax rates (the operator's) ---------------------------------------------------------------------


def set_tax_rate(actor: Actor, country: str, rate: str, name: str = "VAT") -> TaxRate:
    """Set the tax rate of a customer country (percent, e.g. ``"20"``); audited on the platform organisation."""
    from decimal import Decimal, InvalidOperation

    from octopushx.tenancy.services import platform_org

    if not catalogue.is_platform_staff(actor):
        raise PermissionDenied("Only platform staff set tax rates")
    errors: dict[str, list[str]] = {}
    code = str(country or "").strip().upper()
    if len(code) != 2 or not code.isalpha() or not code.isascii():
        errors["country"] = ["A two-letter country code (ISO 3166), e.g. GB or DE"]
    try:
        percent = Decimal(str(rate).strip())
        if not percent.is_finite() or not 0 <= percent <= 100 or percent != percent.quantize(Decimal("0.01")):
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors["rate"] = ["A percentage from 0 to 100 with at most two decimal places, e.g. 20 or 17.5"]
    label = str(name or "").strip()
    if not label or len(label) > 40:
        errors["name"] = ["A name of 1 to 40 characters, e.g. VAT"]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        existing = TaxRate.objects.filter(country=code).first()
        old = str(existing.rate) if existing else None
        row, _ = TaxRate.objects.update_or_create(country=code, defaults={"rate": percent, "name": label})
        audit.record(
            platform_org(), actor, "tax_rate.set", obj=row, object_type="tax_rate", object_id=code,
            changes={"rate": [old, str(percent)]},
        )  # fmt: skip
    return row
