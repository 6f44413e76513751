"""Huey periodic tasks of billing: end the trials whose last day has passed, the billing run (daily)
and the reconciliation of card payments with Stripe (nightly).

Reading a subscription ends its trial too (``services.current_subscription``); this job makes the
status true for organisations nobody opened, with the same timeline row (dated the trial end).
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from octopushx.billing import invoices, payments, services


@db_periodic_task(crontab(hour="0", minute="20"))
def daily_trial_ends() -> None:
    services.settle_due_trials()


@db_periodic_task(crontab(hour="0", minute="40"))
def daily_billing_run() -> None:
    """Close the periods that ended (idempotent: a second run the same day issues nothing)."""
    invoices.run()


@db_periodic_task(crontab(hour="1", minute="10"))
def nightly_stripe_reconciliation() -> None:
    """Ask Stripe about every open card payment: repair missed webhooks, alert on disagreements."""
    payments.reconcile()
