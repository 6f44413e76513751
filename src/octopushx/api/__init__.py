"""The HTTP API under /api/v1: one NinjaAPI, one router per product."""

from __future__ import annotations

from ninja import NinjaAPI

from octopushx.api import errors
from octopushx.api.auth import BearerToken, BrowserSession
from octopushx.api.docs import SwaggerFromStatic

api = NinjaAPI(
    title="OctopushX API",
    version="1",
    urls_namespace="api",
    auth=[BearerToken(), BrowserSession()],
    docs=SwaggerFromStatic(),
    parser=errors.JsonObjectParser(),
    description=(
        "Authenticate with `Authorization: Bearer <token>` (create one under Settings → API tokens or "
        "with `octopushx token create`). The token's organisation scopes every call. Errors share one "
        'shape: `{"detail": "...", "errors": {"field": ["message"]}}`.'
    ),
)
errors.install(api)


def _mount() -> None:
    from octopushx.accounts.api import router as accounts_router
    from octopushx.billing.api import router as billing_router
    from octopushx.billing.reseller_api import router as reseller_router
    from octopushx.calls.api import router as calls_router
    from octopushx.calls.scorecards_api import router as scorecards_router
    from octopushx.calls.trackers_api import router as trackers_router
    from octopushx.crm.api import router as crm_router
    from octopushx.reports.api import router as reports_router
    from octopushx.reports.dashboards_api import router as dashboards_router
    from octopushx.reports.schedules_api import router as schedules_router
    from octopushx.shield.api import router as shield_router
    from octopushx.shield.routers import router as shield_more_router
    from octopushx.studio.api import router as studio_router
    from octopushx.telephony.api import router as telephony_router
    from octopushx.telephony.numbers_api import router as telephony_numbers_router
    from octopushx.tenancy.api import router as tenancy_router
    from octopushx.tenancy.branding_api import router as branding_router
    from octopushx.tenancy.jobs_api import router as jobs_router

    api.add_router("", accounts_router)
    api.add_router("", tenancy_router)
    api.add_router("", branding_router)
    api.add_router("", shield_router)
    api.add_router("", shield_more_router)
    api.add_router("", jobs_router)
    api.add_router("", crm_router)
    api.add_router("", calls_router)
    api.add_router("", trackers_router)
    api.add_router("", telephony_router)
    api.add_router("", telephony_numbers_router)
    api.add_router("", scorecards_router)
    api.add_router("", studio_router)
    api.add_router("", dashboards_router)
    api.add_router("", reports_router)
    api.add_router("", schedules_router)
    api.add_router("", billing_router)
    api.add_router("", reseller_router)


_mount()
errors.document_statuses(api)
