"""Reports in a real browser: the sales dashboard from the menu, a bar of the open pipeline clicked
through to the CRM's deal list showing exactly that stage's deals; the period picker; a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from octopushx.crm import services as crm_services
from octopushx.crm.models import StageKind
from tests.conftest import make_member, make_org
from tests.crm.conftest import make_deal
from tests.e2e.pagewalk import ROLES, build_world, check_page, is_html_page, sign_in, with_axe

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# The chart's first bar, clicked where ECharts drew it (its own pixel conversion).
CLICK_FIRST_BAR = """(element) => {
  const chart = window.echarts.getInstanceByDom(element);
  const data = JSON.parse(document.getElementById(element.dataset.reportChart).textContent);
  const value = data.series[0].values[0];
  const [x, y] = chart.convertToPixel({ seriesIndex: 0 }, [value / 2, 0]);
  const box = element.getBoundingClientRect();
  return { x: box.left + x, y: box.top + y };
}"""


@pytest.fixture
def owner():
    member = make_member(make_org("Acme Support"), "owner", email="reports-owner@example.test")
    stages = [
        s for s in crm_services.default_pipeline(member.tenant).stages.order_by("position") if s.kind == StageKind.OPEN
    ]
    make_deal(member.tenant, member, name="Alpha renewal", value="100", stage_id=str(stages[0].pk))
    make_deal(member.tenant, member, name="Beta upgrade", value="250", stage_id=str(stages[0].pk))
    make_deal(member.tenant, member, name="Gamma pilot", value="900", stage_id=str(stages[1].pk))
    return member


def test_sales_bar_clicks_through_to_the_deals_behind_it(page, signed_in, owner):
    signed_in(page, owner.user)
    page.goto("/")
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Sales", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Compliance")).to_be_visible()

    card = page.locator("[data-widget=open_pipeline]")
    expect(card).to_contain_text("Now")
    chart = card.locator("[data-report-chart]")
    expect(chart).to_have_attribute("data-drawn", "true")
    point = chart.evaluate(CLICK_FIRST_BAR)
    page.mouse.click(point["x"], point["y"])

    expect(page).to_have_url(re.compile(r"/crm/deals/\?.*stage_id="))
    expect(page.get_by_role("link", name="Alpha renewal")).to_be_visible()
    expect(page.get_by_role("link", name="Beta upgrade")).to_be_visible()
    expect(page.get_by_role("link", name="Gamma pilot")).to_have_count(0)


def test_kpi_links_and_period_picker(page, signed_in, owner):
    signed_in(page, owner.user)
    page.goto("/reports/")
    created = page.locator("[data-widget=deals_created]")
    expect(created.locator(".report-kpi-value")).to_have_text("3")
    page.get_by_label("Period").select_option("this_year")
    expect(page).to_have_url(re.compile(r"period=this_year"))
    expect(page.locator(".report-period-text")).to_contain_text("compared with")
    created.locator(".report-kpi-value").click()
    expect(page).to_have_url(re.compile(r"/crm/deals/\?.*created_after="))
    expect(page.get_by_role("link", name="Gamma pilot")).to_be_visible()


def test_reports_on_a_phone_have_no_sideways_scroll(new_page, signed_in, owner):
    page = new_page(viewport={"width": 390, "height": 844})
    signed_in(page, owner.user)
    for path in ("/reports/", "/reports/activity/", "/reports/coaching/", "/reports/compliance/"):
        page.goto(path)
        expect(page.locator("[data-widget]").first).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path


REPORT_PAGES = ["/reports/", "/reports/activity/", "/reports/coaching/", "/reports/compliance/"]


@pytest.mark.parametrize("role", ROLES)
def test_report_pages_pass_the_page_walk(role, new_page, live_server, browser_log):
    """The page walk's checks (axe, one h1, labels, no sideways scroll…) on the Reports pages alone,
    on the walk's world (the demo CRM and calls, 5,000 long-named contacts)."""
    world = build_world()
    page = with_axe(new_page())
    sign_in(page, live_server.url, world.members[role])
    problems, visited = [], []
    for path in REPORT_PAGES:
        status, html = is_html_page(page, path)
        assert status in (200, 403), f"{path}: {status}"
        if status == 200 and html:
            visited.append(path)
            problems += check_page(page, path, path, browser_log)
    assert not problems, f"{role}:\n" + "\n".join(problems)
    expected = REPORT_PAGES if role in ("owner", "admin", "auditor") else REPORT_PAGES[:3]
    assert visited == expected


def test_download_pdf_from_the_dashboard(page, signed_in, owner):
    """The dashboard's "Download PDF" button gives a PDF of the page's period."""
    signed_in(page, owner.user)
    page.goto("/reports/?period=this_year")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()
    download = download_info.value
    assert download.suggested_filename.startswith("sales-dashboard-")
    assert download.suggested_filename.endswith(".pdf")
    with open(download.path(), "rb") as handle:
        assert handle.read(5) == b"%PDF-"


def test_schedule_and_profile_pages_pass_the_page_walk(new_page, live_server, browser_log):
    """The page walk's checks on the scheduled-reports pages and the profile page, with a schedule listed."""
    from octopushx.core.context import Actor
    from octopushx.reports import schedules

    world = build_world()
    manager = world.members["manager"]
    schedules.create_schedule(
        manager.tenant,
        Actor.system("test"),
        manager,
        {
            "dashboard": "sales",
            "frequency": "weekly",
            "weekday": 0,
            "time": "08:00",
            "recipient_ids": [str(manager.user_id)],
        },
    )
    page = with_axe(new_page())
    sign_in(page, live_server.url, manager)
    problems = []
    for path in ("/reports/schedules/", "/reports/schedules/new/?dashboard=sales", "/accounts/profile/"):
        status, html = is_html_page(page, path)
        assert status == 200 and html, f"{path}: {status}"
        problems += check_page(page, path, path, browser_log)
    assert not problems, "\n".join(problems)
