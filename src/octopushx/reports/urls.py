from django.urls import path

from octopushx.reports import views

app_name = "reports"

# One plain path per ready dashboard (no slug parameter): the page walk visits each by itself.
urlpatterns = [
    path("", views.dashboard, {"slug": "sales"}, name="sales"),
    path("activity/", views.dashboard, {"slug": "activity"}, name="activity"),
    path("coaching/", views.dashboard, {"slug": "coaching"}, name="coaching"),
    path("compliance/", views.dashboard, {"slug": "compliance"}, name="compliance"),
    path("saved/", views.saved, name="saved"),
    path("new/", views.builder_new, name="new"),
    path("preview/", views.preview, name="preview"),
    path("<uuid:report_id>/", views.builder_report, name="report"),
    path("dashboards/<uuid:dashboard_id>/", views.custom_dashboard, name="dashboard"),
]
