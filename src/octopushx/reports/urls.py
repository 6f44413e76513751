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
    path("dashboards/<uuid:key>/pdf/", views.dashboard_pdf, name="dashboard_pdf"),
    path("pdf/", views.dashboard_pdf, {"key": "sales"}, name="sales_pdf"),
    path("activity/pdf/", views.dashboard_pdf, {"key": "activity"}, name="activity_pdf"),
    path("coaching/pdf/", views.dashboard_pdf, {"key": "coaching"}, name="coaching_pdf"),
    path("compliance/pdf/", views.dashboard_pdf, {"key": "compliance"}, name="compliance_pdf"),
    path("schedules/", views.schedule_list, name="schedules"),
    path("schedules/new/", views.schedule_new, name="schedule_new"),
    path("schedules/<uuid:schedule_id>/", views.schedule_edit, name="schedule_edit"),
    path("schedules/<uuid:schedule_id>/toggle/", views.schedule_toggle, name="schedule_toggle"),
    path("schedules/<uuid:schedule_id>/delete/", views.schedule_delete, name="schedule_delete"),
]
