"""Factories for billing's path parameters, used by tests/test_cross_tenant.py."""

from __future__ import annotations

from tests.billing.factories import issued_invoice


def _invoice(tenant, user):
    return issued_invoice(tenant).pk


FACTORIES = {"invoice_id": _invoice}
