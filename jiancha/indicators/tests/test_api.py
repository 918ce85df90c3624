"""The indicators API: the interface of issue 4, its access matrix and its errors."""

import pytest

from jiancha.core.testing import BASIC, CITY, may_see, role_matrix
from jiancha.indicators.tests.factories import (
    EXPECTED_BASIC,
    EXPECTED_SIBLING,
    build_scenario,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/indicators/"
YEAR = {"from": "2024-01-01", "to": "2024-12-31"}


@pytest.fixture
def scenario():
    return build_scenario()


@pytest.mark.parametrize(("role", "user_unit"), role_matrix(BASIC))
def test_api_role_matrix(client_for, scenario, role, user_unit):
    client = client_for(role, user_unit)
    response = client.get(URL, {"unit": BASIC, **YEAR, "indicator": "non_arrest_rate"})
    if may_see(role, user_unit, BASIC):
        assert response.status_code == 200
        assert response.json()[0]["numerator"] == EXPECTED_BASIC["non_arrest_rate"][0]
    else:
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
        assert "numerator" not in response.content.decode()


def test_api_gives_one_row_per_indicator_without_by(client_for, scenario):
    response = client_for("chief", CITY).get(URL, {"unit": CITY, **YEAR})
    assert response.status_code == 200
    rows = response.json()
    assert {row["indicator"] for row in rows} == set(EXPECTED_BASIC)
    assert len(rows) == len(EXPECTED_BASIC)
    by_id = {row["indicator"]: row for row in rows}
    for indicator, (numerator, denominator) in EXPECTED_BASIC.items():
        sibling = EXPECTED_SIBLING[indicator]
        row = by_id[indicator]
        assert (row["numerator"], row["denominator"]) == (numerator + sibling[0], denominator + sibling[1])
        assert row["unit_code"] == CITY
        assert row["period"] == "2024-01-01/2024-12-31"
        if row["denominator"]:
            assert row["value"] == pytest.approx(row["numerator"] / row["denominator"])
        else:
            assert row["value"] is None


def test_api_by_month(client_for, scenario):
    response = client_for("chief", CITY).get(URL, {"unit": BASIC, **YEAR, "by": "month", "indicator": "non_arrest_rate"})
    rows = response.json()
    assert [row["period"] for row in rows] == [f"2024-{month:02d}" for month in range(1, 13)]
    assert (rows[0]["numerator"], rows[0]["denominator"]) == (1, 2)
    assert (rows[2]["numerator"], rows[2]["denominator"]) == (0, 1)


def test_unit_scoped_role_sees_only_its_own_cases(client_for, scenario):
    procurator = client_for("procurator", CITY).get(URL, {"unit": CITY, **YEAR, "indicator": "non_arrest_rate"})
    chief = client_for("chief", CITY).get(URL, {"unit": CITY, **YEAR, "indicator": "non_arrest_rate"})
    assert (procurator.json()[0]["numerator"], procurator.json()[0]["denominator"]) == (0, 0)
    assert (chief.json()[0]["numerator"], chief.json()[0]["denominator"]) == (2, 4)


def test_api_defaults_to_the_users_unit(client_for, scenario):
    response = client_for("chief", BASIC).get(URL, {**YEAR, "indicator": "non_arrest_rate"})
    assert response.json()[0]["unit_code"] == BASIC


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2024-13-01"}, "from"),
        ({"from": "2024-06-01", "to": "2024-01-01"}, "to"),
        ({"by": "week"}, "by"),
        ({"set": "1999"}, "set"),
        ({"indicator": "happiness_rate"}, "indicator"),
    ],
)
def test_api_rejects_bad_queries(client_for, params, field):
    response = client_for("chief", CITY).get(URL, {"unit": CITY, **params})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field in response.json()["fields"]


def test_anonymous_requests_are_refused(client):
    assert client.get(URL).status_code in {401, 403}


def test_definitions_endpoint_lists_a_set(client_for):
    response = client_for("procurator", BASIC).get(URL + "definitions/", {"set": "2023"})
    assert response.status_code == 200
    ids = [row["id"] for row in response.json()]
    assert "withdrawal_and_acquittal_rate" in ids
    assert all(row["version"].startswith("2023.") for row in response.json())


def test_api_procurator_and_department_filters(client_for, scenario):
    from jiancha.accounts.models import Unit

    client = client_for("chief", CITY)
    rows = client.get(URL, {"unit": BASIC, **YEAR, "indicator": "non_arrest_rate", "procurator": "P0001"}).json()
    assert (rows[0]["numerator"], rows[0]["denominator"]) == (1, 3)
    rows = client.get(URL, {"unit": BASIC, **YEAR, "indicator": "non_arrest_rate", "procurator": "P9999"}).json()
    assert (rows[0]["numerator"], rows[0]["denominator"]) == (0, 0)
    civil = next(d for d in Unit.objects.get(code=BASIC).departments.all() if "civil" in d.business_lines)
    rows = client.get(URL, {"unit": BASIC, **YEAR, "indicator": "civil_violation_recommendation_adoption_rate", "department": civil.pk}).json()
    assert (rows[0]["numerator"], rows[0]["denominator"]) == (0, 1)
    other = Unit.objects.get(code=CITY).departments.first()
    assert client.get(URL, {"unit": BASIC, **YEAR, "department": other.pk}).status_code == 400
