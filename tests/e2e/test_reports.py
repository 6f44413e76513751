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
BUILDER_PAGES = ["/reports/saved/", "/reports/new/"]


def _custom_pages(member) -> list[str]:
    """A saved report (in the builder) and a custom dashboard holding it and two ready widgets."""
    from octopushx.reports.models import Dashboard, Report

    report = Report.objects.create(
        tenant=member.tenant,
        owner=member.user,
        name="Deals by stage",
        view="bar",
        spec={"dataset": "deals", "group_by": [{"field": "stage"}]},
    )
    board = Dashboard.objects.create(
        tenant=member.tenant,
        owner=member.user,
        name="My dashboard",
        widgets=[
            {"id": "w1", "report_id": str(report.pk), "size": "lg"},
            {"id": "w2", "widget": "sales.win_rate", "size": "sm"},
            {"id": "w3", "widget": "activity.tasks_created", "size": "md"},
        ],
    )
    return [f"/reports/{report.pk}/", f"/reports/dashboards/{board.pk}/"]


@pytest.mark.parametrize("role", ROLES)
def test_report_pages_pass_the_page_walk(role, new_page, live_server, browser_log):
    """The page walk's checks (axe, one h1, labels, no sideways scroll…) on the Reports pages alone,
    on the walk's world (the demo CRM and calls, 5,000 long-named contacts)."""
    world = build_world()
    page = with_axe(new_page())
    sign_in(page, live_server.url, world.members[role])
    problems, visited = [], []
    custom = _custom_pages(world.members[role])
    for path in REPORT_PAGES + BUILDER_PAGES + custom:
        status, html = is_html_page(page, path)
        assert status in (200, 403), f"{path}: {status}"
        if status == 200 and html:
            visited.append(path)
            problems += check_page(page, path, path, browser_log)
    assert not problems, f"{role}:\n" + "\n".join(problems)
    expected = REPORT_PAGES if role in ("owner", "admin", "auditor") else REPORT_PAGES[:3]
    assert visited == expected + BUILDER_PAGES + custom


def test_build_a_report_save_it_to_a_new_dashboard_and_click_through(page, signed_in, owner):
    """The builder's journey: pick what to count and how to group it (the preview follows each change),
    save the report onto a new dashboard, open the dashboard, click a bar through to its deals."""
    signed_in(page, owner.user)
    page.goto("/reports/")
    page.get_by_role("link", name="Create report").click()
    expect(page.get_by_role("heading", name="Create report", level=1)).to_be_visible()
    preview = page.locator("[data-preview]")
    expect(preview.locator("[data-report-chart]")).to_have_attribute("data-drawn", "true")

    page.get_by_label("Dataset").select_option("deals")
    page.get_by_label("Measure 1").select_option("sum")
    page.get_by_label("Field of measure 1").select_option("value")
    page.get_by_label("Group by").select_option("stage")
    page.locator("label[for=rb-view-bar]").click()
    page.get_by_label("Period", exact=True).select_option("this_year")
    expect(preview).to_contain_text("Sum of value")
    expect(preview).to_contain_text("1,250.00")  # 100 + 250 + 900, this year against the period before
    expect(preview.locator(".report-delta")).to_contain_text("+1,250.00")
    page.get_by_label("Report name").fill("Open value by stage")

    page.get_by_role("button", name="Add to dashboard").click()
    dialog = page.locator("dialog[open]")
    dialog.get_by_label("New dashboard name").fill("Monday pipeline")
    dialog.get_by_label("Widget size").select_option("lg")
    dialog.get_by_role("button", name="Add to dashboard").click()
    page.get_by_role("link", name="Open the dashboard").click()

    expect(page.get_by_role("heading", name="Monday pipeline", level=1)).to_be_visible()
    card = page.locator("[data-widget-id]").first
    expect(card).to_contain_text("Open value by stage")
    expect(card).to_have_class(re.compile("report-lg"))
    chart = card.locator("[data-report-chart]")
    expect(chart).to_have_attribute("data-drawn", "true")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()
    assert download_info.value.suggested_filename.endswith(".pdf")
    with open(download_info.value.path(), "rb") as handle:
        assert handle.read(5) == b"%PDF-"

    point = chart.evaluate(CLICK_FIRST_BAR)
    page.mouse.click(point["x"], point["y"])
    expect(page).to_have_url(re.compile(r"/crm/deals/\?.*stage_id="))
    expect(page.get_by_role("link", name="Alpha renewal")).to_be_visible()
    expect(page.get_by_role("link", name="Gamma pilot")).to_have_count(0)

    page.goto("/reports/saved/")
    expect(page.get_by_role("link", name="Monday pipeline")).to_be_visible()
    expect(page.get_by_role("link", name="CSV of Open value by stage")).to_have_attribute(
        "href", re.compile(r"/api/v1/reports/.+/data\?format=csv")
    )


def test_arranging_a_dashboard_is_saved(page, signed_in, owner):
    """Resize and reorder from the card menu (the keyboard and phone way beside dragging), then reload."""
    from octopushx.reports.models import Dashboard

    board = Dashboard.objects.create(
        tenant=owner.tenant,
        name="Arranged",
        owner=owner.user,
        widgets=[
            {"id": "wa", "widget": "sales.deals_created", "size": "sm"},
            {"id": "wb", "widget": "sales.win_rate", "size": "sm"},
        ],
    )
    signed_in(page, owner.user)
    page.goto(f"/reports/dashboards/{board.pk}/")
    second = page.locator("[data-widget-id=wb]")
    second.get_by_role("button", name="Arrange Win rate").click()
    second.get_by_role("button", name="Large").click()
    expect(page.locator("[data-toast]")).to_contain_text("Size saved")
    second.get_by_role("button", name="Arrange Win rate").click()
    second.get_by_role("button", name="Move earlier").click()
    expect(page.locator("[data-toast]")).to_contain_text("Order saved")
    page.reload()
    expect(page.locator("[data-widget-id]").first).to_have_attribute("data-widget-id", "wb")
    expect(page.locator("[data-widget-id=wb]")).to_have_class(re.compile("report-lg"))


def test_dragging_a_card_reorders_the_dashboard(page, signed_in, owner):
    from octopushx.reports.models import Dashboard

    board = Dashboard.objects.create(
        tenant=owner.tenant,
        name="Dragged",
        owner=owner.user,
        widgets=[
            {"id": "wa", "widget": "sales.deals_created", "size": "sm"},
            {"id": "wb", "widget": "sales.deals_won", "size": "sm"},
            {"id": "wc", "widget": "sales.win_rate", "size": "sm"},
        ],
    )
    signed_in(page, owner.user)
    page.goto(f"/reports/dashboards/{board.pk}/")
    page.wait_for_load_state("networkidle")  # the cards have their figures: nothing moves under the drag
    handle = page.locator("[data-widget-id=wc] [data-drag-handle]").bounding_box()
    target = page.locator("[data-widget-id=wa]").bounding_box()
    page.mouse.move(handle["x"] + 5, handle["y"] + 5)
    page.mouse.down()
    for step in range(1, 21):
        page.mouse.move(
            handle["x"] + (target["x"] + 30 - handle["x"]) * step / 20,
            handle["y"] + (target["y"] + 20 - handle["y"]) * step / 20,
        )
    # Sortable ignores a card while it animates (150 ms): let the moves settle, then point again.
    page.wait_for_timeout(300)
    page.mouse.move(target["x"] + 25, target["y"] + 20)
    page.mouse.move(target["x"] + 30, target["y"] + 20)
    page.mouse.up()
    expect(page.locator("[data-toast]")).to_contain_text("Order saved")
    board.refresh_from_db()
    assert [w["id"] for w in board.widgets] == ["wc", "wa", "wb"]


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
