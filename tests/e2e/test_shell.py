import pytest

from tests.conftest import make_member, make_org

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_styles_scripts_and_icon_load_from_our_own_server(page):
    page.goto("/accounts/login/")
    assets = page.eval_on_selector_all(
        "link[rel=stylesheet], link[rel=icon], script[src]", "els => els.map(e => e.href || e.src)"
    )
    # the design system (Tabler css + js, its icon font), htmx, our app.css/app.js and the icon
    assert len(assets) == 7
    for url in assets:
        assert url.startswith(page.url.split("/accounts/")[0] + "/static/")
        assert page.request.get(url).ok, url
    icon = page.request.get(page.get_attribute("link[rel=icon]", "href"))
    assert icon.headers["content-type"].startswith("image/svg+xml")
    tabler = page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--tblr-border-radius')")
    assert tabler.strip()  # Tabler's stylesheet applied
    skip = page.evaluate("getComputedStyle(document.querySelector('.skip')).left")
    assert skip == "-999px"  # app.css applied
    font = page.evaluate("getComputedStyle(document.querySelector('.ti') || document.body).fontFamily")
    assert font  # the icon font's stylesheet parsed


def test_narrow_screen_menu_toggle_opens_and_closes_the_navigation(new_page, signed_in):
    page = new_page(viewport={"width": 375, "height": 800})
    membership = make_member(make_org("Acme Support"), "admin")
    signed_in(page, membership.user)
    toggle = page.get_by_role("button", name="Menu")
    nav = page.get_by_role("navigation", name="Products")
    toggle.wait_for()
    assert nav.is_hidden()
    assert toggle.get_attribute("aria-expanded") == "false"

    toggle.click()
    nav.get_by_role("link", name="Settings").wait_for()
    assert toggle.get_attribute("aria-expanded") == "true"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375  # nothing overflows sideways

    page.keyboard.press("Escape")
    nav.wait_for(state="hidden")
    assert page.evaluate("document.activeElement.getAttribute('aria-controls')") == "sidenav"


def test_wide_screen_hides_the_menu_toggle(page, signed_in):
    membership = make_member(make_org("Acme Support"), "agent")
    signed_in(page, membership.user)
    assert page.get_by_role("button", name="Menu").is_hidden()
    assert page.get_by_role("navigation", name="Products").is_visible()


def test_navigation_marks_the_current_page(page, signed_in):
    membership = make_member(make_org("Acme Support"), "admin")
    signed_in(page, membership.user)
    page.goto("/settings/members/")
    current = page.locator("[aria-current=page]")
    assert current.all_inner_texts() == ["Settings", "Members & roles"]
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Sessions").click()
    page.get_by_role("heading", name="Where you are signed in").wait_for()
    assert current.all_inner_texts() == ["Settings", "Sessions"]


def test_skip_link_is_the_first_stop_and_focus_is_visible(page, signed_in):
    membership = make_member(make_org("Acme Support"), "agent")
    signed_in(page, membership.user)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    assert skip.evaluate("el => el === document.activeElement")
    assert skip.is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"


def test_user_menu_opens_from_the_keyboard_and_escape_closes_it(page, signed_in):
    membership = make_member(make_org("Acme Support"), "agent")
    signed_in(page, membership.user)
    menu = page.locator("details.user-menu")
    menu.locator("summary").focus()
    page.keyboard.press("Enter")
    page.get_by_role("link", name="Security & 2FA").wait_for()
    page.keyboard.press("Escape")
    page.get_by_role("link", name="Security & 2FA").wait_for(state="hidden")
    assert page.evaluate("document.activeElement.tagName") == "SUMMARY"

    page.keyboard.press("Enter")
    page.get_by_role("link", name="Security & 2FA").wait_for()
    page.get_by_role("heading", name="Welcome").click()
    page.get_by_role("link", name="Security & 2FA").wait_for(state="hidden")


def test_phone_settings_tabs_scroll_to_the_current_one(new_page, signed_in):
    page = new_page(viewport={"width": 375, "height": 800})
    signed_in(page, make_member(make_org("Acme Support"), "admin").user)
    page.goto("/settings/jobs/")
    tab = page.get_by_role("navigation", name="Settings").get_by_role("link", name="Jobs")
    assert tab.get_attribute("aria-current") == "page"
    inside = "el => { const r = el.getBoundingClientRect(); return r.left >= 0 && r.right <= innerWidth }"
    assert tab.evaluate(inside)
