"""The case pages over HTTP: role matrices, filters, sorting, paging, HTMX, export."""

import datetime
import io
import re

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from jiancha.accounts.choices import Role
from jiancha.cases import views
from jiancha.cases.choices import BusinessLine, EventType, Procedure
from jiancha.cases.tests.factories import (
    CaseFactory,
    CaseGrantFactory,
    EventFactory,
    PersonFactory,
)
from jiancha.core.models import AuditEntry
from jiancha.core.testing import BASIC, CITY, OTHER_BASIC, SIBLING, may_see, role_matrix

LIST_URL = "/cases/"
EXPORT_URL = "/cases/export.xlsx"


@pytest.fixture
def case(db):
    """A closed prosecution review at the basic unit, with one person and its events."""
    case = CaseFactory(
        case_id="杭西检刑诉受〔2024〕00042号",
        received_on=datetime.date(2024, 3, 1),
        closed_on=datetime.date(2024, 3, 20),
        detained=True,
        person_count=1,
        facts="犯罪嫌疑人张三丰于2024年1月盗窃他人财物。",
    )
    PersonFactory(case=case, person_id="A", name="张三丰", position=0)
    EventFactory(
        case=case, type=EventType.RECEIVED, on=datetime.date(2024, 3, 1), position=0
    )
    EventFactory(
        case=case,
        type=EventType.RIGHTS_NOTIFIED,
        on=datetime.date(2024, 3, 2),
        person="A",
        position=1,
    )
    EventFactory(
        case=case,
        type=EventType.SENTENCING_RECOMMENDED,
        on=datetime.date(2024, 3, 18),
        person="A",
        position=2,
        details={"kind": "fixed", "months": 10},
    )
    EventFactory(
        case=case,
        type=EventType.PROSECUTION_DECIDED,
        on=datetime.date(2024, 3, 20),
        person="A",
        position=3,
        details={"decision": "prosecute"},
    )
    return case


def list_rows(response) -> list[str]:
    """The case numbers of the list's rows, in order."""
    return re.findall(
        r'<td class="col-number"><a href="/cases/\d+/">([^<]+)</a>',
        response.content.decode(),
    )


def export_rows(response) -> list[tuple]:
    workbook = load_workbook(
        io.BytesIO(b"".join(response.streaming_content)), read_only=True
    )
    return list(workbook.worksheets[0].iter_rows(values_only=True))


# Role matrices ---------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "unit"), role_matrix())
def test_list_shows_case_only_to_users_who_may_see_it(client_for, case, role, unit):
    client = client_for(role, unit)
    response = client.get(LIST_URL)
    assert response.status_code == 200
    allowed = may_see(role, unit, BASIC)
    assert (case.case_id in response.content.decode()) is allowed


@pytest.mark.parametrize(("role", "unit"), role_matrix())
def test_case_page_is_shown_and_audited_only_when_allowed(client_for, case, role, unit):
    client = client_for(role, unit)
    response = client.get(reverse("cases:case_detail", args=[case.pk]))
    views_logged = AuditEntry.objects.filter(verb="cases.view", target_id=str(case.pk))
    if may_see(role, unit, BASIC):
        assert response.status_code == 200
        assert case.case_id in response.content.decode()
        assert views_logged.filter(actor_id=client.user.pk).count() == 1
    else:
        assert response.status_code == 404
        assert case.case_id not in response.content.decode()
        assert not views_logged.exists()


@pytest.mark.parametrize(("role", "unit"), role_matrix())
def test_export_contains_case_only_for_users_who_may_see_it(
    client_for, case, role, unit
):
    client = client_for(role, unit)
    response = client.get(EXPORT_URL)
    assert response.status_code == 200
    case_numbers = [row[0] for row in export_rows(response)[1:]]
    assert (case.case_id in case_numbers) is may_see(role, unit, BASIC)
    assert (
        AuditEntry.objects.filter(verb="cases.export", actor_id=client.user.pk).count()
        == 1
    )


def test_supervisor_sees_only_assigned_cases_and_never_names(client_for, case):
    other = CaseFactory(case_id="杭西检刑诉受〔2024〕00043号")
    PersonFactory(case=other, person_id="A", name="李四光")
    client = client_for(Role.SUPERVISOR, CITY)
    CaseGrantFactory(case=case, user=client.user)

    listing = client.get(LIST_URL).content.decode()
    assert case.case_id in listing
    assert other.case_id not in listing

    page = client.get(reverse("cases:case_detail", args=[case.pk])).content.decode()
    assert case.case_id in page
    assert "张三丰" not in page
    assert "张**" in page
    assert client.get(reverse("cases:case_detail", args=[other.pk])).status_code == 404
    assert not AuditEntry.objects.filter(
        verb="cases.view", target_id=str(other.pk)
    ).exists()

    case_numbers = [row[0] for row in export_rows(client.get(EXPORT_URL))[1:]]
    assert case_numbers == [case.case_id]


def test_staff_see_full_names(client_for, case):
    page = (
        client_for(Role.PROCURATOR, BASIC)
        .get(reverse("cases:case_detail", args=[case.pk]))
        .content.decode()
    )
    assert "张三丰" in page
    assert "张**" not in page


@pytest.mark.parametrize("url", [LIST_URL, EXPORT_URL, "/cases/1/"])
def test_anonymous_users_are_sent_to_login(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


# The list ----------------------------------------------------------------------------------


@pytest.fixture
def two_cases(db):
    """Two cases that differ in every filterable field."""
    first = CaseFactory(
        case_id="杭西检刑诉受〔2024〕00001号",
        matter_id="M-1",
        unit_code=BASIC,
        business_line=BusinessLine.ORDINARY_CRIME,
        procedure=Procedure.PROSECUTION_REVIEW,
        procurator_id="P0001",
        primary_charge="盗窃罪",
        received_on=datetime.date(2024, 1, 10),
        closed_on=datetime.date(2024, 2, 1),
    )
    second = CaseFactory(
        case_id="杭上检未捕受〔2024〕00002号",
        matter_id="M-2",
        unit_code=SIBLING,
        business_line=BusinessLine.JUVENILE,
        procedure=Procedure.ARREST_REVIEW,
        procurator_id="P0002",
        primary_charge="抢劫罪",
        received_on=datetime.date(2024, 6, 10),
        closed_on=None,
    )
    return first, second


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"first", "second"}),
        ({"unit": BASIC}, {"first"}),
        ({"unit_code": SIBLING}, {"second"}),
        ({"unit": BASIC, "unit_code": SIBLING}, {"second"}),
        ({"unit": CITY}, {"first", "second"}),
        ({"unit": OTHER_BASIC}, set()),
        ({"business_line": "juvenile"}, {"second"}),
        ({"procedure": "prosecution_review"}, {"first"}),
        ({"status": "open"}, {"second"}),
        ({"status": "closed"}, {"first"}),
        ({"received_from": "2024-03-01"}, {"second"}),
        ({"received_to": "2024-03-01"}, {"first"}),
        (
            {"received_from": "2024-01-01", "received_to": "2024-12-31"},
            {"first", "second"},
        ),
        ({"procurator": "P0002"}, {"second"}),
        ({"charge": "盗窃罪"}, {"first"}),
        ({"q": "杭上检"}, {"second"}),
        ({"q": "M-1"}, {"first"}),
        ({"business_line": "juvenile", "status": "closed"}, set()),
    ],
)
def test_filters_narrow_the_list(client_for, two_cases, params, expected):
    first, second = two_cases
    response = client_for(Role.CASE_MANAGER, CITY).get(LIST_URL, params)
    assert response.status_code == 200
    names = {"first": first.case_id, "second": second.case_id}
    assert set(list_rows(response)) == {names[name] for name in expected}


def test_unit_select_offers_own_unit_and_children_and_walks_down(client_for, two_cases):
    client = client_for(Role.CASE_MANAGER, "330000")
    page = client.get(LIST_URL).content.decode()
    assert 'value="330000"' in page  # own unit
    assert 'value="330100"' in page  # a child (杭州市)
    assert f'value="{BASIC}"' not in page  # a grandchild is not offered up front
    page = client.get(LIST_URL, {"unit": CITY}).content.decode()
    assert f'<option value="{BASIC}"' in page  # the selected unit's children are
    assert f'value="{CITY}" selected' in page


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("", ["second", "first"]),  # newest received first
        ("received_on", ["first", "second"]),
        ("case_id", ["second", "first"]),  # 杭上 sorts before 杭西
        ("-case_id", ["first", "second"]),
        ("-closed_on", None),
    ],
)
def test_sorting(client_for, two_cases, sort, expected):
    first, second = two_cases
    response = client_for(Role.CASE_MANAGER, CITY).get(
        LIST_URL, {"sort": sort} if sort else {}
    )
    assert response.status_code == 200
    rows = list_rows(response)
    if expected is None:
        assert set(rows) == {first.case_id, second.case_id}
    else:
        names = {"first": first.case_id, "second": second.case_id}
        assert rows == [names[name] for name in expected]


def test_sort_headers_link_to_the_reverse_order(client_for, two_cases):
    page = (
        client_for(Role.CASE_MANAGER, CITY)
        .get(LIST_URL, {"sort": "case_id", "status": "open"})
        .content.decode()
    )
    assert 'aria-sort="ascending"' in page
    assert "sort=-case_id" in page
    assert "status=open" in page


def test_pagination(client_for, db):
    for number in range(55):
        CaseFactory(
            case_id=f"CASE-{number:03d}",
            received_on=datetime.date(2024, 1, 1) + datetime.timedelta(days=number),
        )
    client = client_for(Role.PROCURATOR, BASIC)
    first_page = client.get(LIST_URL, {"sort": "case_id"})
    assert list_rows(first_page) == [f"CASE-{number:03d}" for number in range(50)]
    assert "page=2" in first_page.content.decode()
    second_page = client.get(LIST_URL, {"sort": "case_id", "page": "2"})
    assert list_rows(second_page) == [f"CASE-{number:03d}" for number in range(50, 55)]
    assert list_rows(
        client.get(LIST_URL, {"sort": "case_id", "page": "99"})
    ) == list_rows(second_page)
    assert list_rows(
        client.get(LIST_URL, {"sort": "case_id", "page": "x"})
    ) == list_rows(first_page)


def test_large_lists_stop_counting_at_the_cap_and_count_on_request(client_for, db, monkeypatch):
    from jiancha.cases.selectors import CaseListPaginator

    monkeypatch.setattr(CaseListPaginator, "count_cap", 4)
    for number in range(7):
        CaseFactory(case_id=f"CAP-{number:03d}", received_on=datetime.date(2024, 1, 1) + datetime.timedelta(days=number))
    client = client_for(Role.PROCURATOR, BASIC)
    with translation.override("en"):
        page = client.get(LIST_URL, {"sort": "case_id"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "More than 4 cases" in page
    assert 'hx-get="/cases/count/?sort=case_id"' in page
    assert "Last" not in page  # the last page is not known
    count = client.get("/cases/count/", {"sort": "case_id"}, HTTP_ACCEPT_LANGUAGE="en")
    assert count.status_code == 200
    assert ">7 cases<" in count.content.decode().replace("\n", "").replace("  ", "")
    # Under the cap the list counts exactly and offers no count button.
    page = client.get(LIST_URL, {"q": "CAP-00", "received_to": "2024-01-03"}).content.decode()
    assert "/cases/count/" not in page
    assert list_rows(client.get(LIST_URL, {"q": "CAP-00", "received_to": "2024-01-03"})) == ["CAP-002", "CAP-001", "CAP-000"]


@pytest.mark.parametrize(("role", "unit"), role_matrix())
def test_exact_count_counts_only_what_the_user_may_see(client_for, case, role, unit):
    CaseFactory(case_id="OTHER-UNIT", unit_code=OTHER_BASIC)
    response = client_for(role, unit).get("/cases/count/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    text = " ".join(response.content.decode().split())
    expected = int(may_see(role, unit, BASIC)) + int(may_see(role, unit, OTHER_BASIC))
    assert f">{expected} case" in text


def test_exact_count_rejects_bad_filters(client_for, two_cases):
    response = client_for(Role.CASE_MANAGER, CITY).get("/cases/count/", {"received_from": "2024-13-01"})
    assert response.status_code == 400
    assert "received_from" in response.content.decode()


@pytest.mark.parametrize("frequent", [True, False])
def test_charge_filter_gives_the_same_cases_whether_probed_or_read_from_the_index(
    client_for, db, monkeypatch, frequent
):
    from jiancha.cases import selectors

    if frequent:
        monkeypatch.setattr(selectors, "FREQUENT_CHARGE", 1)
    for number in range(6):
        CaseFactory(
            case_id=f"CH-{number}",
            received_on=datetime.date(2024, 2, 1) + datetime.timedelta(days=number),
            primary_charge="盗窃罪" if number % 2 else "诈骗罪",
        )
    client = client_for(Role.PROCURATOR, BASIC)
    response = client.get(LIST_URL, {"charge": "盗窃罪"})
    assert list_rows(response) == ["CH-5", "CH-3", "CH-1"]
    assert list_rows(client.get(LIST_URL, {"charge": "盗窃罪", "sort": "received_on"})) == ["CH-1", "CH-3", "CH-5"]
    assert ">3 cases<" in " ".join(client.get("/cases/count/", {"charge": "盗窃罪"}, HTTP_ACCEPT_LANGUAGE="en").content.decode().split()).replace(" <", "<").replace("> ", ">")


def test_open_status_filter_works_on_both_databases(client_for, db):
    CaseFactory(case_id="OPEN-1", closed_on=None)
    CaseFactory(case_id="CLOSED-1", received_on=datetime.date(2024, 1, 1), closed_on=datetime.date(2024, 1, 9))
    client = client_for(Role.PROCURATOR, BASIC)
    assert list_rows(client.get(LIST_URL, {"status": "open"})) == ["OPEN-1"]
    assert list_rows(client.get(LIST_URL, {"status": "closed"})) == ["CLOSED-1"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"received_from": "2024-13-01"}, "received_from"),
        ({"received_to": "yesterday"}, "received_to"),
        ({"business_line": "astrology"}, "business_line"),
        ({"procedure": "duel"}, "procedure"),
        ({"status": "sleeping"}, "status"),
        ({"unit_code": "999999"}, "unit"),
    ],
)
def test_invalid_filter_values_are_shown_next_to_the_field(
    client_for, two_cases, params, field
):
    response = client_for(Role.CASE_MANAGER, CITY).get(LIST_URL, params)
    assert response.status_code == 200
    page = response.content.decode()
    error = re.search(
        rf'<p class="field__error" id="error-{field}"( hidden)?>([^<]*)</p>', page
    )
    assert error is not None
    assert error.group(1) is None
    assert error.group(2).strip()
    assert f'id="id_{field}"' in page


def test_invalid_sort_falls_back_to_the_default(client_for, two_cases):
    response = client_for(Role.CASE_MANAGER, CITY).get(LIST_URL, {"sort": "-facts"})
    assert response.status_code == 200
    assert len(list_rows(response)) == 2


def test_htmx_request_gets_only_the_results_fragment(client_for, two_cases):
    response = client_for(Role.CASE_MANAGER, CITY).get(
        LIST_URL,
        {"business_line": "juvenile", "unit_code": "", "q": ""},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert page.lstrip().startswith('<section id="results"')
    assert "<html" not in page
    assert 'role="search"' not in page
    assert list_rows(response) == [two_cases[1].case_id]
    assert response["HX-Push-Url"] == "/cases/?business_line=juvenile"
    assert "HX-Request" in response["Vary"]
    assert 'hx-swap-oob="true"' in page
    # The language switch in the header returns to the filtered list.
    assert (
        '<input type="hidden" name="next" id="language-next" '
        'value="/cases/?business_line=juvenile" hx-swap-oob="true">'
    ) in page


def test_htmx_history_restore_gets_the_full_page(client_for, two_cases):
    response = client_for(Role.CASE_MANAGER, CITY).get(
        LIST_URL, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )
    assert "<html" in response.content.decode()


def test_full_page_works_without_javascript(client_for, two_cases):
    page = client_for(Role.CASE_MANAGER, CITY).get(LIST_URL).content.decode()
    assert '<form class="panel filters" method="get" action="/cases/"' in page
    assert "hx-swap-oob" not in page
    assert 'href="/cases/export.xlsx"' in page


@pytest.mark.parametrize(
    ("role", "unit", "queries"),
    [
        # session, user with its unit, unit options, count, ids of the page, its rows
        (Role.ADMIN, "000000", 6),
        # + the user's case grants (CaseGrant; below the whole tree only)
        (Role.PROCURATOR, BASIC, 7),
        # + the ids of the units in the user's subtree
        (Role.CASE_MANAGER, CITY, 8),
    ],
)
def test_list_query_budget_does_not_grow_with_rows(
    client_for, django_assert_num_queries, role, unit, queries
):
    for number in range(60):
        case = CaseFactory(
            case_id=f"BUDGET-{number:03d}", unit_code=BASIC if number % 2 else SIBLING
        )
        PersonFactory(case=case)
        EventFactory(case=case)
    client = client_for(role, unit)
    with django_assert_num_queries(queries):
        response = client.get(LIST_URL, {"business_line": "ordinary_crime"})
    assert len(list_rows(response)) >= 30


def test_list_query_budget_with_unit_filter(
    client_for, django_assert_num_queries, two_cases
):
    client = client_for(Role.CASE_MANAGER, CITY)
    client.get(LIST_URL)  # warm the session
    # + the selected unit (view) and the unit lookup in the selector, + the user's grants
    with django_assert_num_queries(10):
        client.get(LIST_URL, {"unit": BASIC})


# The case page -----------------------------------------------------------------------------


def test_case_page_shows_fields_persons_and_timeline(client_for, case):
    client = client_for(Role.PROCURATOR, BASIC)
    with translation.override("en"):
        response = client.get(
            reverse("cases:case_detail", args=[case.pk]), HTTP_ACCEPT_LANGUAGE="en"
        )
    page = response.content.decode()
    assert response.status_code == 200
    for text in [
        "Timeline",
        "prosecution review",
        "rights notified",
        "prosecution decided",
        "prosecute",
        "fixed term · 10 months",
        "张三丰",
        "P0001",
    ]:
        assert text in page, text
    # The deadlines sit next to the event that stopped their clocks, with status in words.
    assert page.count('class="deadline deadline--met"') >= 2
    assert "Met" in page
    assert "刑事诉讼法 第172条" in page
    assert "Case closed" in page


def test_case_page_shows_running_and_overdue_deadlines(client_for, db):
    today = timezone.localdate()
    running = CaseFactory(
        case_id="RUNNING-1",
        received_on=today - datetime.timedelta(days=2),
        procedure=Procedure.ARREST_REVIEW,
    )
    overdue = CaseFactory(
        case_id="OVERDUE-1",
        received_on=today - datetime.timedelta(days=60),
        procedure=Procedure.ARREST_REVIEW,
    )
    client = client_for(Role.PROCURATOR, BASIC)
    page = client.get(
        reverse("cases:case_detail", args=[running.pk]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert 'class="deadline deadline--running"' in page
    assert "Running" in page
    assert "left" in page
    page = client.get(
        reverse("cases:case_detail", args=[overdue.pk]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert 'class="deadline deadline--overdue"' in page
    assert "Overdue" in page
    assert "days overdue" in page


def test_event_details_are_rendered_readably():
    from jiancha.cases.models import Event

    with translation.override("en"):
        arrest = Event(
            type=EventType.ARREST_DECIDED,
            details={"decision": "not_approved", "reason": "no_necessity"},
        )
        assert views.event_details(arrest) == [
            ("Decision", "arrest not approved"),
            ("Reason", "no necessity of arrest"),
        ]
        sentencing = Event(
            type=EventType.SENTENCING_RECOMMENDED,
            details={"kind": "range", "min_months": 6, "max_months": 12},
        )
        assert views.event_details(sentencing) == [
            ("Sentencing recommendation", "range · 6 to 12 months")
        ]
        judgment = Event(
            type=EventType.JUDGMENT,
            details={
                "instance": 1,
                "verdict": "guilty",
                "months": 8,
                "charges": ["盗窃罪", "诈骗罪"],
                "recommendation_adopted": True,
            },
        )
        assert views.event_details(judgment) == [
            ("Instance", "first instance"),
            ("Verdict", "guilty"),
            ("Sentence", "8 months"),
            ("Charges", "盗窃罪、诈骗罪"),
            ("Sentencing recommendation adopted", "yes"),
        ]
        unknown = Event(type=EventType.COMPLAINT, details={"source": "letter"})
        assert views.event_details(unknown) == [("source", "letter")]


def test_masked_name():
    assert views.masked_name("张三丰") == "张**"
    assert views.masked_name("李") == "李"
    assert views.masked_name("") == ""


def test_case_page_for_missing_case_is_404_without_audit(client_for, db):
    response = client_for(Role.ADMIN, "000000").get("/cases/999999/")
    assert response.status_code == 404
    assert 'class="panel empty-page"' in response.content.decode()
    assert not AuditEntry.objects.filter(verb="cases.view").exists()


# The export -------------------------------------------------------------------------------


@override_settings(LANGUAGE_CODE="zh-hans")  # the product default; tests otherwise run in English
def test_export_is_a_workbook_of_the_filtered_list(client_for, two_cases):
    first, second = two_cases
    client = client_for(Role.CASE_MANAGER, CITY)
    response = client.get(EXPORT_URL, {"business_line": "juvenile"})
    assert response.status_code == 200
    assert (
        response["Content-Type"]
        == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "attachment" in response["Content-Disposition"]
    rows = export_rows(response)
    with translation.override("zh-hans"):
        expected_header = [
            translation.gettext("Case number"),
            translation.gettext("Unit"),
        ]
        juvenile = str(BusinessLine.JUVENILE.label)
        open_label = translation.gettext("open")
    assert list(rows[0][:2]) == expected_header
    assert len(rows) == 2
    assert rows[1][0] == second.case_id
    assert rows[1][1] == "杭州市上城区人民检察院"
    assert rows[1][3] == juvenile
    assert rows[1][7].date() == datetime.date(2024, 6, 10)
    assert rows[1][9] == open_label

    entry = AuditEntry.objects.get(verb="cases.export")
    assert entry.actor_id == client.user.pk
    assert '"business_line":"juvenile"' in entry.details
    assert '"rows":1' in entry.details


def test_export_headers_follow_the_language(client_for, two_cases):
    response = client_for(Role.CASE_MANAGER, CITY).get(
        EXPORT_URL, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert export_rows(response)[0][:3] == ("Case number", "Unit", "Org code")


def test_export_is_truncated_at_the_limit_and_says_so(client_for, db, monkeypatch):
    monkeypatch.setattr(views, "EXPORT_LIMIT", 3)
    for number in range(5):
        CaseFactory(case_id=f"LIMIT-{number}")
    response = client_for(Role.PROCURATOR, BASIC).get(
        EXPORT_URL, HTTP_ACCEPT_LANGUAGE="en"
    )
    rows = export_rows(response)
    assert len(rows) == 1 + 3 + 1
    assert "Only the first 3 cases were exported" in rows[-1][0]
    assert '"truncated":true' in AuditEntry.objects.get(verb="cases.export").details


def test_export_with_invalid_filters_goes_back_to_the_list(client_for, two_cases):
    response = client_for(Role.CASE_MANAGER, CITY).get(
        EXPORT_URL, {"received_from": "2024-02-30"}
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/cases/?")
    assert not AuditEntry.objects.filter(verb="cases.export").exists()


def test_list_links_to_the_export_with_the_same_filters(client_for, two_cases):
    page = (
        client_for(Role.CASE_MANAGER, CITY)
        .get(LIST_URL, {"status": "open", "unit_code": ""})
        .content.decode()
    )
    assert 'href="/cases/export.xlsx?status=open"' in page


# Static files -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["jiancha.css", "vendor/htmx.min.js"])
def test_stylesheet_and_htmx_are_found_by_staticfiles(path):
    """``jiancha/static`` must be in ``STATICFILES_DIRS`` or collectstatic skips it."""
    from django.contrib.staticfiles import finders

    assert finders.find(path), (
        f"{path} is not found: add BASE_DIR / 'static' to STATICFILES_DIRS"
    )


def test_pages_load_their_assets_from_static(client_for, db):
    page = client_for(Role.PROCURATOR, BASIC).get(LIST_URL).content.decode()
    assert '<link rel="stylesheet" href="/static/jiancha.css">' in page
    assert '<script src="/static/vendor/htmx.min.js" defer></script>' in page
    assert "//cdn" not in page
    assert "unpkg" not in page


# Login, logout, language ---------------------------------------------------------------------


def test_login_page_and_login(client, user_factory):
    user = user_factory(Role.PROCURATOR, BASIC)
    page = client.get("/login/?next=/cases/")
    assert page.status_code == 200
    assert 'name="username"' in page.content.decode()
    response = client.post(
        "/login/",
        {"username": user.username, "password": "pass-word-1", "next": "/cases/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/cases/"
    assert client.get(LIST_URL).status_code == 200


def test_wrong_password_shows_an_error(client, user_factory):
    user = user_factory(Role.PROCURATOR, BASIC)
    response = client.post("/login/", {"username": user.username, "password": "wrong"})
    assert response.status_code == 200
    assert 'class="alert alert--error"' in response.content.decode()


def test_logout_is_a_post_form(client_for, db):
    client = client_for(Role.PROCURATOR, BASIC)
    page = client.get(LIST_URL).content.decode()
    assert re.search(r'<form action="/logout/" method="post"', page)
    response = client.post("/logout/")
    assert response.status_code == 302
    assert client.get(LIST_URL).status_code == 302


@override_settings(LANGUAGE_CODE="zh-hans")
def test_language_switch(client_for, db):
    client = client_for(Role.PROCURATOR, BASIC)
    page = client.get(LIST_URL).content.decode()
    assert '<html lang="zh-hans">' in page
    assert 'action="/i18n/setlang/"' in page
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/cases/"})
    assert response.status_code == 302
    page = client.get(LIST_URL).content.decode()
    assert '<html lang="en">' in page
    assert "Cases" in page
