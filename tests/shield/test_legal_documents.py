"""Legal documents: versioned publishing per platform / reseller brand, sanitised public pages."""

from __future__ import annotations

import pytest
from django.test import Client

from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry
from octopushx.shield.legal import defaults, services
from octopushx.shield.legal.models import LegalDocument
from octopushx.tenancy.models import OrgKind
from octopushx.tenancy.roles import Role
from octopushx.tenancy.services import platform_org
from tests.conftest import make_member, make_org


def publish(org, kind="terms", title="Terms", body="# Terms\n\nBe nice."):
    return services.publish(org, Actor.system("test"), kind=kind, title=title, body=body)


@pytest.fixture
def staff_client(db):
    client = Client()
    client.force_login(make_member(platform_org(), Role.ADMIN).user)
    return client


def test_platform_admin_publishes_versions(staff_client):
    form = {"kind": "privacy", "title": "Privacy policy", "body": "# Privacy\n\nv1"}
    assert staff_client.post("/shield/legal/", form).status_code == 302
    staff_client.post("/shield/legal/", {**form, "body": "# Privacy\n\nv2", "summary": "clearer"})
    versions = list(LegalDocument.objects.filter(kind="privacy").values_list("version", flat=True))
    assert sorted(versions) == [1, 2]
    assert AuditEntry.objects.filter(tenant=platform_org(), action="legal.published").count() == 2


def test_empty_title_or_body_publishes_nothing(staff_client):
    response = staff_client.post("/shield/legal/", {"kind": "terms", "title": "", "body": " "}, follow=True)
    assert b"A title is required" in response.content and b"The document is empty" in response.content
    assert not LegalDocument.objects.exists()


def test_unknown_kind_is_refused(db):
    with pytest.raises(Exception) as exc:
        publish(platform_org(), kind="manifesto")
    assert "kind" in exc.value.message_dict


def test_customer_admin_cannot_publish(web_as):
    client = web_as(Role.ADMIN)
    assert client.get("/shield/legal/").status_code == 200
    response = client.post("/shield/legal/", {"kind": "terms", "title": "T", "body": "B"})
    assert response.status_code == 403
    assert not LegalDocument.objects.exists()


def test_agent_cannot_open_the_legal_settings(web_as):
    assert web_as(Role.AGENT).get("/shield/legal/").status_code == 403


def test_public_page_renders_markdown(db):
    publish(platform_org(), body="# Our terms\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n**bold**")
    response = Client().get("/legal/terms/")
    assert response.status_code == 200
    # The document's headings sit one level below the page's title, its only h1.
    assert b"<h2>Our terms</h2>" in response.content and b"<strong>bold</strong>" in response.content
    assert response.content.count(b"<h1") == 1
    assert b"<table>" in response.content


def test_public_page_is_sanitised(db):
    body = (
        "Hi <script>alert('x')</script> <img src=x onerror=alert(1)>"
        " [click](javascript:alert(1)) <a href='https://example.com' onclick='evil()'>ok</a>"
    )
    publish(platform_org(), body=body)
    html = Client().get("/legal/terms/").content.decode()
    article = html.split('<article class="legal">', 1)[1].split("</article>", 1)[0]
    assert "<script" not in article and "onerror" not in article and "onclick" not in article
    assert "javascript:" not in article
    assert 'href="https://example.com"' in article


def test_unpublished_kind_is_404(db):
    assert Client().get("/legal/dpa/").status_code == 404


def test_newest_version_is_shown(db):
    publish(platform_org(), body="first text")
    publish(platform_org(), body="second text")
    content = Client().get("/legal/terms/").content
    assert b"second text" in content and b"first text" not in content and b"version 2" in content


def test_reseller_brand_documents_override_the_platform(db):
    reseller = make_org("Northwind", kind=OrgKind.RESELLER)
    customer = make_org("Their customer", parent=reseller)
    publish(platform_org(), body="platform terms")
    publish(reseller, body="northwind terms")
    assert b"northwind terms" in Client().get(f"/legal/terms/?brand={reseller.pk}").content
    assert b"platform terms" in Client().get("/legal/terms/").content
    assert services.current("terms", customer).tenant_id == reseller.pk
    direct = make_org("Direct customer")
    assert services.current("terms", direct).tenant_id == platform_org().pk


def test_unknown_or_customer_brand_is_404(db, other_org):
    publish(platform_org())
    assert Client().get("/legal/terms/?brand=not-an-id").status_code == 404
    assert Client().get(f"/legal/terms/?brand={other_org.pk}").status_code == 404


def test_default_documents_seed_once(db):
    assert defaults.seed(platform_org()) == 6
    assert defaults.seed(platform_org()) == 0
    for kind in ("terms", "privacy", "cookies", "aup", "dpa", "subprocessors"):
        assert Client().get(f"/legal/{kind}/").status_code == 200
