"""The reseller routes walked with two resellers: B's customers, statements and prices are 404 or
absent for an admin of A, even one who is also an admin of B (working in A)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.test import Client

from octopushx.billing import resellers
from octopushx.core.context import Actor
from octopushx.tenancy.middleware import SESSION_KEY
from octopushx.tenancy.models import OrgKind
from octopushx.tenancy.roles import Role
from tests.billing.conftest import make_reseller
from tests.billing.cross_tenant import FACTORIES, RESELLER_ONLY
from tests.conftest import ApiClient, make_member, make_org
from tests.test_cross_tenant import API_ROUTES, UI_ROUTES

ROUTES = [r for r in API_ROUTES if r.path.startswith(RESELLER_ONLY)]
PAGES = [r for r in UI_ROUTES if ("/" + r.route).startswith(RESELLER_ONLY)]


@pytest.fixture
def two(db, billing_on):
    a, b = make_reseller("Reseller A"), make_reseller("Reseller B")
    membership = make_member(a, Role.ADMIN, email="both@resell.test")
    make_member(b, Role.ADMIN, email="both@resell.test")
    resellers.set_price_book(b, Actor.system("test"), plans={"team": {"month": "77.77"}})
    b_customer = make_org("Only-B Customer", kind=OrgKind.CUSTOMER, parent=b)
    ids = {
        name: str(factory(b, membership.user))
        for name, factory in FACTORIES.items()
        if name not in ("invoice_id", "credit_note_id")
    }
    web = Client()
    web.force_login(membership.user)
    session = web.session
    session[SESSION_KEY] = str(a.pk)
    session.save()
    markers = [*ids.values(), str(b_customer.pk), "Only-B Customer", "77.77"]
    return ApiClient(membership), web, ids, markers


def test_the_walk_finds_the_reseller_routes():
    paths = {str(r) for r in ROUTES}
    assert {"GET /api/v1/reseller/customers/{customer_id}", "GET /api/v1/billing/price-book",
            "GET /api/v1/reseller/statements/{statement_id}"} <= paths  # fmt: skip


@pytest.mark.parametrize("route", [r for r in ROUTES if r.params], ids=str)
def test_another_resellers_object_is_404(two, route):
    api, _, ids, _ = two
    path = route.path.format(**{p: ids[p] for p in route.params})
    call = getattr(api, route.method)
    response = call(path, route.body) if route.body is not None else call(path)
    assert response.status_code == 404, f"{route} answered {response.status_code}: {response.content[:200]}"


@pytest.mark.parametrize("route", [r for r in ROUTES if not r.params and r.method == "get"], ids=str)
def test_lists_never_show_another_resellers_rows(two, route):
    api, _, _, markers = two
    query = f"?{urlencode(route.query)}" if route.query else ""
    response = api.get(route.path + query)
    assert response.status_code == 200, route
    leaked = [m for m in markers if m in response.content.decode()]
    assert not leaked, f"{route} shows reseller B's {leaked}"


@pytest.mark.parametrize("route", [r for r in PAGES if r.params], ids=str)
def test_another_resellers_object_is_404_on_pages(two, route):
    _, web, ids, _ = two
    url = route.url({p: ids[p] for p in route.params})
    answered = {m: getattr(web, m)(url).status_code for m in ("get", "post")}
    answered = {m: code for m, code in answered.items() if code != 405}
    assert answered and set(answered.values()) == {404}, f"{route} answered {answered}"


@pytest.mark.parametrize("route", [r for r in PAGES if not r.params], ids=str)
def test_pages_never_show_another_resellers_rows(two, route):
    _, web, _, markers = two
    response = web.get(route.url({}))
    assert response.status_code == 200, route
    body = b"".join(response.streaming_content) if response.streaming else response.content
    leaked = [m for m in markers if m in body.decode()]
    assert not leaked, f"{route} shows reseller B's {leaked}"
