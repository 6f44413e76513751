"""The catalogue (versioned plans, add-ons and prices) and each customer's subscription.

A catalogue version is never edited once a subscription may point at it: a price or plan change
writes a new version, and subscriptions keep theirs until moved. The subscription's timeline
(``SubscriptionChange``, one row per change with the date it takes effect) is what invoices will
be computed from, together with the catalogue version and the usage ledger.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from octopushx.core.models import TenantModel


class Interval(models.TextChoices):
    MONTH = "month", "Monthly"
    YEAR = "year", "Annual"


class Status(models.TextChoices):
    TRIALING = "trialing", "Trial"
    ACTIVE = "active", "Active"
    PAST_DUE = "past_due", "Past due"
    CANCELLED = "cancelled", "Cancelled"
    SUSPENDED = "suspended", "Suspended"


class Pricing(models.TextChoices):
    FLAT = "flat", "Per unit"  # £20 per pack per month
    PER_SEAT = "per_seat", "Per seat"  # £10 per seat of the subscription per month
    PLAN_SEAT = "plan_seat", "At the plan's seat price"  # extra seats cost what the plan's seats cost


class CatalogueVersion(models.Model):
    """One immutable edition of the catalogue; the highest number is the current one."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = models.PositiveIntegerField(unique=True)
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=254, blank=True)

    class Meta:
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"catalogue v{self.number}"


class Plan(models.Model):
    """A plan of one catalogue version; priced per seat."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    version = models.ForeignKey(CatalogueVersion, on_delete=models.PROTECT, related_name="plans")
    slug = models.SlugField(max_length=32)
    name = models.CharField(max_length=80)
    position = models.PositiveSmallIntegerField(default=0)
    features = models.JSONField(default=list, help_text="Feature keys the plan includes")
    included_minutes_per_seat = models.PositiveIntegerField(help_text="Transcription minutes per seat per month")
    min_seats = models.PositiveIntegerField(default=1)
    max_seats = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: no maximum")
    overage_allowed = models.BooleanField(default=False)

    class Meta:
        ordering = ["position", "slug"]
        constraints = [models.UniqueConstraint(fields=["version", "slug"], name="billing_plan_slug_per_version")]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version.number})" if self.version_id else self.name


class AddOn(models.Model):
    """A paid extra of one catalogue version."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    version = models.ForeignKey(CatalogueVersion, on_delete=models.PROTECT, related_name="addons")
    slug = models.SlugField(max_length=32)
    name = models.CharField(max_length=80)
    position = models.PositiveSmallIntegerField(default=0)
    pricing = models.CharField(max_length=16, choices=Pricing.choices, default=Pricing.FLAT)
    features = models.JSONField(default=list, help_text="Feature keys the add-on grants")
    included_in = models.JSONField(default=list, help_text="Plan slugs that already include it")
    minutes = models.PositiveIntegerField(default=0, help_text="Transcription minutes per unit per month")
    storage_gb = models.PositiveIntegerField(default=0, help_text="Storage per unit")
    seats = models.PositiveIntegerField(default=0, help_text="Seats per unit")
    max_quantity = models.PositiveIntegerField(default=1, help_text="Units one subscription may hold")

    class Meta:
        ordering = ["position", "slug"]
        constraints = [models.UniqueConstraint(fields=["version", "slug"], name="billing_addon_slug_per_version")]

    def __str__(self) -> str:
        return self.name


class Price(models.Model):
    """The price of a plan (per seat) or an add-on (per unit or seat) in one currency and interval."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    plan = models.ForeignKey(Plan, null=True, blank=True, on_delete=models.CASCADE, related_name="prices")
    addon = models.ForeignKey(AddOn, null=True, blank=True, on_delete=models.CASCADE, related_name="prices")
    currency = models.CharField(max_length=3)
    interval = models.CharField(max_length=8, choices=Interval.choices)
    # Three places hold every currency we accept; money.parse_price keeps each to its own minor unit.
    amount = models.DecimalField(max_digits=12, decimal_places=3)

    class Meta:
        ordering = ["currency", "interval"]
        constraints = [
            models.CheckConstraint(
                condition=Q(plan__isnull=False, addon__isnull=True) | Q(plan__isnull=True, addon__isnull=False),
                name="billing_price_of_plan_or_addon",
            ),
            models.UniqueConstraint(fields=["plan", "currency", "interval"], name="billing_one_plan_price"),
            models.UniqueConstraint(fields=["addon", "currency", "interval"], name="billing_one_addon_price"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}/{self.interval}"


class Subscription(TenantModel):
    """A customer organisation's one subscription."""

    version = models.ForeignKey(CatalogueVersion, on_delete=models.PROTECT, related_name="+")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+")
    plan_chosen = models.BooleanField(default=False, help_text="The customer chose the plan (else Team after trial)")
    interval = models.CharField(max_length=8, choices=Interval.choices, default=Interval.MONTH)
    currency = models.CharField(max_length=3, default="GBP")
    seats = models.PositiveIntegerField(default=1)
    started_on = models.DateField()
    trial_end = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.TRIALING)
    auto_renew = models.BooleanField(default=True)
    cancel_at_period_end = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="billing_one_subscription_per_tenant")]

    def __str__(self) -> str:
        return f"{self.plan.slug} subscription of {self.tenant_id}"


class SubscriptionAddOn(TenantModel):
    """An add-on held by a subscription, with its quantity."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="addons")
    addon = models.ForeignKey(AddOn, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["addon__position"]
        constraints = [models.UniqueConstraint(fields=["subscription", "addon"], name="billing_addon_once")]


class ChangeKind(models.TextChoices):
    STARTED = "started", "Subscription started"
    CHANGED = "changed", "Subscription changed"
    TRIAL_ENDED = "trial_ended", "Trial ended"
    MIGRATED = "migrated", "Moved to a newer catalogue version"
    DUNNING = "dunning", "Past due or suspended for an unpaid invoice"
    PAID_UP = "paid_up", "Active again: no overdue invoice left"


class SubscriptionChange(TenantModel):
    """One step of the subscription's timeline: its whole state from ``effective_on`` on.

    ``state`` is a snapshot (plan slug, catalogue version number, interval, currency, seats,
    add-ons, status), so the timeline alone says what was sold on any day.
    """

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="changes")
    kind = models.CharField(max_length=16, choices=ChangeKind.choices)
    effective_on = models.DateField()
    recorded_at = models.DateTimeField()
    state = models.JSONField()

    class Meta:
        ordering = ["effective_on", "recorded_at"]
        indexes = [models.Index(fields=["subscription", "effective_on"])]


# --- usage --------------------------------------------------------------------------------------


class Metric(models.TextChoices):
    TRANSCRIPTION_MINUTES = "transcription_minutes", "Transcription minutes"
    STORAGE_GB_DAYS = "storage_gb_days", "Storage (GB-days)"
    WORKFLOW_RUNS = "workflow_runs", "Workflow runs"


class UsageEvent(TenantModel):
    """One metered quantity (the ledger's truth); ``key`` makes a repeated measurement count once."""

    metric = models.CharField(max_length=32, choices=Metric.choices)
    quantity = models.DecimalField(max_digits=18, decimal_places=4)
    occurred_at = models.DateTimeField()
    key = models.CharField(max_length=200)

    class Meta:
        ordering = ["occurred_at"]
        constraints = [models.UniqueConstraint(fields=["tenant", "metric", "key"], name="billing_usage_once")]
        indexes = [models.Index(fields=["tenant", "metric", "occurred_at"])]


class UsageDay(TenantModel):
    """The daily total of one metric (UTC days); rebuilt from ``UsageEvent`` at any time."""

    metric = models.CharField(max_length=32, choices=Metric.choices)
    day = models.DateField()
    quantity = models.DecimalField(max_digits=18, decimal_places=4, default=0)
    events = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["day", "metric"]
        constraints = [models.UniqueConstraint(fields=["tenant", "metric", "day"], name="billing_usage_day_once")]


# --- tax and invoices ---------------------------------------------------------------------------


class TaxRate(models.Model):
    """The VAT (or sales tax) rate of a customer country, maintained by the operator."""

    country = models.CharField(max_length=2, unique=True, help_text="ISO 3166 code, e.g. GB")
    rate = models.DecimalField(max_digits=5, decimal_places=2, help_text="Percent, e.g. 20.00")
    name = models.CharField(max_length=40, default="VAT")

    class Meta:
        ordering = ["country"]

    def __str__(self) -> str:
        return f"{self.name} {self.rate} % ({self.country})"


class BillingProfile(TenantModel):
    """Who a customer is for tax: country, and whether it buys as a business with a VAT number."""

    legal_name = models.CharField(max_length=200, blank=True)
    country = models.CharField(max_length=2, default="GB")
    business = models.BooleanField(default=False)
    vat_number = models.CharField(max_length=32, blank=True)
    email = models.EmailField(blank=True, help_text="Where invoices and reminders go (empty: the owners)")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="billing_one_profile_per_tenant")]


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ISSUED = "issued", "Issued"
    PAID = "paid", "Paid"


class InvoiceCounter(models.Model):
    """The last invoice number an issuer gave; locked while the next one is taken (no gaps)."""

    issuer = models.OneToOneField("tenancy.Organization", on_delete=models.CASCADE, related_name="+")
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"last invoice number {self.last_number}"


class Invoice(TenantModel):
    """One subscription period's invoice: a draft while its usage may still arrive, then issued (frozen)."""

    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="invoices")
    issuer = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    number = models.CharField(max_length=32, blank=True, help_text="Given when issued")
    sequence = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT)
    currency = models.CharField(max_length=3)
    period_start = models.DateField()
    period_end = models.DateField(help_text="The period's last day")
    catalogue_version = models.PositiveIntegerField()
    subtotal = models.DecimalField(max_digits=14, decimal_places=3)
    tax = models.DecimalField(max_digits=14, decimal_places=3)
    tax_rate = models.DecimalField(max_digits=5, decimal_places=2)
    tax_rule = models.CharField(max_length=300)
    total = models.DecimalField(max_digits=14, decimal_places=3)
    customer = models.JSONField(default=dict, help_text="Name, country and VAT number as invoiced")
    computed = models.TextField(help_text="The computation as canonical JSON (the same inputs give the same bytes)")
    issued_at = models.DateTimeField(null=True, blank=True)
    due_on = models.DateField(null=True, blank=True, help_text="Issue date + payment terms (set when issued)")
    paid_at = models.DateTimeField(null=True, blank=True)
    # A reseller's customer: the price book revision it was priced at, and what the same period
    # costs at wholesale (the line of the reseller's statement); both empty for direct customers.
    price_book_revision = models.PositiveIntegerField(null=True, blank=True)
    wholesale_subtotal = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True)

    class Meta:
        ordering = ["-period_start"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "period_start"], name="billing_one_invoice_per_period"),
            models.UniqueConstraint(
                fields=["issuer", "sequence"], condition=Q(sequence__isnull=False), name="billing_invoice_number_once"
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"draft {self.period_start}"

    @property
    def total_text(self) -> str:
        """The total with the currency's places ("42.00")."""
        from octopushx.billing.money import format_amount

        return format_amount(self.total, self.currency)


class InvoiceLine(TenantModel):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=16)
    description = models.CharField(max_length=300)
    quantity = models.DecimalField(max_digits=18, decimal_places=4)
    unit_price = models.DecimalField(max_digits=14, decimal_places=6)
    amount = models.DecimalField(max_digits=14, decimal_places=3)

    class Meta:
        ordering = ["position"]


# --- credit notes and dunning -------------------------------------------------------------------


class CreditNoteCounter(models.Model):
    """The last credit note number an issuer gave (a series of its own, apart from invoices)."""

    issuer = models.OneToOneField("tenancy.Organization", on_delete=models.CASCADE, related_name="+")
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"last credit note number {self.last_number}"


class CreditNote(TenantModel):
    """A refund or correction of an issued invoice (which itself is never edited); tax at the invoice's rule."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    issuer = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    number = models.CharField(max_length=32)
    sequence = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=500)
    subtotal = models.DecimalField(max_digits=14, decimal_places=3)
    tax = models.DecimalField(max_digits=14, decimal_places=3)
    tax_rate = models.DecimalField(max_digits=5, decimal_places=2)
    tax_rule = models.CharField(max_length=300)
    total = models.DecimalField(max_digits=14, decimal_places=3)
    issued_at = models.DateTimeField()
    issued_by = models.CharField(max_length=254, blank=True)

    class Meta:
        ordering = ["-issued_at", "-sequence"]
        constraints = [
            models.UniqueConstraint(fields=["issuer", "sequence"], name="billing_credit_note_number_once"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def total_text(self) -> str:
        from octopushx.billing.money import format_amount

        return format_amount(self.total, self.currency)


class CreditNoteLine(TenantModel):
    credit_note = models.ForeignKey(CreditNote, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    description = models.CharField(max_length=300)
    amount = models.DecimalField(max_digits=14, decimal_places=3, help_text="Before tax")

    class Meta:
        ordering = ["position"]


class NoticeKind(models.TextChoices):
    ISSUED = "issued", "Invoice sent"
    REMINDER_1 = "reminder_1", "Reminder, 1 day overdue"
    REMINDER_7 = "reminder_7", "Reminder, 7 days overdue"
    REMINDER_14 = "reminder_14", "Reminder, 14 days overdue"
    SUSPENDED = "suspended", "Suspended for non-payment"


class InvoiceNotice(TenantModel):
    """One billing email about an invoice, decided by the run (once: the row makes the run idempotent)
    and sent by a job (``sent_at`` empty until then)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=16, choices=NoticeKind.choices)
    days_overdue = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    recipients = models.JSONField(default=list)

    class Meta:
        ordering = ["created_at"]
        constraints = [models.UniqueConstraint(fields=["invoice", "kind"], name="billing_invoice_notice_once")]


# --- the reseller programme ---------------------------------------------------------------------


class PriceBook(TenantModel):
    """One revision of a reseller's retail prices (the tenant is the reseller); the highest is current.

    ``prices`` is ``{"plans": {slug: {interval: "amount"}}, "addons": {...}}`` in ``currency``; an
    item left out is sold at list price. A customer's period is priced at the revision in force
    on its last day, so an issued invoice is reproducible whatever the book says later.
    """

    revision = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="GBP")
    prices = models.JSONField(default=dict)
    effective_at = models.DateTimeField()
    created_by = models.CharField(max_length=254, blank=True)

    class Meta:
        ordering = ["-revision"]
        constraints = [models.UniqueConstraint(fields=["tenant", "revision"], name="billing_price_book_revision_once")]

    def __str__(self) -> str:
        return f"price book r{self.revision} of {self.tenant_id}"


class Statement(TenantModel):
    """The platform's monthly wholesale invoice to a reseller (the tenant): one line per customer.

    It covers the customers' invoices issued in ``month`` (its first day) and is numbered in the
    platform's invoice sequence when issued; it is never edited afterwards.
    """

    issuer = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    number = models.CharField(max_length=32)
    sequence = models.PositiveIntegerField()
    status = models.CharField(max_length=8, choices=InvoiceStatus.choices, default=InvoiceStatus.ISSUED)
    currency = models.CharField(max_length=3)
    month = models.DateField(help_text="The first day of the month it covers")
    subtotal = models.DecimalField(max_digits=14, decimal_places=3)
    tax = models.DecimalField(max_digits=14, decimal_places=3)
    tax_rate = models.DecimalField(max_digits=5, decimal_places=2)
    tax_rule = models.CharField(max_length=300)
    total = models.DecimalField(max_digits=14, decimal_places=3)
    computed = models.TextField(help_text="The statement as canonical JSON")
    issued_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-month", "currency"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "month", "currency"], name="billing_one_statement_per_month"),
            models.UniqueConstraint(fields=["issuer", "sequence"], name="billing_statement_number_once"),
        ]

    def __str__(self) -> str:
        return self.number


class StatementLine(TenantModel):
    """One customer's wholesale cost on a statement (the sum of its invoices issued that month)."""

    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    customer = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    description = models.CharField(max_length=300)
    invoices = models.JSONField(default=list, help_text="Numbers of the customer's invoices it covers")
    retail_subtotal = models.DecimalField(max_digits=14, decimal_places=3)
    amount = models.DecimalField(max_digits=14, decimal_places=3)

    class Meta:
        ordering = ["position"]


# --- card payments (Stripe collects the money; local invoices stay the truth) ---------------------


class PaymentAccount(TenantModel):
    """An organisation's Stripe customer and the card saved for off-session charges."""

    stripe_customer = models.CharField(max_length=255, blank=True)
    payment_method = models.CharField(max_length=255, blank=True, help_text="Stripe id of the saved card")
    card_brand = models.CharField(max_length=32, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    card_exp_month = models.PositiveSmallIntegerField(null=True, blank=True)
    card_exp_year = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="billing_one_payment_account_per_tenant")]

    @property
    def has_card(self) -> bool:
        return bool(self.stripe_customer and self.payment_method)


class PaymentStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # written before Stripe is called, so a retry reuses its key
    PROCESSING = "processing", "Processing"
    REQUIRES_ACTION = "requires_action", "Needs the cardholder"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class PaymentSource(models.TextChoices):
    CHARGE = "charge", "Saved card"  # charged off-session when the invoice was issued
    CHECKOUT = "checkout", "Checkout"  # paid by the customer on Stripe's checkout page


class Payment(TenantModel):
    """One attempt to collect an invoice by card; ``attempt`` numbers a charge's idempotency key."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="payments")
    source = models.CharField(max_length=16, choices=PaymentSource.choices)
    attempt = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.PENDING)
    amount = models.DecimalField(max_digits=14, decimal_places=3)
    currency = models.CharField(max_length=3)
    payment_method = models.CharField(max_length=255, blank=True, help_text="The card charged (saved-card charges)")
    stripe_payment_intent = models.CharField(max_length=255, blank=True, db_index=True)
    stripe_checkout_session = models.CharField(max_length=255, blank=True, db_index=True)
    failure_message = models.CharField(max_length=300, blank=True)
    reconciled_at = models.DateTimeField(null=True, blank=True, help_text="Last time Stripe agreed with us")

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "attempt"], condition=Q(source="charge"), name="billing_one_charge_per_attempt"
            ),
        ]

    @property
    def amount_text(self) -> str:
        from octopushx.billing.money import format_amount

        return format_amount(self.amount, self.currency)


class StripeEvent(models.Model):
    """A Stripe webhook event handled once: a replay finds its row and does nothing."""

    id = models.CharField(max_length=255, primary_key=True)
    type = models.CharField(max_length=100)
    received_at = models.DateTimeField()
    outcome = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"
