"""The API reference page (/api/v1/docs): Swagger UI from our own static files.

django-ninja's page loads Swagger UI from a CDN and starts it with an inline script; our
Content-Security-Policy (``script-src 'self'``) blocks both, which left a blank page. Here the
bundle comes from the npm package ``swagger-ui-dist`` (served by whitenoise under
``vendor/swagger-ui``) and ``octopushx/api-docs.js`` starts it, so the page needs no exception
to the policy.

``swagger-ui-dist`` is pinned to 5.32.15: from 5.33.0 on, Swagger UI stops drawing operations
after the first eight once a document has more than about 136 of them (ours has 146), with no
error anywhere. tests/e2e/test_api_docs.py catches that if an upgrade brings it back.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from ninja.openapi.docs import DocsBase


class SwaggerFromStatic(DocsBase):
    template = "api/docs.html"

    def render_page(self, request: HttpRequest, api: Any, **kwargs: Any) -> HttpResponse:
        context = {"api": api, "openapi_url": self.get_openapi_url(api, kwargs)}
        return render(request, self.template, context)
