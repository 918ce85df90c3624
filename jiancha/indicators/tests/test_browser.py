"""The dashboard in a real browser: open it, drill down one level, reach the cases.

Drives Debian's Chromium through Playwright against pytest-django's live server.
"""

import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from jiancha.core.testing import BASIC, CITY, make_user
from jiancha.indicators.tests.factories import build_scenario

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Reference data (units, charges) is reloaded by the autouse fixture in jiancha/conftest.py.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_page(monkeypatch, settings):
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}: run `make test` (or apt-get install chromium) to run the browser tests")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    # The project's own static files (jiancha/static: jiancha.css, vendor/echarts.min.js).
    settings.STATICFILES_DIRS = [Path(django_settings.BASE_DIR) / "static"]
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(15_000)
        page = context.new_page()
        try:
            yield page
        finally:
            context.close()
            browser.close()


def test_open_dashboard_drill_down_and_reach_the_cases(live_server, browser_page):
    from playwright.sync_api import expect

    scenario = build_scenario()
    make_user("chief", CITY, username="zhao", password="pass-word-1")
    page = browser_page
    page.goto(live_server.url + "/login/?next=/indicators/")
    page.fill("#id_username", "zhao")
    page.fill("#id_password", "pass-word-1")
    page.locator("form.form-stack button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/indicators/$"))

    # The city's table for 2024, in English for stable labels.
    page.get_by_role("button", name="English").click()
    page.goto(live_server.url + f"/indicators/?unit={CITY}&from=2024-01-01&to=2024-12-31&focus=non_arrest_rate")
    expect(page.locator("h1")).to_have_text("Case quality indicators")
    row = page.locator("#row-non_arrest_rate")
    expect(row).to_contain_text("2 / 4")
    expect(row).to_contain_text("Insufficient sample")
    if Path(django_settings.BASE_DIR, "static", "vendor", "echarts.min.js").exists():
        expect(page.locator("#chart-trend canvas").first).to_be_visible()

    # Drill down one level: the basic unit below the city.
    expect(page.locator("#focus")).to_contain_text("Not ranked")
    children = page.locator("#children-table")
    children.get_by_role("link", name=re.compile("西湖区")).click()
    expect(page).to_have_url(re.compile(rf"unit={BASIC}"))
    expect(page.locator("#row-non_arrest_rate")).to_contain_text("1 / 3")
    expect(page.locator(".indicator-path")).to_contain_text("杭州市人民检察院")

    # ... and to the cases behind the numerator of non-prosecution after arrest.
    page.locator("#row-post_arrest_non_prosecution_rate").get_by_role("link", name="1", exact=True).click()
    expect(page.locator("#indicator-cases")).to_contain_text("PR2")
    page.get_by_role("link", name="PR2").click()
    expect(page).to_have_url(re.compile(rf"/cases/{scenario['PR2'].pk}/$"))
    expect(page.locator("h1")).to_contain_text("PR2")
