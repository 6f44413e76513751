"""The provider-facing URLs under ``/hooks/telephony/`` (no session, no CSRF: each request is signed)."""

from django.urls import path  # noqa: F401  (the routes are added beside their views)

app_name = "telephony_hooks"

urlpatterns: list = []
