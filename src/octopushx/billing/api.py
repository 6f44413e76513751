"""Billing API: the catalogue (everyone reads, platform staff publish) and the caller's subscription.

With billing off (``OCTOPUSHX_BILLING`` unset) every route answers 404, after the caller's role
is checked (who is asking comes first, as for every other refusal).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.urls import reverse
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from octopushx.api.auth import require
from octopushx.api.errors import ErrorOut, _field_errors
from octopushx.billing import catalogue, credits, documents, dunning, invoices, ledger, money, payments, services
from octopushx.billing.models import CatalogueVersion, CreditNote, Invoice, Subscription
from octopushx.tenancy.roles import Perm

router = Router(tags=["billing"])

NOT_ON = "Billing is not turned on for this installation"


def _billing_on() -> None:
    if not services.enabled():
        raise Http404(NOT_ON)


def _staff(request) -> None:
    if not catalogue.is_platform_staff(request.actor):
        raise PermissionDenied("Only platform staff change the catalogue")


class BillingPlanIn(Schema):
    slug: str
    name: str
    features: list[str] = []
    included_minutes_per_seat: int
    min_seats: int = 1
    max_seats: int | None = None
    overage_allowed: bool = False
    prices: dict[str, dict[str, str | None]]
    note: str = ""


class BillingPlanPatch(Schema):
    slug: str
    name: str | None = None
    features: list[str] | None = None
    included_minutes_per_seat: int | None = None
    min_seats: int | None = None
    max_seats: int | None = None
    overage_allowed: bool | None = None
    prices: dict[str, dict[str, str | None]] | None = None
    note: str = ""


class BillingAddOnIn(Schema):
    slug: str
    name: str
    pricing: str = "flat"
    features: list[str] = []
    included_in: list[str] = []
    minutes: int = 0
    storage_gb: int = 0
    seats: int = 0
    max_quantity: int = 1
    prices: dict[str, dict[str, str | None]] = {}
    note: str = ""


class BillingAddOnPatch(Schema):
    slug: str
    name: str | None = None
    pricing: str | None = None
    features: list[str] | None = None
    included_in: list[str] | None = None
    minutes: int | None = None
    storage_gb: int | None = None
    seats: int | None = None
    max_quantity: int | None = None
    prices: dict[str, dict[str, str | None]] | None = None
    note: str = ""


class BillingMigrationIn(Schema):
    from_version: int | None = None


class BillingAddOnChoice(Schema):
    slug: str
    quantity: int = 1


class BillingSubscriptionPatch(Schema):
    plan: str | None = None
    seats: int | None = None
    interval: str | None = None
    addons: list[str | BillingAddOnChoice] | None = None
    auto_renew: bool | None = None
    cancel_at_period_end: bool | None = None


def _version(number: int | None) -> CatalogueVersion | None:
    if number is None:
        return None
    # Out-of-range numbers never reach the database (SQLite integers stop at 2**63).
    version = CatalogueVersion.objects.filter(number=number).first() if 1 <= number <= 2**31 else None
    if version is None:
        raise Http404(f"No catalogue version {number}")
    return version


def _catalogue_out(kind: str, version=None) -> dict[str, Any]:
    version = version or catalogue.current_version()
    data = catalogue.snapshot(version)
    items = data[kind]
    for item in items:
        item["features"] = [{"key": f, "name": catalogue.feature_label(f)} for f in item["features"]]
    return {"catalogue_version": version.number, "items": items}


def _subscription_out(subscription: Subscription) -> dict[str, Any]:
    info = services.summary(subscription)
    plan = info["plan"]
    price = plan.prices.filter(currency=info["currency"], interval=info["interval"]).first()
    return {
        "plan": {"slug": plan.slug, "name": plan.name},
        "catalogue_version": info["version"].number,
        "interval": info["interval"],
        "currency": info["currency"],
        "seat_price": money.format_amount(price.amount, price.currency) if price else None,
        "seats": info["seats"],
        "seat_capacity": info["seat_capacity"],
        "seats_used": info["seats_used"],
        "status": info["status"],
        "started_on": info["started_on"].isoformat(),
        "trial_end": info["trial_end"].isoformat() if info["trial_end"] else None,
        "auto_renew": info["auto_renew"],
        "cancel_at_period_end": info["cancel_at_period_end"],
        "addons": [
            {"slug": row.addon.slug, "name": row.addon.name, "quantity": row.quantity} for row in info["addons"]
        ],
        "features": info["features"],
    }


def _changes(data: Schema) -> dict[str, Any]:
    fields = data.model_dump(exclude_unset=True)
    fields.pop("note", None)
    return fields


@router.get("/billing/plans", summary="The plans of the current catalogue", response={200: dict, 404: ErrorOut})
def list_plans(request, version: int | None = None):
    """Every plan with its features, included minutes per seat and prices per currency and interval.
    ``?version=N`` reads an older catalogue version (the one a subscription keeps)."""
    _billing_on()
    return _catalogue_out("plans", _version(version))


@router.post(
    "/billing/plans",
    summary="Add a plan (platform staff; publishes a new catalogue version)",
    response={201: dict, 404: ErrorOut},
)
def create_plan(request, data: BillingPlanIn):
    _staff(request)
    _billing_on()
    version = catalogue.publish(request.actor, {"plan": {**_changes(data), "create": True}}, note=data.note)
    return 201, _catalogue_out("plans", version)


@router.patch(
    "/billing/plans",
    summary="Change a plan by slug (platform staff; publishes a new catalogue version)",
    response={200: dict, 404: ErrorOut},
)
def update_plan(request, data: BillingPlanPatch):
    """Subscriptions keep the version they are on: the change applies to new subscriptions."""
    _staff(request)
    _billing_on()
    version = catalogue.publish(request.actor, {"plan": _changes(data)}, note=data.note)
    return _catalogue_out("plans", version)


@router.get("/billing/addons", summary="The add-ons of the current catalogue", response={200: dict, 404: ErrorOut})
def list_addons(request, version: int | None = None):
    """Every add-on with its pricing, what it grants and its prices; ``?version=N`` as for plans."""
    _billing_on()
    return _catalogue_out("addons", _version(version))


@router.post(
    "/billing/addons",
    summary="Add an add-on (platform staff; publishes a new catalogue version)",
    response={201: dict, 404: ErrorOut},
)
def create_addon(request, data: BillingAddOnIn):
    _staff(request)
    _billing_on()
    version = catalogue.publish(request.actor, {"addon": {**_changes(data), "create": True}}, note=data.note)
    return 201, _catalogue_out("addons", version)


@router.patch(
    "/billing/addons",
    summary="Change an add-on by slug (platform staff; publishes a new catalogue version)",
    response={200: dict, 404: ErrorOut},
)
def update_addon(request, data: BillingAddOnPatch):
    _staff(request)
    _billing_on()
    version = catalogue.publish(request.actor, {"addon": _changes(data)}, note=data.note)
    return _catalogue_out("addons", version)


@router.post(
    "/billing/subscriptions/migrate",
    summary="Move subscriptions to the current catalogue version (platform staff)",
    response={200: dict, 404: ErrorOut},
)
def migrate_subscriptions(request, data: BillingMigrationIn):
    """Grandfathered subscriptions (all older versions, or ``from_version`` only) move onto the current
    version by plan and add-on slug; each move is audited in its organisation and dated on its timeline.
    Those that cannot move (their plan is gone) stay and are listed with the reason."""
    _staff(request)
    _billing_on()
    return services.migrate_subscriptions(request.actor, from_version=data.from_version)


def _own_subscription(request) -> Subscription:
    subscription = services.current_subscription(request.tenant)
    if subscription is None:
        raise Http404("Only customer organisations have a subscription")
    return subscription


@router.get("/billing/subscription", summary="The organisation's subscription", response={200: dict, 404: ErrorOut})
def get_subscription(request):
    """Plan, seats (bought, usable and in use), interval, status, trial end, add-ons and features."""
    _billing_on()
    return _subscription_out(_own_subscription(request))


@router.patch(
    "/billing/subscription",
    summary="Change plan, seats, interval or add-ons (owners and admins)",
    response={200: dict, 404: ErrorOut},
)
def update_subscription(request, data: BillingSubscriptionPatch):
    """``{"plan": "team", "seats": 5, "interval": "month", "addons": ["studio", {"slug": "minutes_1000",
    "quantity": 2}]}``; a field left out stays. Anything wrong is a 422 and nothing changes."""
    require(request, Perm.ADMIN)
    _billing_on()
    _own_subscription(request)
    fields = data.model_dump(exclude_unset=True)
    subscription = services.change_subscription(request.tenant, request.actor, **fields)
    return _subscription_out(subscription)


class BillingProfilePatch(Schema):
    legal_name: str | None = Field(None, description="The name invoices are made out to (default: the organisation's)")
    country: str | None = Field(None, description="ISO 3166 two-letter code: decides the tax rule")
    business: bool | None = Field(None, description="Buys as a business (with a VAT number: reverse charge abroad)")
    vat_number: str | None = None
    email: str | None = Field(None, description="Where invoices and reminders go (empty: the owners)")


@router.get(
    "/billing/profile",
    summary="The organisation's billing details: legal name, country, VAT number, billing email (owners and admins)",
    response={200: dict, 404: ErrorOut},
)
def get_profile(request):
    require(request, Perm.ADMIN)
    _billing_on()
    _own_subscription(request)
    return services.profile_out(services.profile_of(request.tenant))


@router.patch(
    "/billing/profile",
    summary="Change the billing details (owners and admins); the next invoices use them",
    response={200: dict, 404: ErrorOut},
)
def update_profile(request, data: BillingProfilePatch):
    """``{"legal_name", "country", "business", "vat_number", "email"}``; a field left out stays. An
    unknown country, a malformed VAT number or email is a 422 naming the field, and nothing changes."""
    require(request, Perm.ADMIN)
    _billing_on()
    _own_subscription(request)
    fields = data.model_dump(exclude_unset=True)
    return services.profile_out(services.update_profile(request.tenant, request.actor, **fields))


# --- usage and invoices ------------------------------------------------------------------------------


class BillingUsageQuery(Schema):
    from_: str | None = Field(None, alias="from", description="First day, YYYY-MM-DD (default: the period's)")
    to: str | None = Field(None, description="Last day, YYYY-MM-DD (default: the period's)")


@router.get(
    "/billing/usage",
    summary="Usage per metric: totals and a daily series (owners and admins)",
    response={200: dict, 404: ErrorOut},
)
def get_usage(request, filters: Query[BillingUsageQuery]):
    """``?from=YYYY-MM-DD&to=YYYY-MM-DD`` (both days included, at most 366 days; by default the
    current billing period). Each metric answers its total and one quantity per day, as decimal strings."""
    require(request, Perm.ADMIN)
    _billing_on()
    _own_subscription(request)
    return ledger.usage_report(request.tenant, filters.from_, filters.to)


def _invoice_out(invoice: Invoice, *, lines: bool = True) -> dict[str, Any]:
    currency = invoice.currency

    def amount(value) -> str:
        return money.format_amount(value, currency)

    out = {
        "id": str(invoice.pk),
        "number": invoice.number or None,
        "status": invoice.status,
        "currency": currency,
        "period_start": invoice.period_start.isoformat(),
        "period_end": invoice.period_end.isoformat(),
        "issued_at": invoice.issued_at.isoformat() if invoice.issued_at else None,
        "due_on": due_on.isoformat() if (due_on := dunning.due_date(invoice)) else None,
        "paid_at": invoice.paid_at.isoformat() if invoice.paid_at else None,
        "subtotal": amount(invoice.subtotal),
        "tax": amount(invoice.tax),
        "tax_rule": invoice.tax_rule,
        "total": amount(invoice.total),
        "credited": amount(credits.credited(invoice).total),
        "amount_due": amount(credits.amount_due(invoice)),
        "credit_notes": [
            {"id": str(note.pk), "number": note.number, "total": amount(note.total)}
            for note in invoice.credit_notes.order_by("sequence")
        ],
        "payments": [
            {
                "status": payment.status,
                "source": payment.source,
                "amount": amount(payment.amount),
                "at": payment.created_at.isoformat(),
                "failure_message": payment.failure_message or None,
            }
            for payment in invoice.payments.all()
        ],
    }
    if lines:
        out["lines"] = [
            {
                "description": line.description,
                "quantity": format(line.quantity.normalize(), "f"),
                "unit_price": format(line.unit_price.normalize(), "f"),
                "amount": amount(line.amount),
            }
            for line in invoice.lines.all()
        ]
    return out


@router.get(
    "/billing/invoices",
    summary="The organisation's invoices, newest first (owners and admins)",
    response={200: dict, 404: ErrorOut},
)
def list_invoices(request):
    """Drafts (their period's grace days still run; no number yet), issued and paid invoices."""
    require(request, Perm.ADMIN)
    _billing_on()
    found = invoices.invoices_of(request.tenant).prefetch_related("lines", "payments")
    return {"items": [_invoice_out(invoice) for invoice in found]}


@router.get(
    "/billing/invoices/{invoice_id}",
    summary="One invoice with its lines (owners and admins)",
    response={200: dict, 404: ErrorOut},
)
def get_invoice(request, invoice_id: str):
    """Amounts are decimal strings in the currency's minor unit; ``tax_rule`` says which tax rule applied."""
    require(request, Perm.ADMIN)
    _billing_on()
    return _invoice_out(invoices.find(request.tenant, request.actor, invoice_id))


@router.get(
    "/billing/invoices/{invoice_id}/pdf",
    summary="One invoice as PDF (owners and admins)",
    response={200: None, 404: ErrorOut},
)
def invoice_pdf(request, invoice_id: str):
    require(request, Perm.ADMIN)
    _billing_on()
    invoice = invoices.find(request.tenant, request.actor, invoice_id)
    response = HttpResponse(documents.invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{documents.filename(invoice)}"'
    return response


@router.post(
    "/billing/invoices/{invoice_id}/mark-paid",
    summary="Record that an issued invoice was paid (platform staff)",
    response={200: dict, 404: ErrorOut},
)
def mark_invoice_paid(request, invoice_id: str):
    """For bank transfers: platform staff only (a customer cannot mark its own invoice paid: 403).
    A draft or an invoice already paid is a 422 and nothing changes."""
    invoice = invoices.find(request.tenant, request.actor, invoice_id)  # another organisation's: 404
    if not catalogue.is_platform_staff(request.actor):
        raise PermissionDenied("Only platform staff mark invoices paid")
    _billing_on()
    return _invoice_out(invoices.mark_paid(invoice, request.actor))


# --- credit notes ------------------------------------------------------------------------------------


class BillingCreditLineIn(Schema):
    description: str
    amount: str = Field(description="Before tax, a decimal string in the invoice's currency")


class BillingCreditNoteIn(Schema):
    reason: str
    lines: list[BillingCreditLineIn] | None = None
    full: bool = False


def _credit_note_out(note: CreditNote) -> dict[str, Any]:
    currency = note.currency

    def amount(value) -> str:
        return money.format_amount(value, currency)

    return {
        "id": str(note.pk),
        "number": note.number,
        "invoice": {"id": str(note.invoice_id), "number": note.invoice.number},
        "currency": currency,
        "reason": note.reason,
        "issued_at": note.issued_at.isoformat(),
        "lines": [{"description": line.description, "amount": amount(line.amount)} for line in note.lines.all()],
        "subtotal": amount(note.subtotal),
        "tax": amount(note.tax),
        "tax_rule": note.tax_rule,
        "total": amount(note.total),
    }


def _invoice_to_credit(request, invoice_id: str) -> Invoice:
    """The invoice as its issuer or platform staff reach it; the customer's own is found (then refused: 403)."""
    try:
        return invoices.find(request.tenant, request.actor, invoice_id)
    except Http404:
        issued = Invoice.objects.filter(issuer=request.tenant)
        try:
            invoice = issued.filter(pk=invoice_id).first()
        except (ValueError, TypeError, ValidationError):
            invoice = None
        if invoice is None:
            raise
        return invoice


@router.post(
    "/billing/invoices/{invoice_id}/credit-notes",
    summary="Credit an issued invoice, in part or in full (the issuer's owners and admins, platform staff)",
    response={201: dict, 400: ErrorOut, 404: ErrorOut},
)
def create_credit_note(request, invoice_id: str, data: BillingCreditNoteIn):
    """``{"reason": "...", "lines": [{"description": "...", "amount": "10.00"}]}`` (amounts before tax;
    tax is credited at the invoice's rule) or ``{"reason": "...", "full": true}`` for all that is left.
    More than is left to credit, a draft, or a missing reason is a 400 and nothing changes. The invoice
    itself is never edited; on an unpaid invoice the credit lowers what is due."""
    invoice = _invoice_to_credit(request, invoice_id)  # another organisation's: 404
    if not credits.can_credit(request.actor, invoice):
        raise PermissionDenied("Only the invoice's issuer (its owners and admins) or platform staff issue credit notes")
    _billing_on()
    lines = [line.model_dump() for line in data.lines] if data.lines is not None else None
    try:
        note = credits.issue_credit_note(invoice, request.actor, reason=data.reason, lines=lines, full=data.full)
    except ValidationError as exc:
        detail = "The credit note was refused; nothing changed"
        return 400, {"detail": detail, "errors": _field_errors(exc)}
    return 201, _credit_note_out(note)


@router.get(
    "/billing/credit-notes",
    summary="Credit notes of the organisation, and those it issued (owners and admins)",
    response={200: dict, 404: ErrorOut},
)
def list_credit_notes(request):
    """Newest first; platform staff see every organisation's."""
    require(request, Perm.ADMIN)
    _billing_on()
    found = credits.visible_credit_notes(request.tenant, request.actor).select_related("invoice")
    return {"items": [_credit_note_out(note) for note in found.prefetch_related("lines")]}


@router.get(
    "/billing/credit-notes/{credit_note_id}",
    summary="One credit note with its lines (owners and admins)",
    response={200: dict, 404: ErrorOut},
)
def get_credit_note(request, credit_note_id: str):
    require(request, Perm.ADMIN)
    _billing_on()
    return _credit_note_out(credits.find(request.tenant, request.actor, credit_note_id))


@router.get(
    "/billing/credit-notes/{credit_note_id}/pdf",
    summary="One credit note as PDF (owners and admins)",
    response={200: None, 404: ErrorOut},
)
def credit_note_pdf(request, credit_note_id: str):
    require(request, Perm.ADMIN)
    _billing_on()
    note = credits.find(request.tenant, request.actor, credit_note_id)
    response = HttpResponse(documents.credit_note_pdf(note), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{documents.credit_note_filename(note)}"'
    return response


# --- card payment (Stripe) ----------------------------------------------------------------------------


class BillingCheckoutIn(Schema):
    invoice_id: str | None = Field(
        None, description="An issued, unpaid invoice to pay now; left out, the page only saves a card"
    )


def _card_payments_on() -> None:
    _billing_on()
    if not payments.card_payments_enabled():
        raise Http404(payments.NOT_SET_UP)


@router.post(
    "/billing/stripe/checkout",
    summary="Start a Stripe Checkout to save a card or pay an invoice (owners and admins)",
    response={200: dict, 404: ErrorOut, 502: ErrorOut},
)
def stripe_checkout(request, data: BillingCheckoutIn):
    """Answers ``{"url": ...}``: send the person there. Without ``invoice_id`` Stripe's page saves a card
    (mode ``setup``) that each invoice is charged to when it is issued; with an issued, unpaid invoice of
    the organisation it takes that payment (mode ``payment``) and keeps the card for the next ones.
    404 when billing is off, card payment is not set up, or the invoice is not the organisation's."""
    require(request, Perm.ADMIN)
    _card_payments_on()
    _own_subscription(request)
    invoice = None
    if data.invoice_id:
        invoice = invoices.invoices_of(request.tenant).get_for_tenant(request.tenant, data.invoice_id)
    page = request.build_absolute_uri(reverse("billing:subscription"))
    try:
        url = payments.start_checkout(
            request.tenant,
            request.actor,
            invoice=invoice,
            success_url=f"{page}?card=done&session={{CHECKOUT_SESSION_ID}}",
            cancel_url=f"{page}?card=cancelled",
        )
    except payments.PaymentProviderError as exc:
        raise HttpError(502, str(exc))
    return {"url": url}


@router.post(
    "/billing/stripe/webhook",
    auth=None,
    summary="Stripe's webhook (signed by Stripe; no other authentication)",
    response={200: dict, 400: ErrorOut, 404: ErrorOut, 503: ErrorOut},
)
def stripe_webhook(request):
    """Verified with ``stripe.Webhook.construct_event`` and ``OCTOPUSHX_STRIPE_WEBHOOK_SECRET``: a missing or
    bad ``Stripe-Signature`` is a 400 and nothing changes. Each event is handled once (a replay answers
    ``"duplicate"``); event types billing does not use are acknowledged and ignored."""
    _card_payments_on()
    if not getattr(settings, "STRIPE_WEBHOOK_SECRET", ""):
        raise Http404("The Stripe webhook secret is not set")
    try:
        event = payments.verify(request.body, request.headers.get("Stripe-Signature"))
        outcome = payments.handle_event(event)
    except payments.SignatureError as exc:
        raise HttpError(400, str(exc))
    except payments.stripe.StripeError as exc:  # Stripe retries the event later; nothing was recorded
        raise HttpError(503, f"Stripe could not be reached while handling the event: {exc.user_message or exc}")
    return {"received": True, "id": event.get("id"), "type": event.get("type"), "outcome": outcome}
