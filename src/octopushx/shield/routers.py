"""Shield's API routers beyond the audit trail, mounted together under /api/v1."""

from __future__ import annotations

from ninja import Router

from octopushx.shield.monitoring.api import router as monitoring_router
from octopushx.shield.offboarding.api import router as offboarding_router
from octopushx.shield.privacy.api import router as privacy_router
from octopushx.shield.retention.api import router as retention_router
from octopushx.shield.seats.api import router as seats_router
from octopushx.shield.suspension.api import router as suspension_router

router = Router()
router.add_router("", suspension_router)
router.add_router("", seats_router)
router.add_router("", monitoring_router)
router.add_router("", retention_router)
router.add_router("", privacy_router)
router.add_router("", offboarding_router)
