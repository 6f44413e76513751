"""Card payment through Stripe: checkout, off-session charges, webhooks and nightly reconciliation.

Local invoices stay the truth; Stripe only collects the money. An organisation's Stripe customer
and saved card live on its ``PaymentAccount``; every attempt to collect an invoice is a ``Payment``
row. Webhooks are verified with ``stripe.Webhook.construct_event`` and handled once per event id
(``StripeEvent``); because webhooks get lost, ``reconcile`` asks Stripe about every open attempt
each night and repairs what it missed (or raises an alert when Stripe disagrees with a paid invoice).
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import stripe
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from octopushx.billing import invoices, money, services
from octopushx.billing.models import (
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentAccount,
    PaymentSource,
    PaymentStatus,
    StripeEvent,
)
from octopushx.core import audit, events, jobs
from octopushx.core.context import Actor
from octopushx.tenancy.models import Organization

log = logging.getLogger(__name__)

NOT_SET_UP = "Card payment is not set up on this installation (bank transfer only)"
OPEN_STATES = (PaymentStatus.PENDING, PaymentStatus.PROCESSING, PaymentStatus.REQUIRES_ACTION)


class PaymentProviderError(Exception):
    """Stripe could not be reached or refused a call that is not the card's fault (502 to callers)."""


class SignatureError(Exception):
    """A webhook whose signature is missing or does not verify (400; nothing changes)."""


def stripe_actor() -> Actor:
    return Actor.system("stripe")


# --- configuration -------------------------------------------------------------------------------


def card_payments_enabled() -> bool:
    """Card payment is offered when billing is on and a Stripe secret key is set."""
    return services.enabled() and bool(getattr(settings, "STRIPE_SECRET_KEY", ""))


def client() -> stripe.StripeClient:
    """The official SDK's client; ``OCTOPUSHX_STRIPE_API_BASE`` points it at a fake or a proxy."""
    base = getattr(settings, "STRIPE_API_BASE", "")
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": base.rstrip("/")} if base else {},
        max_network_retries=2,
    )


def minor_units(amount: Decimal, currency: str) -> int:
    """``Decimal("42.50")`` GBP -> 4250 (Stripe counts in the currency's minor unit)."""
    places = money.MINOR_UNITS.get(currency.upper(), 2)
    return int(money.round_line(amount, currency.upper()).scaleb(places))


def _plain(obj: Any) -> dict[str, Any]:
    if obj is None:
        return {}
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    return dict(obj)


def _id(value: Any) -> str:
    """A Stripe reference as its id, whether expanded (an object) or not (a string)."""
    if isinstance(value, dict):
        return str(value.get("id") or "")
    return str(value or "")


# --- the organisation's Stripe customer and card -----------------------------------------------------


def account_of(tenant: Organization) -> PaymentAccount | None:
    return PaymentAccount.objects.for_tenant(tenant).first()


def _ensure_customer(tenant: Organization, actor: Actor) -> PaymentAccount:
    account, _ = PaymentAccount.objects.get_or_create(tenant=tenant)
    if account.stripe_customer:
        return account
    try:
        customer = client().v1.customers.create(
            params={"name": tenant.name[:250], "metadata": {"tenant_id": str(tenant.pk)}},
            # A second click before the first answer reuses the customer Stripe made for the first.
            options={"idempotency_key": f"octopushx-customer-{tenant.pk}"},
        )
    except stripe.StripeError as exc:
        raise PaymentProviderError(f"Stripe refused to create the customer: {exc.user_message or exc}") from exc
    with transaction.atomic():
        account = PaymentAccount.objects.select_for_update().get(pk=account.pk)
        if not account.stripe_customer:
            account.stripe_customer = customer.id
            account.save(update_fields=["stripe_customer", "updated_at"])
            audit.record(
                tenant, actor, "payment_account.linked", obj=account, changes={"stripe_customer": [None, customer.id]}
            )
    return account


def _save_card(account: PaymentAccount, payment_method: dict[str, Any], actor: Actor) -> None:
    if not _id(payment_method) or _id(payment_method) == account.payment_method:
        return
    card = payment_method.get("card") or {}
    old = account.card_last4 or None
    account.payment_method = _id(payment_method)
    account.card_brand = str(card.get("brand") or "")[:32]
    account.card_last4 = str(card.get("last4") or "")[:4]
    account.card_exp_month = card.get("exp_month")
    account.card_exp_year = card.get("exp_year")
    account.save()
    audit.record(
        account.tenant,
        actor,
        "payment_account.card_saved",
        obj=account,
        changes={"card_last4": [old, account.card_last4]},
    )


def _payment_method(reference: Any) -> dict[str, Any]:
    if isinstance(reference, dict):
        return reference
    if not reference:
        return {}
    return _plain(client().v1.payment_methods.retrieve(str(reference)))


# --- checkout ------------------------------------------------------------------------------------------


def start_checkout(
    tenant: Organization, actor: Actor, *, success_url: str, cancel_url: str, invoice: Invoice | None = None
) -> str:
    """A Stripe Checkout page for the organisation; returns its URL.

    Without an invoice the page saves a card (mode ``setup``) that later invoices are charged to
    when they are issued; with an issued, unpaid invoice it takes that payment (mode ``payment``)
    and keeps the card for the next ones.
    """
    if not card_payments_enabled():
        raise PaymentProviderError(NOT_SET_UP)
    if invoice is not None:
        if invoice.status != InvoiceStatus.ISSUED:
            state = "was paid already" if invoice.status == InvoiceStatus.PAID else "is still a draft"
            raise ValidationError({"invoice_id": [f"Invoice {invoice} {state}: only an issued, unpaid one is paid"]})
        if invoice.total <= 0:
            raise ValidationError({"invoice_id": [f"Invoice {invoice} has nothing to pay"]})
    account = _ensure_customer(tenant, actor)
    metadata = {"tenant_id": str(tenant.pk)}
    params: dict[str, Any] = {
        "customer": account.stripe_customer,
        "client_reference_id": str(tenant.pk),
        "payment_method_types": ["card"],
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    if invoice is None:
        params.update(mode="setup", metadata={**metadata, "purpose": "save_card"})
        params["setup_intent_data"] = {"metadata": metadata}
    else:
        metadata["invoice_id"] = str(invoice.pk)
        params.update(mode="payment", metadata={**metadata, "purpose": "pay_invoice"})
        params["line_items"] = [
            {
                "quantity": 1,
                "price_data": {
                    "currency": invoice.currency.lower(),
                    "unit_amount": minor_units(invoice.total, invoice.currency),
                    "product_data": {"name": f"Invoice {invoice.number}"},
                },
            }
        ]
        params["payment_intent_data"] = {"metadata": metadata, "setup_future_usage": "off_session"}
    try:
        session = client().v1.checkout.sessions.create(params=params)
    except stripe.StripeError as exc:
        raise PaymentProviderError(f"Stripe refused the checkout: {exc.user_message or exc}") from exc
    with transaction.atomic():
        if invoice is not None:
            payment = Payment.objects.create(
                tenant=tenant,
                invoice=invoice,
                source=PaymentSource.CHECKOUT,
                amount=invoice.total,
                currency=invoice.currency,
                stripe_checkout_session=session.id,
            )
            audit.record(
                tenant, actor, "payment.checkout_started", obj=payment, changes={"invoice": [None, str(invoice)]}
            )
        else:
            audit.record(
                tenant, actor, "payment_account.checkout_started", obj=account, changes={"mode": [None, "setup"]}
            )
    return str(session.url)


# --- charging an issued invoice ------------------------------------------------------------------------


def charge_invoice(invoice: Invoice) -> Payment | None:
    """Charge the saved card for an issued invoice (off-session). Idempotent.

    Nothing happens without card payment, a saved card, or for an invoice that is not issued and
    unpaid, or one with an attempt that succeeded or is still under way. The ``Payment`` row is
    written before Stripe is called and its attempt number makes the idempotency key, so a job
    retried after a crash gets Stripe's first answer back instead of charging twice.
    """
    if not card_payments_enabled():
        return None
    account = account_of(invoice.tenant)
    if account is None or not account.has_card:
        return None
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        charges = Payment.objects.filter(invoice=locked, source=PaymentSource.CHARGE)
        busy = charges.filter(status__in=[PaymentStatus.PROCESSING, PaymentStatus.SUCCEEDED]).first()
        if busy is not None:
            return busy
        if locked.status != InvoiceStatus.ISSUED or locked.total <= 0:
            return None
        # One attempt per card: a card that was declined (or needs its holder) is not charged
        # again; a new card saved by the customer gets a new attempt.
        payment = charges.filter(payment_method=account.payment_method).order_by("-attempt").first()
        if payment is not None and payment.status != PaymentStatus.PENDING:
            return payment
        if payment is None:
            payment = Payment.objects.create(
                tenant=locked.tenant,
                invoice=locked,
                source=PaymentSource.CHARGE,
                attempt=charges.count() + 1,
                payment_method=account.payment_method,
                amount=locked.total,
                currency=locked.currency,
            )
    params = {
        "amount": minor_units(payment.amount, payment.currency),
        "currency": payment.currency.lower(),
        "customer": account.stripe_customer,
        "payment_method": account.payment_method,
        "off_session": True,
        "confirm": True,
        "description": f"Invoice {locked.number}",
        "metadata": {"invoice_id": str(locked.pk), "tenant_id": str(locked.tenant_id), "payment_id": str(payment.pk)},
    }
    key = f"octopushx-invoice-{locked.pk}-charge-{payment.attempt}"
    try:
        intent = _plain(client().v1.payment_intents.create(params=params, options={"idempotency_key": key}))
    except stripe.CardError as exc:
        intent = _plain(getattr(exc.error, "payment_intent", None)) if exc.error else {}
        message = exc.user_message or str(exc)
        with transaction.atomic():
            _record_failure(payment, intent.get("id", ""), message)
        return payment
    with transaction.atomic():
        _apply_intent(payment, intent)
    return payment


def _charge_job_key(invoice_id, payment_method: str) -> str:
    return f"billing.charge_invoice:{invoice_id}:{payment_method}"[:200]


def _charge_open_invoices(account: PaymentAccount) -> None:
    """A card was saved: the issued, unpaid invoices are charged to it (by jobs, after the commit)."""
    for invoice in Invoice.objects.for_tenant(account.tenant).filter(status=InvoiceStatus.ISSUED):
        jobs.submit(
            "billing.charge_invoice",
            tenant=account.tenant,
            payload={"invoice_id": str(invoice.pk)},
            dedupe_key=_charge_job_key(invoice.pk, account.payment_method),
        )


@jobs.handler("billing.charge_invoice")
def charge_invoice_job(job) -> dict[str, Any]:
    invoice = Invoice.objects.filter(pk=job.payload["invoice_id"]).first()
    if invoice is None:
        raise jobs.PermanentError("the invoice is gone")
    payment = charge_invoice(invoice)
    return {"payment": str(payment.pk) if payment else None, "status": payment.status if payment else None}


@events.listen
def charge_issued_invoices(tenant, emitted: list[events.Event]) -> None:
    """An invoice was issued: queue its charge to the saved card, in the issuing transaction.

    A listener rather than a subscriber, so installations without card payment (and organisations
    without a card) get no job per invoice; the job itself is ``charge_invoice``, idempotent.
    """
    issued = [event for event in emitted if event.name == "invoice.issued"]
    if not issued or not card_payments_enabled():
        return
    account = account_of(tenant)
    if account is None or not account.has_card:
        return
    for event in issued:
        jobs.submit(
            "billing.charge_invoice",
            tenant=tenant,
            payload={"invoice_id": event.payload["invoice_id"]},
            dedupe_key=_charge_job_key(event.payload["invoice_id"], account.payment_method),
        )


# --- what Stripe says about a payment ------------------------------------------------------------------


def _mark_paid(invoice: Invoice, payment: Payment, note: str) -> bool:
    """Mark the invoice paid by card (audited with the system actor); False when it was paid already."""
    if Invoice.objects.get(pk=invoice.pk).status != InvoiceStatus.ISSUED:
        return False
    invoices.mark_paid(invoice, stripe_actor(), method="card", reference=payment.stripe_payment_intent, note=note)
    return True


def _record_failure(payment: Payment, intent_id: str, message: str) -> None:
    payment.status = PaymentStatus.FAILED
    payment.stripe_payment_intent = intent_id or payment.stripe_payment_intent
    payment.failure_message = message[:300]
    payment.save()
    audit.record(
        payment.tenant,
        stripe_actor(),
        "payment.failed",
        obj=payment.invoice,
        changes={"payment": [None, payment.failure_message or "declined"]},
    )
    events.emit(
        payment.tenant,
        "invoice.payment_failed",
        {"invoice_id": str(payment.invoice_id), "payment_id": str(payment.pk), "message": payment.failure_message},
    )


def _amount_matches(payment: Payment, intent: dict[str, Any]) -> bool:
    received = intent.get("amount_received") or intent.get("amount") or 0
    return str(intent.get("currency") or "").upper() == payment.currency.upper() and int(received) == minor_units(
        payment.amount, payment.currency
    )


def _apply_intent(payment: Payment, intent: dict[str, Any], note: str = "") -> str:
    """Bring a payment (and its invoice) in line with the PaymentIntent Stripe reports."""
    status = intent.get("status")
    payment.stripe_payment_intent = intent.get("id") or payment.stripe_payment_intent
    if status == "succeeded":
        if not _amount_matches(payment, intent):
            payment.save()
            _alert(
                payment,
                f"Stripe collected {intent.get('amount_received')} {intent.get('currency')}, not the invoice's total",
            )
            return "alerted"
        was = payment.status
        payment.status = PaymentStatus.SUCCEEDED
        payment.failure_message = ""
        payment.save()
        if _mark_paid(payment.invoice, payment, note):
            return "paid"
        if was != PaymentStatus.SUCCEEDED:
            _alert(payment, "Stripe collected a payment for an invoice that was paid already: refund one of them")
            return "alerted"
        return "paid_already"
    if status == "processing":
        payment.status = PaymentStatus.PROCESSING
    elif status in ("requires_action", "requires_confirmation"):
        payment.status = PaymentStatus.REQUIRES_ACTION
    elif status == "canceled":
        payment.status = PaymentStatus.CANCELLED
    elif status == "requires_payment_method":
        error = intent.get("last_payment_error") or {}
        if payment.status != PaymentStatus.FAILED:
            _record_failure(
                payment, payment.stripe_payment_intent, str(error.get("message") or "The card was declined")
            )
        return "failed"
    payment.save()
    return str(payment.status)


def _alert(payment: Payment, summary: str) -> None:
    """Stripe disagrees with us in a way a person must look at: log it and audit it (nothing changes)."""
    log.error("stripe reconciliation: invoice %s (%s): %s", payment.invoice, payment.tenant_id, summary)
    audit.record(
        payment.tenant,
        stripe_actor(),
        "payment.reconciliation_alert",
        obj=payment.invoice,
        changes={"alert": [None, summary[:300]]},
    )


def _payment_for_intent(intent: dict[str, Any]) -> Payment | None:
    """The local attempt of a PaymentIntent: by its id, else by the invoice its metadata names."""
    payment = Payment.objects.select_related("invoice").filter(stripe_payment_intent=intent.get("id")).first()
    if payment is not None:
        return payment
    metadata = intent.get("metadata") or {}
    invoice = Invoice.objects.filter(pk=metadata.get("invoice_id")).first() if metadata.get("invoice_id") else None
    if invoice is None:
        return None
    account = account_of(invoice.tenant)
    if account is None or account.stripe_customer != _id(intent.get("customer")):
        return None  # an intent of another customer never pays this organisation's invoice
    payment = (
        Payment.objects.filter(invoice=invoice, stripe_payment_intent="")
        .exclude(status=PaymentStatus.SUCCEEDED)
        .first()
    )
    if payment is None:
        payment = Payment.objects.create(
            tenant=invoice.tenant,
            invoice=invoice,
            source=PaymentSource.CHECKOUT,
            amount=invoice.total,
            currency=invoice.currency,
        )
    payment.stripe_payment_intent = str(intent.get("id"))
    payment.save(update_fields=["stripe_payment_intent", "updated_at"])
    return payment


# --- webhooks ----------------------------------------------------------------------------------------------


def verify(payload: bytes, signature: str | None) -> dict[str, Any]:
    """The event, if Stripe signed it with our webhook secret; ``SignatureError`` otherwise."""
    secret = getattr(settings, "STRIPE_WEBHOOK_SECRET", "")
    if not signature:
        raise SignatureError("Missing Stripe-Signature header")
    try:
        event = stripe.Webhook.construct_event(payload, signature, secret)
    except stripe.SignatureVerificationError as exc:
        raise SignatureError(f"Stripe signature does not verify: {exc.user_message or exc}") from exc
    except ValueError as exc:
        raise SignatureError("The body is not a Stripe event") from exc
    return _plain(event)


def handle_event(event: dict[str, Any]) -> str:
    """Handle a verified event once (a replay finds its ``StripeEvent`` row and does nothing).

    The event's row and its effects commit together: a handler that fails leaves no row, so
    Stripe's retry runs it again.
    """
    event_id, kind = str(event.get("id") or ""), str(event.get("type") or "")
    if not event_id:
        raise SignatureError("The event has no id")
    with transaction.atomic():
        row, created = StripeEvent.objects.get_or_create(
            id=event_id, defaults={"type": kind[:100], "received_at": timezone.now()}
        )
        if not created:
            return "duplicate"
        handler = HANDLERS.get(kind)
        outcome = handler(_plain((event.get("data") or {}).get("object"))) if handler else "ignored"
        row.outcome = outcome[:300]
        row.save(update_fields=["outcome"])
    return outcome


def complete_checkout(tenant: Organization, session_id: str) -> str:
    """The customer came back from Stripe's page: apply the session now (the webhook may come later,
    or never); the same handling as the webhook's, so whichever comes second changes nothing."""
    if not card_payments_enabled() or not session_id.startswith("cs_"):
        return "ignored"
    account = account_of(tenant)
    try:
        session = _plain(client().v1.checkout.sessions.retrieve(session_id))
    except stripe.StripeError:
        log.warning("stripe: could not read checkout session %s", session_id, exc_info=True)
        return "unreachable"
    if account is None or _id(session.get("customer")) != account.stripe_customer:
        return "ignored"  # another organisation's session: never applied here
    if session.get("status") != "complete":
        return "open"
    with transaction.atomic():
        return _on_checkout_completed(session)


def _on_checkout_completed(session: dict[str, Any]) -> str:
    metadata = session.get("metadata") or {}
    account = PaymentAccount.objects.filter(stripe_customer=_id(session.get("customer"))).first()
    if account is None or not _id(session.get("customer")):
        return "unknown_customer"
    if session.get("mode") == "setup":
        setup_intent = session.get("setup_intent")
        if not isinstance(setup_intent, dict):
            setup_intent = _plain(client().v1.setup_intents.retrieve(str(setup_intent)))
        _save_card(account, _payment_method(setup_intent.get("payment_method")), stripe_actor())
        _charge_open_invoices(account)
        return "card_saved"
    if session.get("mode") != "payment" or not metadata.get("invoice_id"):
        return "ignored"
    intent = session.get("payment_intent")
    if not isinstance(intent, dict):
        intent = _plain(client().v1.payment_intents.retrieve(str(intent), params={"expand": ["payment_method"]}))
    payment = Payment.objects.filter(stripe_checkout_session=session.get("id")).first()
    if payment is None:
        payment = _payment_for_intent(intent)
    if payment is None or str(payment.invoice_id) != str(metadata.get("invoice_id")):
        return "unknown_invoice"
    if payment.tenant_id != account.tenant_id:
        return "unknown_invoice"
    if intent.get("payment_method"):
        # setup_future_usage: the card that paid is the one the next invoices are charged to
        _save_card(account, _payment_method(intent.get("payment_method")), stripe_actor())
    return _apply_intent(payment, intent)


def _on_intent_succeeded(intent: dict[str, Any]) -> str:
    payment = _payment_for_intent(intent)
    if payment is None:
        return "unknown_invoice"
    return _apply_intent(payment, intent)


def _on_intent_failed(intent: dict[str, Any]) -> str:
    payment = _payment_for_intent(intent)
    if payment is None:
        return "unknown_invoice"
    if payment.status == PaymentStatus.SUCCEEDED:
        return "paid_already"  # an older failure arriving after the success
    error = intent.get("last_payment_error") or {}
    _record_failure(payment, str(intent.get("id") or ""), str(error.get("message") or "The card was declined"))
    return "failed"


HANDLERS = {
    "checkout.session.completed": _on_checkout_completed,
    "payment_intent.succeeded": _on_intent_succeeded,
    "payment_intent.payment_failed": _on_intent_failed,
}


# --- nightly reconciliation -----------------------------------------------------------------------------


def _reconcile_one(payment: Payment) -> str:
    if not payment.stripe_payment_intent and payment.stripe_checkout_session:
        session = _plain(client().v1.checkout.sessions.retrieve(payment.stripe_checkout_session))
        if session.get("status") == "expired":
            payment.status = PaymentStatus.CANCELLED
            payment.save(update_fields=["status", "updated_at"])
            return "cancelled"
        if not session.get("payment_intent"):
            return "unchanged"  # the customer has not paid on the page (yet)
        payment.stripe_payment_intent = _id(session.get("payment_intent"))
    if not payment.stripe_payment_intent:
        return "unchanged"
    intent = _plain(client().v1.payment_intents.retrieve(payment.stripe_payment_intent))
    invoice = Invoice.objects.get(pk=payment.invoice_id)
    if payment.status == PaymentStatus.SUCCEEDED and invoice.status == InvoiceStatus.PAID:
        if intent.get("status") != "succeeded":
            _alert(payment, f"Paid here by card, but Stripe says the payment is {intent.get('status')!r}")
            return "alerted"
        payment.reconciled_at = timezone.now()
        payment.save(update_fields=["reconciled_at", "updated_at"])
        return "unchanged"
    before = invoice.status
    outcome = _apply_intent(payment, intent, note="repaired by reconciliation")
    if outcome == "paid" and before != InvoiceStatus.PAID:
        return "repaired"
    return "alerted" if outcome == "alerted" else "unchanged"


def reconcile() -> dict[str, int]:
    """Compare every open card payment (and every card payment not yet confirmed) with Stripe.

    Stripe says succeeded but the invoice is unpaid here: mark it paid ("repaired by
    reconciliation"). The invoice is paid here by card but Stripe says otherwise: alert (logged and
    audited) and change nothing. Returns counts: checked, repaired, alerted, errors.
    """
    counts = {"checked": 0, "repaired": 0, "alerted": 0, "errors": 0}
    if not card_payments_enabled():
        return counts
    candidates = Payment.objects.filter(
        invoice__status=InvoiceStatus.ISSUED, status__in=[*OPEN_STATES, PaymentStatus.FAILED]
    ) | Payment.objects.filter(status=PaymentStatus.SUCCEEDED, reconciled_at__isnull=True)
    for payment in candidates.select_related("invoice", "tenant").order_by("created_at"):
        counts["checked"] += 1
        try:
            with transaction.atomic():
                outcome = _reconcile_one(Payment.objects.select_for_update().get(pk=payment.pk))
        except stripe.StripeError:
            log.warning("stripe reconciliation: could not check payment %s", payment.pk, exc_info=True)
            counts["errors"] += 1
            continue
        if outcome in counts:
            counts[outcome] += 1
    return counts
