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
        "subscription.past_due": "Subscription past due (unpaid invoice)",
        "subscription.suspended": "Subscription suspended for non-payment",
        "subscription.paid_up": "Subscription active again (nothing overdue)",
        "credit_note.issued": "Credit note issued",
    },
    object_types={
        "subscription": "Subscription",
        "catalogue_version": "Catalogue version",
        "invoice": "Invoice",
        "tax_rate": "Tax rate",
        "credit_note": "Credit note",
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
        "invoice": "Invoice",
        "reason": "Reason",
    },
    system_actors={"billing": "Billing"},
)
