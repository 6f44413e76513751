"""Custom brand domains at the edge: verified domains are allowed hosts and trusted CSRF origins.

``settings.ALLOWED_HOSTS`` and ``CSRF_TRUSTED_ORIGINS`` are fixed at start-up (and Django's CSRF
middleware caches its reading of them), while brand domains are verified at run time. So:

* ``BrandHostMiddleware`` runs before anything asks ``request.get_host()``: when the raw Host
  is a verified brand domain it records the brand owner on the request and answers that host
  from ``get_host`` for this request; any other host goes through Django's own check unchanged.
* ``BrandCsrfViewMiddleware`` also trusts an ``Origin`` on a verified domain (same scheme).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.middleware.csrf import CsrfViewMiddleware

from octopushx.tenancy import branding


def is_platform_host(host: str) -> bool:
    """One of the configured ``ALLOWED_HOSTS`` by name (not by ``*``): never a brand's, no lookup needed."""
    domain, _port = split_domain_port(host)
    own = [pattern for pattern in settings.ALLOWED_HOSTS if pattern != "*"]
    return bool(domain) and validate_host(domain, own)


class BrandHostMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raw_host = request._get_raw_host()
        owner_id = None if is_platform_host(raw_host) else branding.owner_for_host(raw_host)
        request.brand_owner_id = owner_id
        if owner_id is not None:
            # The domain was verified for a brand: it is one of this platform's hosts.
            request.get_host = lambda: raw_host
        return self.get_response(request)


class BrandCsrfViewMiddleware(CsrfViewMiddleware):
    def _origin_verified(self, request):
        if super()._origin_verified(request):
            return True
        try:
            origin = urlsplit(request.META["HTTP_ORIGIN"])
        except ValueError:
            return False
        scheme = "https" if request.is_secure() else "http"
        return origin.scheme == scheme and branding.owner_for_host(origin.netloc) is not None
