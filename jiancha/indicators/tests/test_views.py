"""The dashboard, the cases behind a number, the export and publishing: role matrices."""

import io

import pytest
from openpyxl import load_workbook

from jiancha.core.models import AuditEntry
from jiancha.core.testing import BASIC, CITY, SIBLING, may_see, role_matrix
from jiancha.indicators.models import PublishedReport
from jiancha.indicators.tests.factories import build_scenario

pytestmark = pytest.mark.django_db

YEAR = {"from": "2024-01-01", "to": "2024-12-31"}


@pytest.fixture
def scenario():
    return build_scenario()


@pytest.mark.parametrize(("role", "user_unit"), role_matrix(BASIC))
def test_dashboard_role_matrix(client_for, scenario, role, user_unit):
    response = client_for(role, user_unit).get("/indicators/", {"unit": BASIC, **YEAR})
    if may_see(role, user_unit, BASIC):
        assert response.status_code == 200
        assert "杭州市西湖区人民检察院" in response.content.decode()
    else:
        assert response.status_code == 404


@pytest.mark.parametrize(("role", "user_unit"), role_matrix(BASIC))
def test_cases_behind_a_number_role_matrix(client_for, scenario, role, user_unit):
    params = {"unit": BASIC, **YEAR, "indicator": "post_arrest_non_prosecution_rate", "side": "numerator"}
    response = client_for(role, user_unit).get("/indicators/cases/", params)
    if may_see(role, user_unit, BASIC):
        assert response.status_code == 200
        body = response.content.decode()
        assert f'href="/cases/{scenario["PR2"].pk}/"' in body
        assert ">PR2</a>" in body
        assert ">PR3</a>" not in body
    else:
        assert response.status_code == 404


@pytest.mark.parametrize(("role", "user_unit"), role_matrix(BASIC))
def test_export_role_matrix(client_for, scenario, role, user_unit):
    before = AuditEntry.objects.count()
    response = client_for(role, user_unit).get("/indicators/export.xlsx", {"unit": BASIC, **YEAR})
    if may_see(role, user_unit, BASIC):
        assert response.status_code == 200
        workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
        sheet = workbook.worksheets[0]
        rows = {row[1]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
        assert rows["non_arrest_rate"][5:7] == (1, 3)
        assert rows["non_arrest_rate"][7] is None  # an insufficient sample leaves the value empty
        assert AuditEntry.objects.filter(verb="indicators.export").count() == 1
    else:
        assert response.status_code == 404
        assert AuditEntry.objects.count() == before


@pytest.mark.parametrize(("role", "user_unit"), role_matrix(BASIC))
def test_publish_role_matrix(client_for, scenario, role, user_unit):
    client = client_for(role, user_unit)
    response = client.post("/indicators/publish/?unit=" + BASIC + "&from=2024-01-01&to=2024-12-31", {"title": "2024 年度"})
    allowed = may_see(role, user_unit, BASIC) and role in {"chief", "case_manager", "admin"}
    if allowed:
        assert response.status_code == 302
        report = PublishedReport.objects.get()
        assert report.unit.code == BASIC
        assert AuditEntry.objects.filter(verb="indicators.publish").count() == 1
        page = client.get(response["Location"])
        assert page.status_code == 200
        assert "exactly as published" in page.content.decode()
    else:
        assert response.status_code == 404
        assert not PublishedReport.objects.exists()


def test_drill_down_lists_children_without_ranking(client_for, scenario):
    response = client_for("chief", CITY).get("/indicators/", {"unit": CITY, **YEAR})
    body = response.content.decode()
    assert response.status_code == 200
    assert f"unit={BASIC}" in body
    assert f"unit={SIBLING}" in body
    assert "Not ranked" in body
    assert response.context["ranking"] is False


def test_rankings_can_be_enabled_per_indicator(client_for, scenario, settings):
    settings.INDICATORS_RANKINGS = ["non_arrest_rate"]
    response = client_for("chief", CITY).get("/indicators/", {"unit": CITY, **YEAR, "focus": "non_arrest_rate"})
    assert response.context["ranking"] is True
    other = client_for("chief", CITY).get("/indicators/", {"unit": CITY, **YEAR, "focus": "non_prosecution_rate"})
    assert other.context["ranking"] is False


def test_dashboard_shows_insufficient_samples_not_rates(client_for, scenario):
    response = client_for("chief", BASIC).get("/indicators/", {"unit": BASIC, **YEAR})
    rows = {row.indicator.id: row for _group, rows in response.context["groups"] for row in rows}
    assert rows["non_arrest_rate"].value.display == "Insufficient sample"
    assert "33.3%" not in response.content.decode().split('id="row-non_arrest_rate"')[1].split("</tr>")[0]


def test_dashboard_reports_bad_input_without_computing(client_for):
    response = client_for("chief", CITY).get("/indicators/", {"unit": CITY, "from": "2024-06-01", "to": "2024-01-01"})
    assert response.status_code == 200
    assert "groups" not in response.context
    assert "The end date is before the start date." in response.content.decode()


def test_dashboard_query_budget(client_for, scenario, django_assert_max_num_queries):
    client = client_for("chief", CITY)
    with django_assert_max_num_queries(40):
        response = client.get("/indicators/", {"unit": CITY, **YEAR})
    assert response.status_code == 200


def test_published_report_is_shown_as_frozen_after_data_changes(client_for, scenario):
    from jiancha.cases.models import Event

    client = client_for("chief", CITY)
    response = client.post(f"/indicators/publish/?unit={CITY}&from=2024-01-01&to=2024-12-31", {"title": "frozen"})
    report = PublishedReport.objects.get()
    before = [row for row in report.table if row["indicator"] == "non_arrest_rate" and row["unit_code"] == CITY][0]
    Event.objects.filter(type="arrest_decided", details__decision="not_approved").delete()
    page = client.get(response["Location"]).content.decode()
    assert "exactly as published" in page
    report.refresh_from_db()
    after = [row for row in report.table if row["indicator"] == "non_arrest_rate" and row["unit_code"] == CITY][0]
    assert after == before
    assert (before["numerator"], before["denominator"]) == (2, 4)
    live = client.get("/api/v1/indicators/", {"unit": CITY, **YEAR, "indicator": "non_arrest_rate"}).json()[0]
    assert (live["numerator"], live["denominator"]) == (0, 2)
    PublishedReport.objects.filter(pk=report.pk).update(table=[{**before, "numerator": 99}])
    assert "no longer matches" in client.get(response["Location"]).content.decode()
