"""Every page without path parameters, for a signed-out visitor and for a member of each role,
at 1440x900 and 390x844: no sideways scroll, no console error, no CSP violation or missing asset
(checked by the page fixture), one h1, a title, a label and a design-system class on every
control, no duplicate ids and no serious or critical axe-core finding. The list grows with the
URL patterns; the data is the demo CRM plus 5,000 imported contacts with 100-character names
(tests/e2e/pagewalk.py)."""

from __future__ import annotations

import pytest
from django.urls import URLResolver, get_resolver

from tests.e2e.pagewalk import ROLES, build_world, check_page, is_html_page, sign_in, with_axe

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Not pages: the API, probes, and POST-only actions that answer GET with 405.
SKIPPED_NAMESPACES = {"api"}
SKIPPED_PATHS = {"/healthz", "/readyz", "/metrics"}
ANONYMOUS = "anonymous"


def plain_paths() -> list[str]:
    paths: list[str] = []

    def walk(resolver, prefix: str, namespace: str) -> None:
        for entry in resolver.url_patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                if entry.namespace not in SKIPPED_NAMESPACES:
                    walk(entry, route, entry.namespace or namespace)
            elif not entry.pattern.regex.groups and "<" not in route and "(" not in route:
                path = "/" + route.lstrip("^").rstrip("$")
                if path not in SKIPPED_PATHS and path not in paths:
                    paths.append(path)

    walk(get_resolver(), "", "")
    return paths


# Pages each visitor must reach (a walk that visits nothing proves nothing).
MUST_VISIT = {
    ANONYMOUS: {"/accounts/login/", "/accounts/password-reset/"},
    "owner": {
        "/",
        "/crm/",
        "/crm/board/",
        "/calls/",
        "/shield/audit/",
        "/settings/",
        "/settings/members/",
        "/reports/",
        "/reports/compliance/",
        "/settings/billing/",
    },
    "agent": {"/", "/crm/", "/calls/", "/accounts/tokens/", "/reports/", "/reports/coaching/"},
    "auditor": {"/", "/shield/audit/", "/reports/compliance/"},
}


@pytest.mark.parametrize("role", [ANONYMOUS, *ROLES])
def test_every_page_is_clean_at_desk_and_phone_size(role, new_page, live_server, browser_log, settings):
    settings.BILLING_ENABLED = True  # the Billing page and the plan's gates are pages too
    world = build_world()
    page = with_axe(new_page())
    if role != ANONYMOUS:
        sign_in(page, live_server.url, world.members[role])

    visited, problems = [], []
    for path in plain_paths():
        status, html = is_html_page(page, path)
        if status >= 500:
            problems.append(f"{path}: GET answered {status}")
        if status != 200 or not html:
            continue  # POST-only actions (405), downloads, redirects, pages this role may not open
        visited.append(path)
        problems += check_page(page, path, path, browser_log)
    assert not problems, f"{role}:\n" + "\n".join(problems)
    missing = MUST_VISIT.get(role, {"/"}) - set(visited)
    assert not missing, f"{role} could not open {sorted(missing)}"
