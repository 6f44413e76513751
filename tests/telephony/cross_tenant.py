"""Factories for telephony's path parameters, used by tests/test_cross_tenant.py."""

from __future__ import annotations

import uuid

from octopushx.core.context import Actor
from octopushx.telephony import services


def _flow(tenant, user):
    definition = {
        "name": f"Cross-tenant line {uuid.uuid4().hex[:6]}",
        "start": "bye",
        "blocks": [{"id": "bye", "type": "hangup", "say": "Goodbye"}],
    }
    row, _warnings = services.create_flow(tenant, Actor.system("test"), definition)
    return row.pk


FACTORIES = {"flow_id": _flow}
