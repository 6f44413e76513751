"""Every page with object ids in its path, for a member of each role, with the same checks as
the parameterless walk (tests/e2e/pagewalk.py). Objects come from the cross-tenant test's
factories, so a route that test knows about is walked here too; each role gets objects it
owns (an agent sees its own contact), and the contact, company and deal carry 100-character
names."""

from __future__ import annotations

import random

import pytest

from octopushx.crm.models import Company, Contact, Deal
from tests.e2e.pagewalk import ROLES, build_world, check_page, is_html_page, long_name, sign_in, with_axe
from tests.test_cross_tenant import ALL_FACTORIES, EXEMPT_UI_ROUTES, UI_ROUTES, Ids

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROUTES = [r for r in UI_ROUTES if r.params and r.name not in EXEMPT_UI_ROUTES]


def _long_names(ids: Ids) -> None:
    rng = random.Random(7)
    first, last = long_name(rng, 100).split(" ")
    Contact.objects.filter(pk=ids["contact_id"]).update(first_name=first, last_name=last)
    Company.objects.filter(pk=ids["company_id"]).update(name=long_name(rng, 100))
    Deal.objects.filter(pk=ids["deal_id"]).update(name=long_name(rng, 100))


@pytest.mark.parametrize("role", ROLES)
def test_every_object_page_is_clean_at_desk_and_phone_size(role, new_page, live_server, browser_log):
    world = build_world()
    membership = world.members[role]
    ids = Ids(world.tenant, membership.user)
    _long_names(ids)
    page = with_axe(new_page())
    sign_in(page, live_server.url, membership)

    visited, problems = [], []
    for route in ROUTES:
        unknown = [name for name in route.params if name not in ALL_FACTORIES]
        if unknown:  # the same rule as the cross-tenant test: every parameter has a factory
            problems.append(f"{route}: register a factory for {unknown} (see tests/test_cross_tenant.py)")
            continue
        path = route.url({name: ids[name] for name in route.params})
        status, html = is_html_page(page, path)
        if status >= 500:
            problems.append(f"{route}: GET answered {status}")
        if status != 200 or not html:
            continue  # POST-only actions (405), downloads (404 without a file), JSON, pages this role may not open
        visited.append(route.name)
        problems += check_page(page, path, str(route), browser_log)
    assert not problems, f"{role}:\n" + "\n".join(problems)
    assert {"crm:contact", "crm:deal"} <= set(visited), f"{role} could not open a contact or a deal page"
