"""Factories for billing's path parameters, used by tests/test_cross_tenant.py."""

from __future__ import annotations

from tests.billing.factories import issued_invoice


def _invoice(tenant, user):
    return issued_invoice(tenant).pk


def _credit_note(tenant, user):
    from octopushx.billing import credits
    from octopushx.core.context import Actor

    invoice = issued_invoice(tenant)
    return credits.issue_credit_note(invoice, Actor.system("test"), reason="Cross-tenant walk", full=True).pk


FACTORIES = {"invoice_id": _invoice, "credit_note_id": _credit_note}
