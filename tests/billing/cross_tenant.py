"""Factories for billing's path parameters, used by tests/test_cross_tenant.py."""

from __future__ import annotations

from octopushx.billing import resellers
from octopushx.billing.models import Statement
from octopushx.tenancy.models import OrgKind
from octopushx.tenancy.services import platform_org
from tests.billing.factories import issued_invoice, issued_statement
from tests.conftest import make_org


def _invoice(tenant, user):
    return issued_invoice(tenant).pk


def _credit_note(tenant, user):
    from octopushx.billing import credits
    from octopushx.core.context import Actor

    invoice = issued_invoice(tenant)
    return credits.issue_credit_note(invoice, Actor.system("test"), reason="Cross-tenant walk", full=True).pk


def _customer(tenant, user):
    """A customer of ``tenant`` when it is a reseller; a customer tenant stands for itself."""
    if tenant.kind == OrgKind.RESELLER:
        return make_org(f"Customer of {tenant.name}", kind=OrgKind.CUSTOMER, parent=tenant).pk
    return tenant.pk


def _statement(tenant, user):
    if tenant.kind == OrgKind.RESELLER:
        return issued_statement(tenant).pk
    # A customer has no statements; a row in its name still proves the gate answers 404.
    return Statement.objects.create(
        tenant=tenant, issuer=platform_org(), number="INV-999999", sequence=999999, currency="GBP",
        month=resellers.clock.today().replace(day=1), subtotal=0, tax=0, tax_rate=0, tax_rule="-", total=0,
        computed="{}", issued_at=resellers.clock.now(),
    ).pk  # fmt: skip


FACTORIES = {
    "invoice_id": _invoice,
    "credit_note_id": _credit_note,
    "customer_id": _customer,
    "statement_id": _statement,
}

# Routes only a reseller has: a customer's owner gets 404 (never wholesale prices); they are
# walked with two resellers in tests/billing/test_reseller_isolation.py.
RESELLER_ONLY = ("/api/v1/reseller/", "/api/v1/billing/price-book", "/settings/reseller/")
