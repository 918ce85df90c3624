"""The case pages in a real browser: log in, filter, open a case, switch language.

Drives Debian's Chromium through Playwright against pytest-django's live server. ``make
test`` installs Chromium; without it the test is skipped with a message saying so.
"""

import datetime
import re
from pathlib import Path

import pytest
from django.utils import translation

from jiancha.accounts.choices import BusinessLine, Role
from jiancha.accounts.models import Department, Unit
from jiancha.accounts.seed import load_units
from jiancha.cases.choices import EventType, Procedure
from jiancha.cases.tests.factories import CaseFactory, EventFactory, PersonFactory
from jiancha.core.testing import BASIC, make_user

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

# The live server runs in another thread, so the data must be committed: a transactional
# test. pytest-django runs these after all other database tests.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def unit_tree(transactional_db):
    """The procuratorate tree of the accounts migration.

    Another transactional test may have flushed the database before this one runs (a
    flush also removes migration data), so load the tree again when it is missing.
    """
    if not Unit.objects.exists():
        load_units(Unit, Department)


@pytest.fixture
def static_files(settings):
    """Make sure the live server finds ``jiancha/static`` (the project-level static dir).

    ``settings.STATICFILES_DIRS`` should list it; until it does, add it here so that the
    browser gets the stylesheet and htmx (``test_views`` checks the setting itself).
    """
    static_dir = Path(__file__).resolve().parents[2] / "static"
    if static_dir not in [
        Path(entry) for entry in getattr(settings, "STATICFILES_DIRS", [])
    ]:
        settings.STATICFILES_DIRS = [
            *getattr(settings, "STATICFILES_DIRS", []),
            static_dir,
        ]


@pytest.fixture
def browser_page(monkeypatch, static_files):
    if not CHROMIUM.exists():
        pytest.skip(
            f"Chromium not found at {CHROMIUM}: run `make test` (or apt-get install chromium) to run the browser tests"
        )
    sync_api = pytest.importorskip(
        "playwright.sync_api",
        reason="playwright is not installed (pip install -e '.[test]')",
    )
    # Playwright's sync API runs an event loop in this thread, which makes Django refuse
    # ORM calls (SynchronousOnlyOperation) even though they are not made from async code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        context = browser.new_context(
            locale="zh-CN", viewport={"width": 1400, "height": 1000}
        )
        context.set_default_timeout(10_000)
        page = context.new_page()
        try:
            yield page
        finally:
            context.close()
            browser.close()


def zh(message: str) -> str:
    """What the Chinese UI shows for an English msgid (the catalog may not be compiled yet)."""
    with translation.override("zh-hans"):
        return translation.gettext(message)


@pytest.fixture
def cases_in_the_browser(unit_tree):
    """A user and two cases of different business lines.

    Created before Playwright starts: ORM calls made while its event loop runs get a
    connection of their own, which then stays open and blocks the test database's
    teardown on PostgreSQL.
    """
    make_user(Role.CASE_MANAGER, BASIC, username="wang", password="pass-word-1")
    theft = CaseFactory(
        case_id="杭西检刑诉受〔2024〕00101号",
        business_line=BusinessLine.ORDINARY_CRIME,
        procedure=Procedure.PROSECUTION_REVIEW,
        received_on=datetime.date(2024, 3, 1),
        closed_on=datetime.date(2024, 3, 20),
        person_count=1,
    )
    PersonFactory(case=theft, person_id="A", name="张三丰", position=0)
    EventFactory(
        case=theft, type=EventType.RECEIVED, on=datetime.date(2024, 3, 1), position=0
    )
    EventFactory(
        case=theft,
        type=EventType.RIGHTS_NOTIFIED,
        on=datetime.date(2024, 3, 2),
        person="A",
        position=1,
    )
    EventFactory(
        case=theft,
        type=EventType.PROSECUTION_DECIDED,
        on=datetime.date(2024, 3, 20),
        person="A",
        position=2,
        details={"decision": "prosecute"},
    )
    juvenile = CaseFactory(
        case_id="杭西检未诉受〔2024〕00102号",
        business_line=BusinessLine.JUVENILE,
        received_on=datetime.date(2024, 4, 1),
    )
    return theft, juvenile


def test_log_in_filter_open_a_case_and_switch_to_english(
    live_server, cases_in_the_browser, browser_page
):
    from playwright.sync_api import expect

    theft, juvenile = cases_in_the_browser
    page = browser_page

    # The stylesheet and htmx are served locally (no CDN).
    assert page.request.get(live_server.url + "/static/vendor/htmx.min.js").ok
    assert page.request.get(live_server.url + "/static/jiancha.css").ok

    # Every case page requires login: the browser lands on the login form.
    page.goto(live_server.url + "/cases/")
    expect(page).to_have_url(re.compile(r"/login/\?next="))
    page.fill("#id_username", "wang")
    page.fill("#id_password", "pass-word-1")
    page.locator("form.form-stack button[type=submit]").click()

    # The list shows both cases; choosing a business line narrows it without a page load.
    expect(page).to_have_url(re.compile(r"/cases/$"))
    results = page.locator("#results")
    expect(results).to_contain_text(theft.case_id)
    expect(results).to_contain_text(juvenile.case_id)
    page.select_option("#id_business_line", BusinessLine.ORDINARY_CRIME)
    expect(results).not_to_contain_text(juvenile.case_id)
    expect(results).to_contain_text(theft.case_id)
    expect(page).to_have_url(re.compile(r"business_line=ordinary_crime"))
    expect(page.locator("#language-next")).to_have_value(
        re.compile(r"business_line=ordinary_crime")
    )

    # The search box narrows it too (and the URL can be shared).
    page.select_option("#id_business_line", "")
    expect(results).to_contain_text(juvenile.case_id)
    page.fill("#id_q", "杭西检未诉")
    expect(results).not_to_contain_text(theft.case_id)
    expect(results).to_contain_text(juvenile.case_id)
    page.fill("#id_q", "")
    expect(results).to_contain_text(theft.case_id)

    # The case page: fields, the person and a timeline with the deadlines' status in words.
    page.get_by_role("link", name=theft.case_id).click()
    expect(page.locator("h1")).to_contain_text(theft.case_id)
    timeline = page.locator("ol.timeline")
    expect(timeline).to_contain_text(zh("prosecution decided"))
    expect(timeline.locator(".deadline--met .badge").first).to_have_text(zh("Met"))
    expect(page.locator(".person-list")).to_contain_text("张三丰")

    # Switching to English keeps the page and shows English labels.
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#timeline-title")).to_have_text("Timeline")
    expect(page.locator(".site-nav")).to_contain_text("Cases")
    expect(timeline).to_contain_text("prosecution decided")
    expect(timeline.locator(".deadline--met .badge").first).to_have_text("Met")
    expect(timeline).to_contain_text("Legal basis")

    # Back on the list, in English, and log out through the POST form.
    page.get_by_role("link", name="Cases").first.click()
    expect(page.locator("h1")).to_have_text("Cases")
    expect(page.locator("#results")).to_contain_text("2 cases")
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login/"))
