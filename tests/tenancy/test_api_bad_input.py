"""Bad input on every API route: a malformed body or id gets a clear 4xx in the one error shape.

Walks the OpenAPI schema like the cross-tenant test, so new routes are covered as they are added.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from octopushx.tenancy.roles import Role
from tests.test_cross_tenant import API_ROUTES

BODY_ROUTES = [r for r in API_ROUTES if r.body is not None]
ID_ROUTES = [r for r in API_ROUTES if r.params]


def assert_error_shape(response):
    body = response.json()
    assert isinstance(body.get("detail"), str) and body["detail"]
    assert isinstance(body.get("errors"), dict)


@pytest.mark.parametrize("route", BODY_ROUTES, ids=str)
def test_malformed_json_body_is_a_clear_400(org, api_as, route):
    api = api_as(Role.OWNER)
    path = route.path.format(**{p: "00000000-0000-0000-0000-000000000000" for p in route.params})
    response = getattr(api.client, route.method)(path, "{not json", content_type="application/json")
    assert response.status_code in (400, 404, 422), f"{route} answered {response.status_code}"
    assert_error_shape(response)


@pytest.mark.parametrize("route", ID_ROUTES, ids=str)
def test_malformed_id_is_a_clear_4xx(org, api_as, route):
    api = api_as(Role.OWNER)
    path = route.path.format(**{p: "not-an-id" for p in route.params})
    call = getattr(api, route.method)
    response = call(path, route.body) if route.body is not None else call(path)
    assert response.status_code in (404, 422), f"{route} answered {response.status_code}"
    assert_error_shape(response)


@pytest.mark.parametrize("route", ID_ROUTES, ids=str)
def test_unknown_id_is_404(org, api_as, route):
    api = api_as(Role.OWNER)
    path = route.path.format(**{p: "00000000-0000-0000-0000-000000000000" for p in route.params})
    if route.query:  # required query parameters, sampled: the id is what is wrong, nothing else
        path += "?" + urlencode(route.query)
    call = getattr(api, route.method)
    response = call(path, route.body) if route.body is not None else call(path)
    assert response.status_code == 404, f"{route} answered {response.status_code}"
    assert_error_shape(response)
