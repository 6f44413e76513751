"""The Article 30 register: page and CSV, built from the tenant's own settings."""

from __future__ import annotations

import csv
import io
import re

from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry
from octopushx.shield.legal import defaults
from octopushx.shield.records import services as records
from octopushx.shield.retention import services as retention
from octopushx.tenancy.roles import Role
from octopushx.tenancy.services import platform_org


def test_page_lists_each_section(web_as, org):
    content = web_as(Role.AUDITOR).get("/shield/records/").content.decode()
    for section in (
        "Controller",
        "Processor",
        "Purposes",
        "Data subjects",
        "Personal data",
        "Recipients",
        "Retention",
        "Security",
    ):
        assert re.search(rf'<h2 class="card-title" id="records-\d+">{section}</h2>', content)
    assert content.count('class="datagrid-item"') >= 8
    assert "Acme Support" in content


def details(org) -> str:
    return " ".join(f"{r.item}: {r.detail}" for r in records.register(org))


def test_register_reflects_retention_and_2fa(org):
    retention.set_policy(org, Actor.system("t"), "notes", keep=False, days=400)
    org.require_2fa = True
    org.save()
    assert "Notes: deleted after 400 days" in details(org)
    assert "Two-factor sign-in: mandatory" in details(org)


def test_register_links_the_published_sub_processor_list(org):
    assert "no sub-processor list has been published" in details(org)
    defaults.seed(platform_org())
    assert "Sub-processors version 1: http" in details(org)


def test_csv_export_is_audited(web_as, org):
    response = web_as(Role.AUDITOR).get("/shield/records.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["section", "item", "detail"] and len(rows) > 10
    assert AuditEntry.objects.filter(tenant=org, action="records.exported").exists()


def test_agents_cannot_read_the_register(web_as):
    client = web_as(Role.AGENT)
    assert client.get("/shield/records/").status_code == 403
    assert client.get("/shield/records.csv").status_code == 403


def _text(body: bytes) -> str:
    import io

    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


def test_pdf_export_is_a_valid_pdf_and_audited(web_as, org):
    response = web_as(Role.AUDITOR).get("/shield/records.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    body = response.content
    assert body.startswith(b"%PDF-1.4") and body.rstrip().endswith(b"%%EOF")
    text = _text(body)
    assert "Records of processing - Acme Support" in text and "Security" in text
    assert "Page 1 of" in text
    assert AuditEntry.objects.filter(tenant=org, action="records.exported").exists()


def test_pdf_keeps_parentheses_and_wraps_long_lines():
    from octopushx.shield.records import pdf

    body = pdf.render("T (x)", [("p", "a" * 300), ("p", "back\\slash é")] * 40)
    text = _text(body)
    assert "T (x)" in text and "back\\slash é" in text
    assert text.count("Page ") >= 2  # long enough to continue on a second page
