"""Public privacy-request pages under /privacy/ (the organisation and tokens are query values)."""

from django.urls import path

from octopushx.shield.privacy import views

app_name = "privacy"

urlpatterns = [
    path("request/", views.public_form, name="form"),
    path("verify/", views.verify_link, name="verify"),
    path("download/", views.download, name="download"),
]
