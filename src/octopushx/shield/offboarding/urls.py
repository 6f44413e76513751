from django.urls import path

from octopushx.shield.offboarding import views

app_name = "offboarding"

urlpatterns = [
    path("", views.offboarding_page, name="page"),
    path("export.zip", views.export_download, name="export"),
    path("cancel/", views.cancel, name="cancel"),
]
