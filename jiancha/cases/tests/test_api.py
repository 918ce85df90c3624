"""The /api/v1/ endpoints: token, cases (list and detail) and units.

The unit and token endpoints belong to accounts but are tested here with the rest of the API,
against the same fixtures.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from jiancha.accounts.models import Unit
from jiancha.cases.tests.api_factories import (
    add_event,
    add_person,
    assign_supervisor,
    make_case,
    make_cases,
)
from jiancha.core.models import AuditEntry
from jiancha.core.testing import (
    BASIC,
    CITY,
    OTHER_BASIC,
    SIBLING,
    make_user,
    may_see,
    role_matrix,
)

pytestmark = pytest.mark.django_db

CASES_URL = "/api/v1/cases/"
UNITS_URL = "/api/v1/units/"
TOKEN_URL = "/api/v1/auth/token/"


def detail_url(pk: int) -> str:
    return f"/api/v1/cases/{pk}/"


@pytest.fixture
def api_for(user_factory):
    """An APIClient authenticated with a real token for a new user of that role and unit."""

    def make(role: str, unit_code: str) -> APIClient:
        user = user_factory(role, unit_code)
        client = APIClient()
        client.credentials(
            HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}"
        )
        client.user = user
        return client

    return make


def result_ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def view_entries(case) -> int:
    return AuditEntry.objects.filter(
        verb="cases.view", target_type="cases.case", target_id=str(case.pk)
    ).count()


# --- role matrices -------------------------------------------------------------------


@pytest.mark.parametrize(("role", "unit"), role_matrix())
def test_case_list_shows_a_case_exactly_to_the_roles_that_may_see_it(
    api_for, role, unit
):
    case = make_case(BASIC)
    client = api_for(role, unit)

    response = client.get(CASES_URL)

    assert (case.pk in result_ids(response)) is may_see(role, unit, BASIC)


@pytest.mark.parametrize(("role", "unit"), role_matrix())
def test_case_detail_is_found_exactly_for_the_roles_that_may_see_it(
    api_for, role, unit
):
    case = make_case(BASIC)
    client = api_for(role, unit)

    response = client.get(detail_url(case.pk), REMOTE_ADDR="10.1.2.3")

    if may_see(role, unit, BASIC):
        assert response.status_code == 200
        assert response.json()["case_id"] == case.case_id
        entry = AuditEntry.objects.get(verb="cases.view", target_id=str(case.pk))
        assert entry.actor_id == client.user.pk
        assert entry.remote_addr == "10.1.2.3"
    else:
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
        assert view_entries(case) == 0


@pytest.mark.parametrize(("role", "unit"), role_matrix())
def test_units_list_is_scoped_to_the_users_units(api_for, role, unit):
    client = api_for(role, unit)
    own = Unit.objects.get(code=unit)

    response = client.get(UNITS_URL, {"page_size": 500})

    assert response.status_code == 200
    body = response.json()
    if role in {"case_manager", "chief", "department_head", "admin"}:
        expected = [u.code for u in Unit.objects.all() if u.path.startswith(own.path)]
    else:
        expected = [unit]
    assert body["count"] == len(expected)
    codes = [row["code"] for row in body["results"]]
    assert (
        codes
        == sorted(expected, key=lambda code: Unit.objects.get(code=code).path)[:500]
    )


# --- unauthenticated -----------------------------------------------------------------


@pytest.mark.parametrize("url", [CASES_URL, "/api/v1/cases/1/", UNITS_URL])
def test_unauthenticated_requests_are_refused(url):
    case = make_case(BASIC)
    url = url.replace("/1/", f"/{case.pk}/")

    response = APIClient().get(url)

    assert response.status_code in {401, 403}
    assert set(response.json()) == {"code", "message", "fields"}
    assert view_entries(case) == 0


def test_an_unknown_token_is_refused():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)

    response = client.get(CASES_URL)

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_an_inactive_users_token_is_refused(api_for):
    client = api_for("admin", "000000")
    client.user.is_active = False
    client.user.save(update_fields=["is_active"])

    assert client.get(CASES_URL).status_code == 401


# --- token flow ----------------------------------------------------------------------


def test_token_flow_end_to_end():
    make_user("procurator", BASIC, username="li", password="correct-horse-9")
    case = make_case(BASIC)
    client = APIClient()

    response = client.post(
        TOKEN_URL,
        {"username": "li", "password": "correct-horse-9"},
        format="json",
        REMOTE_ADDR="10.9.8.7",
    )

    assert response.status_code == 200
    token = response.json()["token"]
    assert Token.objects.get(user__username="li").key == token
    entry = AuditEntry.objects.get(verb="accounts.token")
    assert entry.actor_username == "li"
    assert entry.remote_addr == "10.9.8.7"
    assert "correct-horse-9" not in entry.details

    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert result_ids(client.get(CASES_URL)) == [case.pk]
    assert client.get(detail_url(case.pk)).status_code == 200

    # A second request returns the same token.
    again = APIClient().post(
        TOKEN_URL, {"username": "li", "password": "correct-horse-9"}, format="json"
    )
    assert again.json()["token"] == token


@pytest.mark.parametrize(
    "payload",
    [
        {"username": "li", "password": "wrong-password"},
        {"username": "nobody", "password": "correct-horse-9"},
    ],
    ids=["wrong password", "unknown user"],
)
def test_bad_credentials_get_no_token(payload):
    make_user("procurator", BASIC, username="li", password="correct-horse-9")

    response = APIClient().post(TOKEN_URL, payload, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_credentials"
    assert body["message"]
    assert body["fields"] == {}
    assert not Token.objects.exists()
    assert not AuditEntry.objects.filter(verb="accounts.token").exists()


def test_inactive_user_gets_no_token():
    user = make_user("procurator", BASIC, username="li", password="correct-horse-9")
    user.is_active = False
    user.save(update_fields=["is_active"])

    response = APIClient().post(
        TOKEN_URL, {"username": "li", "password": "correct-horse-9"}, format="json"
    )

    assert response.status_code == 400
    assert not Token.objects.exists()


def test_token_request_without_fields_names_them():
    response = APIClient().post(TOKEN_URL, {}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["fields"]) == {"username", "password"}


# --- supervisors ---------------------------------------------------------------------


def test_supervisor_sees_only_assigned_cases_and_never_names(api_for):
    client = api_for("supervisor", CITY)
    assigned = make_case(BASIC, facts="被告人张三伙同李四于2023年盗窃。")
    add_person(assigned, "A", name="张三")
    add_person(assigned, "B", name="李四")
    other = make_case(BASIC)
    assign_supervisor(assigned, client.user)

    assert result_ids(client.get(CASES_URL)) == [assigned.pk]
    assert client.get(detail_url(other.pk)).status_code == 404

    response = client.get(detail_url(assigned.pk))
    assert response.status_code == 200
    content = response.content.decode()
    assert "张三" not in content
    assert "李四" not in content
    assert [person["name"] for person in response.json()["persons"]] == ["张*", "李*"]
    assert response.json()["facts"] == "被告人张*伙同李*于2023年盗窃。"
    assert view_entries(assigned) == 1


def test_other_roles_see_names(api_for):
    client = api_for("procurator", BASIC)
    case = make_case(BASIC, facts="被告人张三盗窃。")
    add_person(case, "A", name="张三")

    body = client.get(detail_url(case.pk)).json()

    assert body["persons"][0]["name"] == "张三"
    assert body["facts"] == "被告人张三盗窃。"


# --- the case payload ----------------------------------------------------------------


def test_case_list_row_fields(api_for):
    client = api_for("procurator", BASIC)
    case = make_case(
        BASIC,
        matter_id="M-1",
        detained=True,
        charges=["盗窃罪"],
        closed_on=datetime.date(2024, 4, 1),
    )

    row = client.get(CASES_URL).json()["results"][0]

    assert row == {
        "id": case.pk,
        "unit_code": BASIC,
        "case_id": case.case_id,
        "matter_id": "M-1",
        "business_line": "ordinary_crime",
        "procedure": "prosecution_review",
        "procurator_id": "P001",
        "received_on": "2024-03-01",
        "closed_on": "2024-04-01",
        "status": "closed",
        "detained": True,
        "fast_track": False,
        "complex": False,
        "primary_charge": "盗窃罪",
        "url": f"http://testserver/api/v1/cases/{case.pk}/",
    }


def test_case_detail_carries_persons_and_flattened_events(api_for):
    client = api_for("procurator", BASIC)
    case = make_case(BASIC, facts="事实。")
    add_person(
        case,
        "A",
        name="王五",
        juvenile=True,
        charges=["盗窃罪"],
        articles=["264"],
        plea_leniency=True,
    )
    add_event(case, "received", datetime.date(2024, 3, 1))
    add_event(
        case,
        "prosecution_decided",
        datetime.date(2024, 3, 20),
        person="A",
        decision="not_prosecute",
        kind="discretionary",
    )
    add_event(case, "review_extended", datetime.date(2024, 3, 10), days=15)

    body = client.get(detail_url(case.pk)).json()

    assert body["facts"] == "事实。"
    assert body["status"] == "open"
    assert body["persons"] == [
        {
            "person_id": "A",
            "name": "王五",
            "juvenile": True,
            "charges": ["盗窃罪"],
            "articles": ["264"],
            "plea_leniency": True,
        }
    ]
    assert body["events"] == [
        {"type": "received", "on": "2024-03-01", "person": ""},
        {"type": "review_extended", "on": "2024-03-10", "person": "", "days": 15},
        {
            "type": "prosecution_decided",
            "on": "2024-03-20",
            "person": "A",
            "decision": "not_prosecute",
            "kind": "discretionary",
        },
    ]


def test_event_details_never_override_the_core_fields(api_for):
    client = api_for("procurator", BASIC)
    case = make_case(BASIC)
    event = add_event(case, "received", datetime.date(2024, 3, 1))
    event.details = {
        "type": "judgment",
        "on": "1999-01-01",
        "person": "Z",
        "note": "kept",
    }
    event.save(update_fields=["details"])

    assert client.get(detail_url(case.pk)).json()["events"] == [
        {"type": "received", "on": "2024-03-01", "person": "", "note": "kept"}
    ]


def test_case_detail_of_a_missing_case_is_404(api_for):
    client = api_for("admin", "000000")

    response = client.get(detail_url(999999))

    assert response.status_code == 404
    assert not AuditEntry.objects.filter(verb="cases.view").exists()


# --- pagination ----------------------------------------------------------------------


def test_case_list_pages_default_to_50_and_cap_page_size_at_500(api_for):
    client = api_for("procurator", BASIC)
    make_cases(501, BASIC)

    default = client.get(CASES_URL).json()
    assert default["count"] == 501
    assert len(default["results"]) == 50
    assert default["previous"] is None
    assert "page=2" in default["next"]

    assert len(client.get(CASES_URL, {"page_size": 7}).json()["results"]) == 7
    assert len(client.get(CASES_URL, {"page_size": 500}).json()["results"]) == 500
    capped = client.get(CASES_URL, {"page_size": 100000}).json()
    assert len(capped["results"]) == 500
    last = client.get(CASES_URL, {"page_size": 100000, "page": 2}).json()
    assert len(last["results"]) == 1
    assert last["next"] is None


def test_case_list_pages_do_not_repeat_or_skip_cases(api_for):
    client = api_for("procurator", BASIC)
    cases = make_cases(25, BASIC)

    seen = []
    for page in (1, 2, 3):
        seen += result_ids(client.get(CASES_URL, {"page_size": 10, "page": page}))

    assert sorted(seen) == sorted(case.pk for case in cases)


def test_a_page_past_the_end_is_404(api_for):
    client = api_for("procurator", BASIC)
    make_cases(3, BASIC)

    response = client.get(CASES_URL, {"page": 5})

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


# --- filters -------------------------------------------------------------------------


@pytest.fixture
def two_cases():
    """Two cases of the city's subtree that differ in every filtered field."""
    first = make_case(
        BASIC,
        case_id="XH-2024-001",
        matter_id="MATTER-1",
        business_line="ordinary_crime",
        procedure="prosecution_review",
        procurator_id="P001",
        received_on=datetime.date(2024, 1, 10),
        charges=["盗窃罪"],
    )
    second = make_case(
        SIBLING,
        case_id="SC-2024-002",
        matter_id="MATTER-2",
        business_line="economic_crime",
        procedure="arrest_review",
        procurator_id="P002",
        received_on=datetime.date(2024, 6, 10),
        closed_on=datetime.date(2024, 6, 20),
        charges=["诈骗罪"],
    )
    return first, second


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["second", "first"]),
        ({"unit": BASIC}, ["first"]),
        ({"unit": SIBLING}, ["second"]),
        ({"unit": CITY}, ["second", "first"]),
        ({"unit": OTHER_BASIC}, []),
        ({"unit": "999999"}, []),
        ({"business_line": "economic_crime"}, ["second"]),
        ({"procedure": "prosecution_review"}, ["first"]),
        ({"status": "open"}, ["first"]),
        ({"status": "closed"}, ["second"]),
        ({"received_from": "2024-06-10"}, ["second"]),
        ({"received_to": "2024-06-09"}, ["first"]),
        (
            {"received_from": "2024-01-10", "received_to": "2024-06-10"},
            ["second", "first"],
        ),
        ({"procurator": "P002"}, ["second"]),
        ({"charge": "盗窃罪"}, ["first"]),
        ({"q": "XH-2024"}, ["first"]),
        ({"q": "MATTER-2"}, ["second"]),
        ({"sort": "received_on"}, ["first", "second"]),
        ({"sort": "-received_on"}, ["second", "first"]),
        ({"sort": "case_id"}, ["second", "first"]),
    ],
    ids=lambda value: (
        "&".join(f"{k}={v}" for k, v in value.items())
        if isinstance(value, dict)
        else None
    ),
)
def test_case_list_filters_like_the_ui(api_for, two_cases, params, expected):
    client = api_for("case_manager", CITY)
    names = {
        case.pk: name for name, case in zip(["first", "second"], two_cases, strict=True)
    }

    ids = result_ids(client.get(CASES_URL, params))

    assert [names[pk] for pk in ids] == expected


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "pending"}, "status"),
        ({"business_line": "parking"}, "business_line"),
        ({"procedure": "nope"}, "procedure"),
        ({"received_from": "2024-13-01"}, "received_from"),
        ({"received_to": "yesterday"}, "received_to"),
        ({"sort": "facts"}, "sort"),
    ],
)
def test_invalid_filter_values_are_400_with_the_field_named(api_for, params, field):
    client = api_for("case_manager", CITY)

    response = client.get(CASES_URL, params)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["fields"]) == {field}
    assert isinstance(body["fields"][field], list)


def test_a_unit_filter_outside_the_scope_finds_nothing(api_for):
    make_case(OTHER_BASIC)
    client = api_for("case_manager", CITY)

    assert result_ids(client.get(CASES_URL, {"unit": OTHER_BASIC})) == []


# --- query budget --------------------------------------------------------------------


def test_case_list_queries_do_not_grow_with_the_page(
    api_for, django_assert_max_num_queries
):
    client = api_for("case_manager", CITY)
    make_cases(3, BASIC)
    with CaptureQueriesContext(connection) as few:
        client.get(CASES_URL)
    make_cases(40, SIBLING)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(CASES_URL).json()["results"]) == 43

    assert len(many) == len(few)
    # + the user's case grants
    with django_assert_max_num_queries(7):
        client.get(CASES_URL, {"charge": "盗窃罪", "unit": BASIC})


def test_case_detail_queries_do_not_grow_with_persons_and_events(
    api_for, django_assert_max_num_queries
):
    client = api_for("procurator", BASIC)
    small = make_case(BASIC)
    add_person(small, "A", name="甲")
    big = make_case(BASIC)
    for index in range(10):
        add_person(big, f"P{index}", name=f"名{index}")
        add_event(big, "rights_notified", datetime.date(2024, 3, 2), person=f"P{index}")
    # The first audit entry also creates the chain head.
    client.get(detail_url(small.pk))

    with CaptureQueriesContext(connection) as few:
        client.get(detail_url(small.pk))
    # token+user, user's unit, the user's case grants, case, persons, events; audit: (lock,)
    # head, insert, update, savepoints
    with django_assert_max_num_queries(12):
        assert client.get(detail_url(big.pk)).status_code == 200
    with CaptureQueriesContext(connection) as many:
        client.get(detail_url(big.pk))

    assert len(many) == len(few)


def test_units_list_has_a_fixed_query_count(api_for, django_assert_max_num_queries):
    client = api_for("admin", "000000")

    with django_assert_max_num_queries(5):
        assert len(client.get(UNITS_URL, {"page_size": 500}).json()["results"]) == 500


# --- units ---------------------------------------------------------------------------


def test_units_filter_by_parent_and_level(api_for):
    client = api_for("case_manager", "330000")

    children = client.get(UNITS_URL, {"parent": CITY, "page_size": 500}).json()
    assert children["count"] == Unit.objects.filter(parent__code=CITY).count() > 0
    assert {row["parent_code"] for row in children["results"]} == {CITY}

    cities = client.get(UNITS_URL, {"level": 2, "page_size": 500}).json()
    assert (
        cities["count"]
        == Unit.objects.filter(
            path__startswith=Unit.objects.get(code="330000").path, level=2
        ).count()
        > 0
    )
    assert {row["level"] for row in cities["results"]} == {2}

    outside = client.get(UNITS_URL, {"parent": "110000"}).json()
    assert outside["count"] == 0


def test_unit_row_fields(api_for):
    client = api_for("procurator", BASIC)

    assert client.get(UNITS_URL).json()["results"] == [
        {
            "code": BASIC,
            "name": "杭州市西湖区人民检察院",
            "full_name": "浙江省杭州市西湖区人民检察院",
            "level": 3,
            "kind": "basic",
            "parent_code": CITY,
        }
    ]


def test_root_unit_has_no_parent_code(api_for):
    client = api_for("admin", "000000")

    assert (
        client.get(UNITS_URL, {"level": 0}).json()["results"][0]["parent_code"] is None
    )


def test_units_invalid_level_is_400(api_for):
    client = api_for("admin", "000000")

    response = client.get(UNITS_URL, {"level": "nine"})

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"level"}


def test_units_page_size_is_capped(api_for):
    client = api_for("admin", "000000")

    body = client.get(UNITS_URL, {"page_size": 5000}).json()

    assert len(body["results"]) == 500
    assert body["count"] == Unit.objects.count()


# --- session clients (the browsable UI's cookie) ---------------------------------------


def test_session_login_works_for_reads(client_for):
    case = make_case(BASIC)
    client = client_for("procurator", BASIC)

    assert client.get(detail_url(case.pk)).status_code == 200
