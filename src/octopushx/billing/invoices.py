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
from django.db.models import F

from octopushx.billing import catalogue, clock, dunning, invoicing, ledger, resellers, services
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


def _customer(profile: BillingProfile, name: str) -> invoicing.Customer:
    return invoicing.Customer(
        name=profile.legal_name or name,
        country=profile.country.upper(),
        business=profile.business,
        vat_number=profile.vat_number,
    )


def customer_of(tenant: Organization) -> invoicing.Customer:
    profile = BillingProfile.objects.for_tenant(tenant).first()
    return _customer(profile, tenant.name) if profile is not None else invoicing.Customer(name=tenant.name)


def _chunks(items: list, size: int = 1000):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def tax_rates() -> dict[str, Any]:
    return {row.country.upper(): row.rate for row in TaxRate.objects.all()}


class RunCache:
    """What the periods of one billing run read: catalogue versions (never edited once published)
    and tax rates, shared by all; and, after ``prefetch``, each subscription's timeline, customer
    details and usage read in bulk (a few queries for thousands of periods instead of a few each).
    A fresh one per run, so an operator's change applies to the next. Without ``prefetch`` every
    read is the plain query: both give the same invoice.
    """

    BULK_FROM = 20  # periods sharing dates: from this many, their usage is summed in one query

    def __init__(self) -> None:
        self.catalogues: dict[int, dict[str, Any]] = {}
        self._tax_rates: dict[str, Any] | None = None
        self.timelines: dict[Any, list[tuple[date, dict]]] = {}
        self.customers: dict[Any, invoicing.Customer] = {}
        self.usage: dict[tuple[Any, date, date], dict[str, Any]] = {}
        self.issuer: Organization | None = None
        self.books: dict[tuple[Any, str, date], Any] = {}

    def prefetch(self, work: list[tuple[Subscription, date, date]]) -> None:
        subscription_ids = list({subscription.pk for subscription, _, _ in work})
        tenant_ids = list({subscription.tenant_id for subscription, _, _ in work})
        for chunk in _chunks(subscription_ids):
            for change in SubscriptionChange.objects.filter(subscription_id__in=chunk).order_by(
                "effective_on", "recorded_at"
            ):
                self.timelines.setdefault(change.subscription_id, []).append((change.effective_on, change.state))
        names = {subscription.tenant_id: subscription.tenant.name for subscription, _, _ in work}
        self.customers = {tenant_id: invoicing.Customer(name=name) for tenant_id, name in names.items()}
        for chunk in _chunks(tenant_ids):
            for profile in BillingProfile.objects.filter(tenant_id__in=chunk):
                self.customers[profile.tenant_id] = _customer(profile, names[profile.tenant_id])
        by_dates: dict[tuple[date, date], list] = {}
        for subscription, start, end in work:
            by_dates.setdefault((start, end), []).append(subscription.tenant_id)
        for (start, end), tenants in by_dates.items():
            if len(tenants) < self.BULK_FROM:
                continue
            for chunk in _chunks(sorted(set(tenants))):
                found = ledger.totals_of(chunk, start, end)
                for tenant_id in chunk:
                    self.usage[(tenant_id, start, end)] = found[tenant_id]

    def timeline(self, subscription: Subscription, end: date) -> list[tuple[date, dict]]:
        if subscription.pk in self.timelines:
            return [(day, state) for day, state in self.timelines[subscription.pk] if day <= end]
        changes = SubscriptionChange.objects.filter(subscription=subscription, effective_on__lte=end).order_by(
            "effective_on", "recorded_at"
        )
        return [(change.effective_on, change.state) for change in changes]

    def customer(self, tenant: Organization) -> invoicing.Customer:
        return self.customers.get(tenant.pk) or customer_of(tenant)

    def usage_of(self, tenant: Organization, start: date, end: date) -> dict[str, Any]:
        return self.usage.get((tenant.pk, start, end)) or ledger.totals(tenant, start, end)

    def book(self, reseller: Organization, currency: str, last_day: date):
        """The reseller's price book in force on ``last_day`` (read once per run and date)."""
        from octopushx.billing import resellers

        key = (reseller.pk, currency, last_day)
        if key not in self.books:
            self.books[key] = resellers.book_for_period(reseller, currency, last_day)
        return self.books[key]

    def platform(self) -> Organization:
        from octopushx.tenancy.services import platform_org

        if self.issuer is None:
            self.issuer = platform_org()
        return self.issuer

    def catalogues_of(self, numbers: set[int]) -> dict[int, dict[str, Any]]:
        missing = numbers - set(self.catalogues)
        if missing:
            for version in CatalogueVersion.objects.filter(number__in=missing):
                self.catalogues[version.number] = catalogue.snapshot(version)
        return {number: self.catalogues[number] for number in numbers if number in self.catalogues}

    def tax_rates(self) -> dict[str, Any]:
        if self._tax_rates is None:
            self._tax_rates = tax_rates()
        return self._tax_rates


def compute_period(
    subscription: Subscription,
    start: date,
    end: date,
    cache: RunCache | None = None,
    price_book: dict[str, Any] | None = None,
) -> invoicing.Computed:
    """Read the inputs of one period from the database and compute its invoice.

    ``price_book``: a reseller's retail prices (``PriceBook.prices``) in the subscription's
    currency; without it the period is priced at list (wholesale) prices.
    """
    cache = cache or RunCache()
    timeline = cache.timeline(subscription, end)
    catalogues = cache.catalogues_of({int(state["catalogue_version"]) for _, state in timeline})
    if price_book:
        catalogues = {
            number: invoicing.with_retail_prices(data, price_book, subscription.currency)
            for number, data in catalogues.items()
        }
    return invoicing.compute(
        timeline=timeline,
        catalogues=catalogues,
        usage=cache.usage_of(subscription.tenant, start, end),
        customer=cache.customer(subscription.tenant),
        tax_rates=cache.tax_rates(),
        period_start=start,
        period_end=end,
    )


def compute_invoice(subscription: Subscription, start: date, end: date, cache: RunCache | None = None):
    """What the run invoices for one period: ``(reseller, price book, computed, wholesale subtotal)``.

    A reseller's customer is invoiced by the reseller at its retail prices (the price book in force
    on the period's last day); the same period at list price is the reseller's cost. A direct
    customer: ``(None, None, computed at list price, None)``.
    """
    cache = cache or RunCache()
    reseller = resellers.reseller_of(subscription.tenant)
    book = cache.book(reseller, subscription.currency, end) if reseller else None
    computed = compute_period(subscription, start, end, cache, book.prices if book else None)
    wholesale = None
    if reseller is not None:
        wholesale = computed.subtotal if book is None else compute_period(subscription, start, end, cache).subtotal
    return reseller, book, computed, wholesale


def _write(invoice: Invoice, computed: invoicing.Computed, book=None, wholesale=None, *, new: bool = False) -> None:
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
    invoice.save(force_insert=new)
    if not new:
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
    """The issuer's next number. The increment locks the counter row until the caller's transaction
    ends, so a rolled-back invoice gives its number back and numbers have no gaps."""
    counters = InvoiceCounter.objects.filter(issuer=issuer)
    if not counters.update(last_number=F("last_number") + 1):
        InvoiceCounter.objects.get_or_create(issuer=issuer)
        counters.update(last_number=F("last_number") + 1)
    number = counters.values_list("last_number", flat=True).get()
    return number, f"{NUMBER_PREFIX}{number:06d}"


def due_on_issue() -> date:
    """The due date of an invoice issued today: the payment terms from now (``dunning``)."""
    return clock.today() + timedelta(days=dunning.payment_terms_days())


def close_period(subscription: Subscription, start: date, end: date, at: date, cache: RunCache | None = None) -> str:
    """Draft, refresh or issue the invoice of one period as of ``at``; returns what happened.

    ``"kept"``: issued before (never touched again); ``"drafted"``/``"updated"``/``"unchanged"``:
    still in its grace days; ``"issued"``: numbered and frozen now.
    """
    cache = cache or RunCache()
    due = at > end + timedelta(days=grace_days())
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().filter(subscription=subscription, period_start=start).first()
        if invoice is not None and invoice.status != InvoiceStatus.DRAFT:
            return "kept"
        reseller, book, computed, wholesale = compute_invoice(subscription, start, end, cache)
        outcome = "unchanged"
        if invoice is None:
            invoice = Invoice(
                tenant=subscription.tenant,
                subscription=subscription,
                issuer=reseller or cache.platform(),
                period_start=start,
                created_at=clock.now(),
            )
            if due:  # past its grace days at first sight: numbered as it is written
                invoice.sequence, invoice.number = _next_number(invoice.issuer)
                invoice.status, invoice.issued_at = InvoiceStatus.ISSUED, clock.now()
                invoice.due_on = due_on_issue()
            _write(invoice, computed, book, wholesale, new=True)
            outcome = "drafted"
        elif (
            invoice.computed != computed.canonical()
            or invoice.wholesale_subtotal != wholesale
            or invoice.price_book_revision != (book.revision if book else None)
        ):
            _write(invoice, computed, book, wholesale)
            outcome = "updated"
        if due:
            if invoice.status == InvoiceStatus.DRAFT:
                invoice.issuer = reseller or cache.platform()  # a draft made before its customer moved
                invoice.sequence, invoice.number = _next_number(invoice.issuer)
                invoice.status = InvoiceStatus.ISSUED
                invoice.issued_at = clock.now()
                invoice.due_on = due_on_issue()
                invoice.save(
                    update_fields=["issuer", "sequence", "number", "status", "issued_at", "due_on", "updated_at"]
                )
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
    that ended before ``at`` get their invoice, then dunning (``dunning.run``) emails, reminds,
    suspends and settles. Idempotent: a second run on the same day issues and sends nothing.
    """
    if not services.enabled():
        return {}
    if at is not None and at != clock.today():
        with clock.frozen(at):
            return run(at)
    at = clock.today()
    # Yesterday's stored gigabytes and workflow runs (and the grace days before, if a run was missed).
    ledger.measure_days(at - timedelta(days=n) for n in range(grace_days() + 1, 0, -1))
    counts = {"issued": 0, "drafted": 0, "updated": 0, "unchanged": 0, "kept": 0, "statements": 0}
    subscriptions = (
        Subscription.objects.exclude(status=Status.CANCELLED).select_related("tenant__parent").order_by("created_at")
    )
    issued = set(
        Invoice.objects.exclude(status=InvoiceStatus.DRAFT).values_list("subscription_id", "period_start").order_by()
    )
    work: list[tuple[Subscription, date, date]] = []
    ending: list[tuple[Subscription, date]] = []
    for subscription in subscriptions:
        if not services.is_billed(subscription.tenant) or subscription.tenant.deleted_at is not None:
            continue
        subscription = services.settle_trial(subscription)  # the timeline says when the paid periods began
        anchor = anchor_of(subscription)
        # Cancelled at the period end: the period the cancellation fell in is the last one billed.
        cancelled = services.cancelled_on(subscription)
        last_day = invoicing.period_containing(anchor, subscription.interval, cancelled)[1] if cancelled else None
        for start, end in invoicing.periods(anchor, subscription.interval, at):
            if last_day is not None and start > last_day:
                break
            if (subscription.pk, start) in issued:
                counts["kept"] += 1
            else:
                work.append((subscription, start, end))
        if last_day is not None:
            ending.append((subscription, last_day))
    cache = RunCache()
    cache.prefetch(work)
    for subscription, start, end in work:
        counts[close_period(subscription, start, end, at, cache)] += 1
    for subscription, last_day in ending:
        if at > last_day + timedelta(days=grace_days()):
            services.end_subscription(subscription, last_day)  # its last invoice is issued by now
    counts["statements"] = resellers.close_statements(at)
    counts.update(dunning.run(at))
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
def mark_paid(
    invoice: Invoice, actor: Actor, *, method: str = "bank_transfer", reference: str = "", note: str = ""
) -> Invoice:
    """Platform staff record a bank transfer: an issued invoice becomes paid (audited).

    Card payments come here too, with the Stripe system actor, ``method="card"``, the
    PaymentIntent as ``reference`` and a ``note`` such as "repaired by reconciliation".
    When no overdue invoice is left the subscription is active again and a suspension for
    non-payment is lifted at once (``dunning.settle``).
    """
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
    changes = {"status": ["issued", "paid"], "method": [None, method]}
    if reference:
        changes["reference"] = [None, reference]
    if note:
        changes["note"] = [None, note]
    audit.record(locked.tenant, actor, "invoice.paid", obj=locked, changes=changes)
    events.emit(
        locked.tenant, "invoice.paid", {"invoice_id": str(locked.pk), "number": locked.number, "method": method}
    )
    dunning.settle(locked.subscription, actor)
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
