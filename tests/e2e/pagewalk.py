"""The page walk's world and checks, shared by test_every_page.py (URL patterns without
parameters) and test_every_detail_page.py (patterns with object ids).

The world: "Acme Support" with a member of every role and the CRM demo data (companies,
contacts, deals, tasks, notes, custom fields, duplicates), the platform's legal documents
(accepted), plus 5,000 imported contacts whose names are 100 characters long. Every page is
checked at a desk size and a phone size in the same load (the viewport is resized), for
the checks listed in ``check_page``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.test import Client
from django.utils import timezone

from octopushx.core.context import Actor
from octopushx.tenancy.middleware import SESSION_KEY
from octopushx.tenancy.roles import Role
from tests.conftest import make_member, make_org

ROLES = [Role.OWNER, Role.ADMIN, Role.MANAGER, Role.AGENT, Role.AUDITOR]
SIZES = [(1440, 900), (390, 844)]
IMPORTED_CONTACTS = 5_000
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"

# Design-system classes a control can carry; anything else renders as the browser's bare control.
STYLED_CLASSES = [
    "form-control",
    "form-select",
    "form-check-input",
    "form-range",
    "btn",
    "btn-close",
    "btn-check",
    "dropdown-item",
    "nav-link",
    "navbar-toggler",
    "page-link",
    "accordion-button",
    "list-group-item",
]

# One evaluation per size: everything that can be read from the rendered page.
INSPECT = """(styledClasses) => {
  const visible = e => (e.offsetWidth > 0 || e.offsetHeight > 0 || e.getClientRects().length > 0)
    && getComputedStyle(e).visibility !== 'hidden';
  const describe = e => `${e.tagName.toLowerCase()}${e.type && e.tagName !== 'SELECT' && e.tagName !== 'TEXTAREA'
    ? '[' + e.type + ']' : ''} ${e.name || e.id || (e.textContent || '').trim().slice(0, 30)}`.trim();
  const tomSelect = e => e.classList.contains('tomselected') || e.closest('.ts-wrapper');
  const controls = [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')];
  const unstyled = controls
    .filter(e => visible(e) && !tomSelect(e) && !styledClasses.some(c => e.classList.contains(c)))
    .map(describe);
  // A Tom Select's original select is out of the accessibility tree: its typing box carries the label.
  const fields = controls.filter(e => e.tagName !== 'BUTTON' && !e.hidden && !e.classList.contains('tomselected')
    && !['submit', 'button', 'reset', 'image'].includes(e.type));
  const unlabelled = fields
    .filter(e => !e.labels.length && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby'))
    .map(describe);
  const ids = [...document.querySelectorAll('[id]')].map(e => e.id);
  const duplicateIds = [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))];
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    h1: document.querySelectorAll('h1').length,
    title: document.title.replace(/[\\s·]/g, ''),
    unstyled: [...new Set(unstyled)],
    unlabelled: [...new Set(unlabelled)],
    duplicateIds,
  };
}"""

AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => {
      const nodes = v.nodes.slice(0, 3).map(n => {
        const data = (n.any[0] || n.all[0] || {}).data || {};
        return n.target.join(' ') + (data.fgColor ? ` [${data.fgColor} on ${data.bgColor}: ${data.contrastRatio}]` : '');
      });
      return `${v.id} (${v.impact}): ${nodes.join(', ')}` + (v.nodes.length > 3 ? ` and ${v.nodes.length - 3} more` : '');
    });
}"""


def long_name(rng: random.Random, length: int) -> str:
    """A name of exactly ``length`` letters in two unbroken words: the hardest case for a layout."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    first = rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") + "".join(rng.choice(letters) for _ in range(length // 2 - 2))
    last = rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") + "".join(
        rng.choice(letters) for _ in range(length - len(first) - 2)
    )
    return f"{first} {last}"


@dataclass
class World:
    tenant: object
    members: dict  # role -> Membership


def build_world() -> World:
    """Acme Support with the CRM demo, every role, accepted legal documents and 5,000 imported contacts."""
    from octopushx.crm import demo as crm_demo
    from octopushx.shield.legal import defaults as legal_defaults
    from octopushx.shield.legal import services as legal
    from octopushx.tenancy.services import platform_org

    platform = platform_org()
    legal_defaults.seed(platform)
    tenant = make_org("Acme Support")
    members = {role: make_member(tenant, role, email=f"{role}@acme.test") for role in ROLES}
    crm_demo.load(tenant)
    import_contacts(tenant, [m.user for m in members.values()])
    for membership in members.values():
        actor = Actor(user=membership.user, role=membership.role)
        legal.accept(tenant, actor, legal.pending_for(membership.user, tenant, membership.role))
    seed_studio(tenant, members[Role.OWNER])
    return World(tenant, members)


def seed_studio(tenant, owner) -> None:
    """Workflows from four templates (one enabled, one paused) and a failed run, so Studio's list and
    run history are walked with rows in them, not only their empty states."""
    from octopushx.studio import services as studio
    from tests.studio.cross_tenant import failed_run

    actor = Actor(user=owner.user, role=owner.role)
    made = [
        studio.create_from_template(tenant, actor, key)[0]
        for key in ("vip_welcome", "deal_won_onboarding", "overdue_task_reminder", "webhook_upsert_contact")
    ]
    studio.set_enabled(tenant, actor, made[0], True)
    type(made[1]).objects.filter(pk=made[1].pk).update(
        paused_at=timezone.now(), paused_reason="95 % of its runs failed today"
    )
    failed_run(tenant, made[0])


def import_contacts(tenant, owners: list, count: int = IMPORTED_CONTACTS) -> None:
    """What a finished CSV import of ``count`` rows leaves behind, written in bulk (seconds, not minutes)."""
    from octopushx.crm.models import Company, Contact, ContactEmail, Import, ImportStatus

    rng = random.Random(12)
    now = timezone.now()
    company = Company.objects.create(tenant=tenant, name=long_name(rng, 100), domain="imported.example")
    contacts, emails = [], []
    for index in range(count):
        first, last = long_name(rng, 100).split(" ")
        email = f"{first.lower()}.{index}@imported.example"
        contact = Contact(
            tenant=tenant,
            first_name=first,
            last_name=last,
            email=email,
            company=company if index % 2 else None,
            job_title=long_name(rng, 60),
            owner=owners[index % len(owners)],
            external_id=f"import-{index}",
            created_at=now,
        )
        contacts.append(contact)
        emails.append(ContactEmail(tenant=tenant, contact=contact, email=email, is_primary=True))
    Contact.objects.bulk_create(contacts, batch_size=1000)
    ContactEmail.objects.bulk_create(emails, batch_size=1000)
    Import.objects.create(
        tenant=tenant,
        filename="contacts-" + "x" * 80 + ".csv",
        status=ImportStatus.DONE,
        total=count,
        processed=count,
        created=count,
        created_by=owners[0],
    )


def with_axe(page):
    """``page`` with axe-core loaded into every document it opens (an init script goes in through
    DevTools, so the pages' strict CSP, which forbids injected inline scripts, does not block it)."""
    page.context.add_init_script(path=str(AXE))
    return page


def sign_in(page, live_server_url: str, membership) -> None:
    """The browser holds a session for this member, working in the member's organisation."""
    client = Client()
    client.force_login(membership.user)
    session = client.session
    session[SESSION_KEY] = str(membership.tenant_id)
    session.save()
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server_url}])


def is_html_page(page, path: str) -> tuple[int, bool]:
    response = page.request.get(path, max_redirects=0)
    return response.status, response.headers.get("content-type", "").startswith("text/html")


def check_page(page, path: str, label: str, browser_log) -> list[str]:
    """Open ``path`` in a page from ``with_axe`` and check it at each size: no horizontal page scroll, no console or script
    error, one h1 and a title, a label and a design-system class on every control, no duplicate
    ids, and no serious or critical axe-core violation."""
    seen_console, seen_errors = len(browser_log.console_errors), len(browser_log.page_errors)
    page.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})
    page.goto(path)
    problems: list[str] = []
    axe_seen: set[str] = set()
    for width, height in SIZES:
        if (width, height) != SIZES[0]:
            page.set_viewport_size({"width": width, "height": height})
        where = f"{label} @{width}"
        found = page.evaluate(INSPECT, STYLED_CLASSES)
        if found["scrollWidth"] > found["innerWidth"]:
            problems.append(f"{where}: page scrolls sideways ({found['scrollWidth']}px in {found['innerWidth']}px)")
        if found["h1"] != 1:
            problems.append(f"{where}: {found['h1']} h1 headings, want 1")
        if not found["title"]:
            problems.append(f"{where}: no title")
        if found["unstyled"]:
            problems.append(f"{where}: controls without a design-system class: {found['unstyled']}")
        if found["unlabelled"]:
            problems.append(f"{where}: fields without a label: {found['unlabelled']}")
        if found["duplicateIds"]:
            problems.append(f"{where}: duplicate ids: {found['duplicateIds']}")
        for violation in page.evaluate(AXE_RUN):
            if violation not in axe_seen:  # the same finding at the second size is said once
                axe_seen.add(violation)
                problems.append(f"{where}: axe {violation}")
    for message in browser_log.console_errors[seen_console:] + browser_log.page_errors[seen_errors:]:
        problems.append(f"{label}: console: {message}")
    return problems
