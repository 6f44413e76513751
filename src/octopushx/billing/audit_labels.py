"""How billing's audit entries read in Shield's trail."""

from __future__ import annotations

from octopushx.core.audit_labels import labels

labels(
    {
        "subscription.started": "Subscription started (trial)",
        "subscription.trial_ended": "Trial ended",
        "subscription.changed": "Subscription changed",
        "subscription.migrated": "Subscription moved to a newer catalogue version",
        "catalogue.published": "Catalogue version published",
        "invoice.issued": "Invoice issued",
        "invoice.paid": "Invoice marked paid",
        "tax_rate.set": "Tax rate set",
        "payment_account.linked": "Stripe customer created",
        "payment_account.checkout_started": "Card checkout started",
        "payment_account.card_saved": "Card saved",
        "payment.checkout_started": "Card payment started",
        "payment.failed": "Card payment failed",
        "payment.reconciliation_alert": "Card payment needs checking (Stripe disagrees)",
    },
    object_types={
        "subscription": "Subscription",
        "catalogue_version": "Catalogue version",
        "invoice": "Invoice",
        "tax_rate": "Tax rate",
        "paymentaccount": "Payment account",
        "payment": "Card payment",
    },
    fields={
        "plan": "Plan",
        "plan_chosen": "Plan chosen",
        "catalogue_version": "Catalogue version",
        "interval": "Billing interval",
        "seats": "Seats",
        "addons": "Add-ons",
        "trial_end": "Trial end",
        "auto_renew": "Auto-renewal",
        "cancel_at_period_end": "Cancel at period end",
        "version": "Version",
        "addon": "Add-on",
        "number": "Number",
        "total": "Total",
        "status": "Status",
        "rate": "Rate",
        "method": "Payment method",
        "reference": "Reference",
        "note": "Note",
        "stripe_customer": "Stripe customer",
        "card_last4": "Card",
        "mode": "Mode",
        "invoice": "Invoice",
        "payment": "Payment",
        "alert": "Alert",
    },
    system_actors={"billing": "Billing", "stripe": "Stripe (card payments)"},
)
