"""Every page without path parameters renders in the browser for an owner: no CSP
violation, no script error, no missing asset (checked by the page fixture), one h1, a title,
a label and the form style on every field, and nothing wider than a phone screen. The list grows with the URL
patterns."""

from __future__ import annotations

import pytest
from django.urls import URLResolver, get_resolver

from octopushx.tenancy.services import platform_org
from tests.conftest import make_member, make_org

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Not pages: the API, probes, and POST-only actions that answer GET with 405.
SKIPPED_NAMESPACES = {"api"}
SKIPPED_PATHS = {"/healthz", "/readyz", "/metrics"}
FIELDS = "input:not([type=hidden]):not([type=submit]):not([type=button]):not([hidden]), select, textarea"
UNLABELLED = "els => els.filter(e => !e.labels.length && !e.ariaLabel).map(e => e.name || e.id)"
# Text boxes the stylesheet missed (a type it does not list) show as the browser's bare, tiny box.
UNSTYLED = (
    "els => els.filter(e => !['checkbox', 'radio', 'file', 'range', 'color'].includes(e.type) && e.offsetParent"
    " && parseFloat(getComputedStyle(e).paddingLeft) < 4).map(e => `${e.name || e.id} (${e.type})`)"
)


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


def test_every_page_renders_cleanly_on_a_phone(new_page, signed_in):
    platform = platform_org()
    make_org("Acme Support")
    owner = make_member(platform, "owner")
    page = new_page(viewport={"width": 375, "height": 800})
    signed_in(page, owner.user)

    visited, problems = [], []
    for path in plain_paths():
        response = page.request.get(path, max_redirects=0)
        if response.status != 200 or not response.headers["content-type"].startswith("text/html"):
            continue  # POST-only actions (405), downloads, redirects
        page.goto(path)
        visited.append(path)
        if page.locator("h1").count() != 1:
            problems.append(f"{path}: {page.locator('h1').count()} h1 headings, want 1")
        if not page.title().strip(" ·"):
            problems.append(f"{path}: no title")
        unlabelled = page.eval_on_selector_all(FIELDS, UNLABELLED)
        if unlabelled:
            problems.append(f"{path}: fields without a label: {unlabelled}")
        unstyled = page.eval_on_selector_all(FIELDS, UNSTYLED)
        if unstyled:
            problems.append(f"{path}: fields without the form style: {unstyled}")
        if page.evaluate("document.documentElement.scrollWidth") > 375:
            problems.append(f"{path}: wider than a 375px screen")
    assert not problems, "\n".join(problems)
    assert {"/", "/settings/", "/settings/members/", "/accounts/tokens/"} <= set(visited)
