"""Dashboards and saved reports as PDF: the same numbers as the page, the header facts, per role."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from pypdf import PdfReader

from octopushx.core import pdf as core_pdf
from octopushx.core.models import AuditEntry
from octopushx.reports.models import Report
from octopushx.tenancy.roles import Role
from tests.conftest import ApiClient, make_member
from tests.crm.conftest import make_deal

pytestmark = pytest.mark.django_db


def text_of(body: bytes) -> str:
    assert body.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


@pytest.fixture
def team(org):
    admin = make_member(org, Role.ADMIN, email="ada@example.test")
    agent = make_member(org, Role.AGENT, email="al@example.test")
    for _ in range(3):
        make_deal(org, owner=agent, value="100")
    for _ in range(4):
        make_deal(org, owner=admin, value="1000")
    return admin, agent


def test_dashboard_pdf_counts_what_each_role_sees(team):
    admin, agent = team
    as_admin = ApiClient(admin).get("/api/v1/dashboards/sales/pdf?period=this_year")
    as_agent = ApiClient(agent).get("/api/v1/dashboards/sales/pdf?period=this_year")
    assert as_admin.status_code == 200 and as_admin["Content-Type"] == "application/pdf"
    assert 'attachment; filename="sales-dashboard-' in as_admin["Content-Disposition"]
    admin_text, agent_text = text_of(as_admin.content), text_of(as_agent.content)
    # "Deals created" is 7 for the organisation, 3 for the agent (their own deals)
    assert "Deals created\n7" in admin_text.replace("\n\n", "\n")
    assert "Deals created\n3" in agent_text.replace("\n\n", "\n")
    assert "counts the whole organisation's records" in admin_text
    assert "(Agent): counts only their own records" in agent_text


def test_dashboard_pdf_states_period_filters_time_zone_and_generation(team):
    admin, _ = team
    text = text_of(ApiClient(admin).get("/api/v1/dashboards/activity/pdf?period=last_month").content)
    for label in ("Period", "Filters", "Prepared for", "Time zone", "Generated", "Europe/London", "Last month"):
        assert label in text
    assert "Page 1 of" in text


def test_dashboard_pdf_draws_every_widget(team):
    from octopushx.reports import dashboards

    admin, _ = team
    text = text_of(ApiClient(admin).get("/api/v1/dashboards/sales/pdf").content)
    for widget in dashboards.SALES:
        assert core_pdf.clean(widget.title) in text, widget.key


@pytest.mark.parametrize("role", [Role.AGENT, Role.MANAGER])
def test_compliance_pdf_is_403_for_roles_that_do_not_audit(api_as, role):
    response = api_as(role).get("/api/v1/dashboards/compliance/pdf")
    assert response.status_code == 403


def test_unknown_dashboard_pdf_is_404(api_as):
    assert api_as(Role.ADMIN).get("/api/v1/dashboards/nope/pdf").status_code == 404


def test_dashboard_pdf_is_audited(api_as, org):
    assert api_as(Role.MANAGER).get("/api/v1/dashboards/coaching/pdf").status_code == 200
    entry = AuditEntry.objects.filter(tenant=org, action="dashboard.exported").get()
    assert entry.object_id == "coaching"


def test_download_pdf_from_the_page(web_as):
    client = web_as(Role.AGENT)
    page = client.get("/reports/?period=this_year").content.decode()
    assert 'href="/reports/pdf/?period=this_year"' in page and "Download PDF" in page
    response = client.get("/reports/pdf/?period=this_year")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert client.get("/reports/compliance/pdf/").status_code == 403


def test_saved_report_as_pdf_lists_every_row_across_pages(team, org):
    admin, _ = team
    first = date(2026, 1, 1)
    for index in range(80):
        make_deal(org, owner=admin, value="10", expected_close=(first + timedelta(days=index)).isoformat())
    report = Report.objects.create(
        tenant=org,
        name="Deals by close day",
        owner=admin.user,
        view="line",
        spec={
            "dataset": "deals",
            "measures": [{"agg": "count"}],
            "group_by": [{"field": "expected_close", "grain": "day"}],
        },
    )
    response = ApiClient(admin).get(f"/api/v1/reports/{report.pk}/data?format=pdf")
    assert response.status_code == 200, response.content[:300]
    reader = PdfReader(io.BytesIO(response.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) >= 2
    assert "2026-01-01" in text and "2026-03-21" in text
    assert text.count("(day)") >= len(reader.pages) - 1  # the header row repeats on each page it continues on
    assert "Dataset" in text and "Filters" in text and "Generated" in text


def test_report_pdf_of_another_tenants_report_is_404(api_as, other_org):
    owner = make_member(other_org, Role.OWNER)
    report = Report.objects.create(tenant=other_org, name="B", spec={"dataset": "deals"}, owner=owner.user, shared=True)
    assert api_as(Role.OWNER).get(f"/api/v1/reports/{report.pk}/data?format=pdf").status_code == 404


def test_clean_replaces_what_the_font_cannot_draw():
    assert core_pdf.clean("−5 ✓") in ("−5 ✓", "-5 v")
    assert "\u2212" not in core_pdf.clean("\u2212") or 0x2212 in core_pdf._glyphs


def test_wide_tables_split_without_breaking_words(org):
    styles = core_pdf.Styles(core_pdf.color(None))
    header = ["Agent"] + [f"Interruptions{i}" for i in range(12)]
    tables = core_pdf.data_table(styles, header, [["Someone"] + ["1"] * 12], numeric=range(1, 13))
    assert len([t for t in tables if hasattr(t, "_colWidths")]) >= 2
    body = core_pdf.render(core_pdf.Header(title="Wide", organisation="Acme"), tables)
    assert "Interruptions11" in text_of(body)


def test_a_pie_of_two_groupings_is_the_first_groupings_totals():
    from reportlab.graphics.charts.piecharts import Pie

    from octopushx.reports.pdf import chart_drawing

    chart = {
        "type": "pie",
        "kind": "number",
        "labels": ["Won", "Lost"],
        "series": [{"name": "GBP", "values": [3, 1]}, {"name": "EUR", "values": [2, "4"]}],
    }
    drawing = chart_drawing(chart, None)
    pie = next(item for item in drawing.contents if isinstance(item, Pie))
    assert pie.data == [5.0, 5.0]
