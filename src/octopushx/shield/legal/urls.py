"""Public legal pages under /legal/: one fixed path per document kind (no id in the URL)."""

from django.urls import path

from octopushx.shield.legal import views
from octopushx.shield.legal.models import DocumentKind

app_name = "legal"

urlpatterns = [
    path("accept/", views.accept, name="accept"),
    path("cookie-choices/", views.cookies, name="cookie_choices"),
    *[path(f"{kind}/", views.document, {"kind": kind}, name=kind) for kind in DocumentKind.values],
]
