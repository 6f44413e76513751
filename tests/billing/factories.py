"""Invoices for tests that need one without running whole billing periods."""

from __future__ import annotations

from datetime import date

from octopushx.billing import invoices, services
from octopushx.billing.models import Invoice


def issued_invoice(tenant) -> Invoice:
    """The tenant's first period closed and issued (as the run would after its grace days).

    The trial is left running (the timeline's first state prices the period), so the tenant keeps
    its uncapped seats for whatever a test does next.
    """
    subscription = services.current_subscription(tenant)
    start = invoices.anchor_of(subscription)
    end = invoices.invoicing.add_months(start, 1, start.day) - date.resolution
    invoices.close_period(subscription, start, end, date.fromordinal(end.toordinal() + invoices.grace_days() + 1))
    return Invoice.objects.get(subscription=subscription, period_start=start)


def issued_statement(reseller):
    """A wholesale statement of ``reseller``: one customer's first period issued, then the statement of its month."""
    from octopushx.billing import clock, resellers
    from octopushx.tenancy.models import OrgKind
    from tests.conftest import make_org

    customer = make_org(f"Billed customer of {reseller.name}", kind=OrgKind.CUSTOMER, parent=reseller)
    invoice = issued_invoice(customer)
    month = invoice.issued_at.astimezone(clock.UTC).date().replace(day=1)
    return resellers.issue_statement(reseller, month, invoice.currency)
