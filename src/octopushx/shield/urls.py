from django.urls import path
from django.views.generic import RedirectView

from octopushx.shield import views
from octopushx.shield.legal import views as legal_views
from octopushx.shield.monitoring import views as monitoring_views
from octopushx.shield.privacy import views as privacy_views
from octopushx.shield.records import views as records_views
from octopushx.shield.retention import views as retention_views
from octopushx.shield.seats import views as seats_views
from octopushx.shield.suspension import views as suspension_views

app_name = "shield"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="shield:audit")),  # where the Shield menu entry goes
    path("audit/", views.audit_page, name="audit"),
    path("audit/verify/", views.audit_verify, name="audit_verify"),
    path("audit/export.csv", views.audit_csv, name="audit_csv"),
    path("organizations/<uuid:org_id>/suspend/", suspension_views.suspend, name="suspend"),
    path("organizations/<uuid:org_id>/reinstate/", suspension_views.reinstate, name="reinstate"),
    path("legal/", legal_views.manage, name="legal"),
    path("settings/", seats_views.security_settings, name="security_settings"),
    path("security/", monitoring_views.security_page, name="security"),
    path(
        "security/alerts/<uuid:alert_id>/acknowledge/",
        monitoring_views.acknowledge,
        name="acknowledge_alert",
    ),
    path("retention/", retention_views.retention_page, name="retention"),
    path("retention/policy/", retention_views.set_policy, name="retention_policy"),
    path("retention/holds/", retention_views.place_hold, name="retention_hold"),
    path(
        "retention/holds/<uuid:hold_id>/release/",
        retention_views.release_hold,
        name="retention_release",
    ),
    path("records/", records_views.records_page, name="records"),
    path("records.csv", records_views.records_csv, name="records_csv"),
    path("records.pdf", records_views.records_pdf, name="records_pdf"),
    path("privacy/", privacy_views.queue, name="privacy"),
    path("privacy/<uuid:request_id>/", privacy_views.detail, name="privacy_request"),
    path("privacy/<uuid:request_id>/<str:action>/", privacy_views.act, name="privacy_act"),
]
