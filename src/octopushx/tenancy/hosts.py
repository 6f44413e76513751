"""Custom brand domains at the edge: a verified domain is an allowed host, and its own CSRF origin.

``settings.ALLOWED_HOSTS`` is fixed at start-up while brand domains are verified at run time, so
``BrandHostMiddleware`` runs before anything asks ``request.get_host()``: when the raw Host is a
verified brand domain it records the brand owner on the request and answers that host from
``get_host`` for this request; any other host goes through Django's own check unchanged.

Django's CSRF middleware compares a form's ``Origin`` (or, over HTTPS, its ``Referer``) with
``get_host()``, so forms on a verified domain posting to it pass. A brand domain is deliberately
not trusted for posts to *other* hosts: its owner controls its DNS and could point it at a server
of their own after verification.
"""

from __future__ import annotations

from django.conf import settings
from django.http.request import split_domain_port, validate_host

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
