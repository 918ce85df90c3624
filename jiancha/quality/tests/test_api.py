"""The quality API: a case's findings, the filtered finding list, the rule sets."""

import datetime
from typing import Any

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from jiancha.accounts.choices import Role
from jiancha.cases.importer import import_records
from jiancha.cases.models import Case, CaseGrant
from jiancha.core.testing import BASIC, may_see, role_matrix
from jiancha.quality.services import case_evaluate
from jiancha.quality.tests.test_rules_cases import (
    PLEA,
    changed,
    prosecution,
    with_events,
)

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2025, 12, 31)
FINDINGS_URL = "/api/v1/quality/findings/"


def evaluated(record: dict[str, Any]) -> Case:
    import_records([record])
    case = Case.objects.get(case_id=record["case_id"], unit__code=record["unit_code"])
    case_evaluate(case, today=TODAY)
    return case


def late_review(**fields: Any) -> dict[str, Any]:
    return with_events(
        prosecution(detained=True, decided="2024-04-10", closed="2024-04-10", **fields),
        drop=("rights_notified",),
    )


@pytest.fixture
def case() -> Case:
    return evaluated(late_review())


@pytest.fixture
def api_for(user_factory):
    def make(role: str, unit_code: str) -> APIClient:
        user = user_factory(role, unit_code)
        client = APIClient()
        client.credentials(
            HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}"
        )
        client.user = user
        return client

    return make


@pytest.mark.parametrize(("role", "unit"), role_matrix())
def test_case_findings_are_found_exactly_for_the_roles_that_may_see_the_case(
    api_for, case, role, unit
) -> None:
    response = api_for(role, unit).get(f"/api/v1/cases/{case.pk}/findings/")
    if may_see(role, unit, BASIC):
        assert response.status_code == 200
        data = response.json()
        assert data["case"] == case.pk
        assert data["grade"]["grade"] == "failed"
        assert sorted(item["rule_id"] for item in data["findings"]) == [
            "CR-T04",
            "CR-T10",
        ]
    else:
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(("role", "unit"), role_matrix())
def test_finding_list_holds_a_finding_exactly_for_the_roles_that_may_see_it(
    api_for, case, role, unit
) -> None:
    response = api_for(role, unit).get(FINDINGS_URL)
    assert response.status_code == 200
    shown = {row["case"] for row in response.json()["results"]}
    assert (case.pk in shown) is may_see(role, unit, BASIC)


def test_a_finding_explains_itself(api_for, case) -> None:
    response = api_for(Role.PROCURATOR, BASIC).get(
        f"/api/v1/cases/{case.pk}/findings/", HTTP_ACCEPT_LANGUAGE="en"
    )
    finding = next(
        item for item in response.json()["findings"] if item["rule_id"] == "CR-T04"
    )
    assert finding["severity"] == "failure"
    assert finding["legal_basis"][0] == {"law": "刑事诉讼法", "article": "172"}
    assert finding["values"]["due"] == "2024-04-04"
    assert finding["values"]["ended_on"] == "2024-04-10"
    assert finding["values"]["limit_months"] == 1
    assert "2024-04-04" in finding["message"]
    assert finding["ruleset_version"] == "2024.1"
    assert finding["unit_code"] == BASIC
    assert finding["case_id"] == case.case_id


def test_case_findings_of_a_clean_and_of_a_pending_case(api_for) -> None:
    clean = evaluated(changed(PLEA))
    record = changed(PLEA)
    import_records([record])
    pending = Case.objects.get(case_id=record["case_id"])
    client = api_for(Role.PROCURATOR, BASIC)
    clean_data = client.get(f"/api/v1/cases/{clean.pk}/findings/").json()
    assert clean_data["findings"] == []
    assert clean_data["grade"]["grade"] == "excellent"
    assert (
        client.get(f"/api/v1/cases/{pending.pk}/findings/").json()["grade"]["state"]
        == "pending"
    )


def test_finding_list_filters(api_for, case) -> None:
    other = evaluated(changed(late_review(), unit_code="110105"))
    client = api_for(Role.ADMIN, "000000")

    def cases(query: str) -> set[int]:
        response = client.get(FINDINGS_URL + query)
        assert response.status_code == 200, response.content
        return {row["case"] for row in response.json()["results"]}

    assert cases("") == {case.pk, other.pk}
    assert cases("?unit=330000") == {case.pk}
    assert cases("?unit=110000") == {other.pk}
    assert cases("?rule=CR-T04&severity=failure") == {case.pk, other.pk}
    assert cases("?severity=notice") == set()
    assert cases("?period=2024-04") == {case.pk, other.pk}
    assert cases("?period=2024-01-01..2024-03-31") == set()
    assert cases("?period_from=2024-04-10&period_to=2024-04-10") == {case.pk, other.pk}
    response = client.get(FINDINGS_URL + "?severity=fatal&period=yesterday")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert set(response.json()["fields"]) == {"severity", "period"}


def test_finding_list_pages(api_for, case) -> None:
    response = api_for(Role.ADMIN, "000000").get(FINDINGS_URL + "?page_size=1")
    data = response.json()
    assert data["count"] == 2
    assert len(data["results"]) == 1
    assert data["next"]


def test_a_unit_filter_outside_the_scope_yields_nothing(api_for, case) -> None:
    assert (
        api_for(Role.CASE_MANAGER, "110000")
        .get(FINDINGS_URL + "?unit=330106")
        .json()["count"]
        == 0
    )


def test_an_assigned_supervisor_gets_the_findings_of_its_case(api_for, case) -> None:
    client = api_for(Role.SUPERVISOR, BASIC)
    assert client.get(f"/api/v1/cases/{case.pk}/findings/").status_code == 404
    CaseGrant.objects.create(case=case, user=client.user)
    assert client.get(f"/api/v1/cases/{case.pk}/findings/").status_code == 200
    assert {row["case"] for row in client.get(FINDINGS_URL).json()["results"]} == {
        case.pk
    }


def test_rule_sets_are_listed_with_their_rules(api_for) -> None:
    data = api_for(Role.PROCURATOR, BASIC).get("/api/v1/quality/rulesets/").json()
    assert [item["version"] for item in data] == ["2021.1", "2024.1", "2025.1"]
    rule = next(item for item in data[-1]["rules"] if item["id"] == "CR-T04")
    assert rule["legal_basis"][0] == {"law": "刑事诉讼法", "article": "172"}
    assert rule["severity"] == "failure"


@pytest.mark.parametrize(
    "url", [FINDINGS_URL, "/api/v1/cases/1/findings/", "/api/v1/quality/rulesets/"]
)
def test_the_api_needs_authentication(url) -> None:
    response = APIClient().get(url)
    assert response.status_code in {401, 403}
    assert response.json()["code"] in {"not_authenticated", "authentication_failed"}
