"""Every page, file and email a branded customer can reach, crawled: the platform's name appears nowhere.

A customer of a branded reseller, with billing on and data in every product (contacts, deals, a
call, workflows, privacy requests, an issued invoice), is crawled as its owner on the brand's
domain: from the home page, every link to a page of the site is followed (GET only), and every
page, PDF and CSV it answers is searched for "Octopush" in any spelling, as are the emails that
the crawl and the products send.
"""

from __future__ import annotations

import io
import re
from collections import deque
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from django.core import mail
from django.test import Client
from pypdf import PdfReader

from octopushx.core import jobs
from octopushx.tenancy.models import Membership
from octopushx.tenancy.roles import Role
from tests.conftest import make_member
from tests.tenancy.test_white_label_leaks import HOST, leaks
from tests.tenancy.test_white_label_leaks import customer as customer  # noqa: F401 (the fixture)

LINK = re.compile(r"""(?:href|src|action|hx-get|data-href)=["']([^"'#][^"']*)["']""")
SKIP = re.compile(r"^/(static|brand-assets|accounts/logout|api/v1/docs)|/audio/|\.(png|ico|svg|webp)$")
ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|(?<=/)\d+(?=/|$)")
PLENTY = 1500  # pages fetched at most (the crawl must finish well before)


def _loaded(tenant) -> Membership:
    from datetime import timedelta

    from octopushx.billing import credits, dunning
    from octopushx.billing import services as billing
    from octopushx.core.context import Actor
    from octopushx.crm import demo as crm_demo
    from octopushx.shield import demo as shield_demo
    from octopushx.studio import demo as studio_demo
    from tests.billing.factories import issued_invoice
    from tests.calls.factories import analysed_call

    owner = make_member(tenant, Role.OWNER, email="owner@their.example")
    admin = make_member(tenant, Role.ADMIN, email="admin@their.example")
    crm_demo.load(tenant)
    studio_demo.load(tenant)
    shield_demo.load(tenant, admin)
    analysed_call(tenant, agent=owner.user)
    billing.current_subscription(tenant)
    invoice = issued_invoice(tenant)
    # A credit note (listed with its PDF on the Billing page) and the billing emails (sent by jobs).
    credits.issue_credit_note(
        invoice, Actor.system("test"), reason="Goodwill", lines=[{"description": "Outage credit", "amount": "5.00"}]
    )
    dunning.run(invoice.due_on + timedelta(days=1))  # the invoice email and the day-1 reminder
    return owner


def _crawl(client: Client) -> tuple[dict[str, str], list[str]]:
    """GET every same-site link from the home page; answers (path → leak report, paths seen)."""
    found: dict[str, str] = {}
    queue, seen, shapes = deque(["/"]), {"/"}, {"/"}
    fetched = 0
    while queue and fetched < PLENTY:
        fetched += 1
        path = queue.popleft()
        response = client.get(path, HTTP_HOST=HOST, follow=False)
        if response.status_code in (301, 302):
            target = urlsplit(response["Location"])
            if target.netloc in ("", HOST) and target.path not in seen:
                seen.add(target.path)
                queue.append(target.path + (f"?{target.query}" if target.query else ""))
            continue
        content_type = response.get("Content-Type", "")
        body = b"".join(response.streaming_content) if response.streaming else response.content
        if "pdf" in content_type:
            text = "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(body)).pages)
        else:
            text = body.decode("utf-8", "replace")
        headers = "\n".join(f"{k}: {v}" for k, v in response.items())
        problems = leaks(f"{headers}\n{text}")
        if problems:
            found[path] = " | ".join(problems[:3])
        if "html" not in content_type:
            continue
        for link in LINK.findall(text):
            url, _ = urldefrag(urljoin(path, link.replace("&amp;", "&")))
            parts = urlsplit(url)
            if parts.netloc not in ("", HOST) or SKIP.search(parts.path):
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            shape = ID.sub("{id}", parts.path)  # one record of a kind, one filtered or paged variant of a list
            if target not in seen and shape not in shapes:
                seen.add(target)
                shapes.add(shape)
                queue.append(target)
    assert not queue, f"the crawl stopped with {len(queue)} pages left: raise PLENTY"
    return found, sorted(seen)


@pytest.mark.django_db(transaction=False)
def test_crawling_a_branded_customer_finds_the_platform_name_nowhere(
    customer, settings, django_capture_on_commit_callbacks
):  # noqa: F811
    settings.BILLING_ENABLED = True
    with django_capture_on_commit_callbacks(execute=True):
        owner = _loaded(customer)
    jobs.drain()
    client = Client()
    client.force_login(owner.user)
    found, seen = _crawl(client)
    assert len(seen) > 60, seen  # the crawl reached the products' pages, lists and records
    for prefix in ("/crm/", "/calls/", "/studio/", "/reports/", "/shield/", "/settings/billing/"):
        assert any(path.startswith(prefix) for path in seen), prefix
    assert found == {}, seen
    subjects = [message.subject for message in mail.outbox]
    for billing_email in ("invoice INV-000001", "Reminder:", "credit note CN-000001"):
        assert any(billing_email in subject for subject in subjects), (billing_email, subjects)
    for message in mail.outbox:
        headers = "\n".join(f"{k}: {v}" for k, v in message.message().items())
        assert leaks(f"{headers}\n{message.subject}\n{message.body}") == [], message.subject
