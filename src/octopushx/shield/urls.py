from django.urls import path

from octopushx.shield import views

app_name = "shield"

urlpatterns = [
    path("audit/", views.audit_page, name="audit"),
    path("audit/verify/", views.audit_verify, name="audit_verify"),
    path("audit/export.csv", views.audit_csv, name="audit_csv"),
]
