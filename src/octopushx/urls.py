from django.urls import include, path

from octopushx.api import api
from octopushx.core import views as core_views
from octopushx.studio import hooks as studio_hooks

handler500 = "octopushx.core.views.server_error"

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("metrics", core_views.metrics_view, name="metrics"),
    path("api/v1/", api.urls),
    path("accounts/", include("octopushx.accounts.urls")),
    path("", include("octopushx.tenancy.urls")),
    path("shield/", include("octopushx.shield.urls")),
    path("legal/", include("octopushx.shield.legal.urls")),
    path("privacy/", include("octopushx.shield.privacy.urls")),
    path("crm/", include("octopushx.crm.urls")),
    path("calls/", include("octopushx.calls.urls")),
    path("telephony/", include("octopushx.telephony.urls")),
    path("studio/", include("octopushx.studio.urls")),
    path("reports/", include("octopushx.reports.urls")),
    path("hooks/studio/<str:workflow_key>", studio_hooks.inbound, name="studio_hook"),
    path("hooks/telephony/", include("octopushx.telephony.hooks_urls")),
    path("settings/jobs/", include("octopushx.tenancy.jobs_urls")),
    path("settings/offboarding/", include("octopushx.shield.offboarding.urls")),
    path("settings/billing/", include("octopushx.billing.urls")),
    path("settings/reseller/", include("octopushx.billing.reseller_urls")),
]
