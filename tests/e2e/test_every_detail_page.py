"""Every page with object ids in its path renders in the browser for an owner, with the
same checks as the parameterless walk. Objects come from the cross-tenant test's
factories, so a route that test knows about is walked here too."""

from __future__ import annotations

import pytest

from tests.conftest import make_member, make_org
from tests.e2e.test_every_page import FIELDS, UNLABELLED, UNSTYLED
from tests.test_cross_tenant import ALL_FACTORIES, EXEMPT_UI_ROUTES, UI_ROUTES

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROUTES = [r for r in UI_ROUTES if r.params and r.name not in EXEMPT_UI_ROUTES]


def test_every_object_page_renders_cleanly_on_a_phone(new_page, signed_in):
    owner = make_member(make_org("Acme Support"), "owner")
    tenant, user = owner.tenant, owner.user
    page = new_page(viewport={"width": 375, "height": 800})
    signed_in(page, user)

    visited, problems = [], []
    for route in ROUTES:
        path = route.url({name: str(ALL_FACTORIES[name](tenant, user)) for name in route.params})
        response = page.request.get(path, max_redirects=0)
        if response.status >= 500:
            problems.append(f"{route}: GET answered {response.status}")
        if response.status != 200 or not response.headers["content-type"].startswith("text/html"):
            continue  # POST-only actions (405), downloads (404 without a file), redirects, JSON
        page.goto(path)
        visited.append(route.name)
        if page.locator("h1").count() != 1:
            problems.append(f"{route}: {page.locator('h1').count()} h1 headings, want 1")
        unlabelled = page.eval_on_selector_all(FIELDS, UNLABELLED)
        if unlabelled:
            problems.append(f"{route}: fields without a label: {unlabelled}")
        unstyled = page.eval_on_selector_all(FIELDS, UNSTYLED)
        if unstyled:
            problems.append(f"{route}: fields without the form style: {unstyled}")
        if page.evaluate("document.documentElement.scrollWidth") > 375:
            problems.append(f"{route}: wider than a 375px screen")
    assert not problems, "\n".join(problems)
    assert visited
