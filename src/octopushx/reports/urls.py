from django.urls import path

from octopushx.reports import views

app_name = "reports"

# One plain path per ready dashboard (no slug parameter): the page walk visits each by itself.
urlpatterns = [
    path("", views.dashboard, {"slug": "sales"}, name="sales"),
    path("activity/", views.dashboard, {"slug": "activity"}, name="activity"),
    path("coaching/", views.dashboard, {"slug": "coaching"}, name="coaching"),
    path("compliance/", views.dashboard, {"slug": "compliance"}, name="compliance"),
]
