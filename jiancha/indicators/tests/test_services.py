"""Each indicator on hand-made cases, roll-up, periods and definitions (issue 4 §1-3)."""

import datetime

import pytest

from jiancha.accounts.models import Unit
from jiancha.core.testing import BASIC, CITY, PROVINCE, SIBLING
from jiancha.indicators.definitions import (
    DefinitionError,
    definition_set,
    definition_sets,
    parse_measure,
)
from jiancha.indicators.engines import DatabaseEngine
from jiancha.indicators.services import (
    IndicatorFilters,
    indicator_case_ids,
    indicator_compute,
    indicator_report,
    period_list,
)
from jiancha.indicators.tests.factories import (
    EXPECTED_BASIC,
    EXPECTED_SIBLING,
    build_scenario,
)

pytestmark = pytest.mark.django_db

YEAR = (datetime.date(2024, 1, 1), datetime.date(2024, 12, 31))


def figures(unit_code: str, *, own: bool = False, by: str | None = None, filters: IndicatorFilters | None = None) -> dict[str, tuple[int, int]]:
    unit = Unit.objects.get(code=unit_code)
    indicators = list(definition_set("current").indicators)
    table = indicator_compute(
        indicators=indicators, date_from=YEAR[0], date_to=YEAR[1], by=by, engine=DatabaseEngine(),
        targets=[unit.pk], outputs=[unit.pk], filters=filters,
    )
    label = f"{YEAR[0]}/{YEAR[1]}"
    return {indicator.id: table.get(unit.pk, label, column, own=own) for column, indicator in enumerate(indicators)}


@pytest.fixture
def scenario():
    return build_scenario()


def test_every_current_indicator_has_a_hand_counted_expectation():
    assert set(definition_set("current").ids()) == set(EXPECTED_BASIC)


@pytest.mark.parametrize("indicator", sorted(EXPECTED_BASIC))
def test_indicator_on_hand_made_cases(scenario, indicator):
    assert figures(BASIC)[indicator] == EXPECTED_BASIC[indicator]
    assert figures(SIBLING)[indicator] == EXPECTED_SIBLING[indicator]


def test_subtree_is_the_sum_of_its_children(scenario):
    city = figures(CITY)
    for indicator in EXPECTED_BASIC:
        basic, sibling = EXPECTED_BASIC[indicator], EXPECTED_SIBLING[indicator]
        assert city[indicator] == (basic[0] + sibling[0], basic[1] + sibling[1]), indicator
    assert figures(PROVINCE) == city
    # The city itself handled no case: its own figures are all zero.
    assert set(figures(CITY, own=True).values()) == {(0, 0)}


def test_roll_up_of_every_child_at_once_matches_single_unit_queries(scenario):
    city = Unit.objects.get(code=CITY)
    children = list(city.children.all())
    indicators = list(definition_set("current").indicators)
    table = indicator_compute(
        indicators=indicators, date_from=YEAR[0], date_to=YEAR[1], by=None, engine=DatabaseEngine(),
        targets=[city.pk], outputs=[city.pk] + [child.pk for child in children],
    )
    label = f"{YEAR[0]}/{YEAR[1]}"
    for column, indicator in enumerate(indicators):
        total = [0, 0]
        for child in children:
            numerator, denominator = table.get(child.pk, label, column)
            total[0] += numerator
            total[1] += denominator
        assert tuple(total) == table.get(city.pk, label, column), indicator.id


def test_events_count_in_the_month_their_date_falls_in(scenario):
    basic = Unit.objects.get(code=BASIC)
    indicator = definition_set().get("non_arrest_rate")
    table = indicator_compute(
        indicators=[indicator], date_from=YEAR[0], date_to=YEAR[1], by="month", engine=DatabaseEngine(),
        targets=[basic.pk], outputs=[basic.pk],
    )
    assert table.get(basic.pk, "2024-01", 0) == (1, 2)
    assert table.get(basic.pk, "2024-03", 0) == (0, 1)
    assert table.get(basic.pk, "2024-02", 0) == (0, 0)
    quarters = indicator_compute(
        indicators=[indicator], date_from=YEAR[0], date_to=YEAR[1], by="quarter", engine=DatabaseEngine(),
        targets=[basic.pk], outputs=[basic.pk],
    )
    assert quarters.get(basic.pk, "2024-Q1", 0) == (1, 3)


def test_a_range_cuts_events_at_its_ends(scenario):
    basic = Unit.objects.get(code=BASIC)
    indicator = definition_set().get("non_prosecution_rate")
    table = indicator_compute(
        indicators=[indicator], date_from=datetime.date(2024, 3, 1), date_to=datetime.date(2024, 4, 20), by=None,
        engine=DatabaseEngine(), targets=[basic.pk], outputs=[basic.pk],
    )
    assert table.get(basic.pk, "2024-03-01/2024-04-20", 0) == (2, 3)  # B, C / A, B, C


def test_business_line_and_procurator_filters(scenario):
    assert figures(BASIC, filters=IndicatorFilters(business_line="civil"))["non_prosecution_rate"] == (0, 0)
    civil = figures(BASIC, filters=IndicatorFilters(business_line="civil"))
    assert civil["civil_retrial_recommendation_adoption_rate"] == (1, 1)
    assert civil["case_proceeding_ratio"] == (2, 2)


def test_department_filter_uses_its_business_lines(scenario):
    basic = Unit.objects.get(code=BASIC)
    civil_department = next(department for department in basic.departments.all() if "civil" in department.business_lines)
    values = figures(BASIC, filters=IndicatorFilters(department=civil_department))
    assert values["non_arrest_rate"] == (0, 0)
    assert values["civil_violation_recommendation_adoption_rate"] == (0, 1)


def test_cases_behind_a_numerator(scenario):
    basic = Unit.objects.get(code=BASIC)
    indicator = definition_set().get("post_arrest_non_prosecution_rate")
    ids = indicator_case_ids(indicator=indicator, side="numerator", unit=basic, subtree=True, date_from=YEAR[0], date_to=YEAR[1], engine=DatabaseEngine())
    assert ids == [scenario["PR2"].pk]
    ids = indicator_case_ids(indicator=indicator, side="denominator", unit=basic, subtree=True, date_from=YEAR[0], date_to=YEAR[1], engine=DatabaseEngine())
    assert ids == sorted([scenario["AR1"].pk, scenario["AR2"].pk])
    ratio = definition_set().get("case_proceeding_ratio")
    ids = indicator_case_ids(indicator=ratio, side="denominator", unit=basic, subtree=True, date_from=YEAR[0], date_to=YEAR[1], engine=DatabaseEngine())
    first_records = ["AR1", "AR2", "PR3", "PR4", "PR5", "CV1", "CV2", "PI1"]
    assert ids == sorted(scenario[name].pk for name in first_records)


def test_report_shows_small_samples_as_insufficient_and_compares(scenario):
    basic = Unit.objects.get(code=BASIC)
    report = indicator_report(unit=basic, subtree=True, date_from=YEAR[0], date_to=YEAR[1], by=None, engine=DatabaseEngine())
    rows = {row.indicator: row for row in report.rows}
    row = rows["non_arrest_rate"]
    assert (row.numerator, row.denominator) == (1, 3)
    assert row.value == pytest.approx(1 / 3)
    assert not row.sufficient
    assert row.display == "Insufficient sample"
    assert row.definition_version == "current.1"
    assert row.published_value == pytest.approx(0.34)
    assert rows["acquittal_rate"].national_display == "Insufficient sample"
    assert rows["non_arrest_rate"].parent_display  # the city's figure is computed too


def test_period_list_clips_to_the_range():
    periods = period_list(datetime.date(2024, 2, 10), datetime.date(2024, 5, 3), "month")
    assert [p.label for p in periods] == ["2024-02", "2024-03", "2024-04", "2024-05"]
    assert periods[0].date_from == datetime.date(2024, 2, 10)
    assert periods[-1].date_to == datetime.date(2024, 5, 3)
    assert [p.label for p in period_list(datetime.date(2024, 1, 1), datetime.date(2024, 12, 31), "quarter")] == ["2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4"]


def test_definition_sets_are_versioned():
    sets = definition_sets()
    assert {"2021", "2023", "2024", "current"} <= set(sets)
    assert "withdrawal_and_acquittal_rate" in sets["2023"].ids()
    assert "withdrawal_and_acquittal_rate" not in sets["2021"].ids()
    assert "withdrawal_rate" in sets["2021"].ids()
    assert sets["2023"].get("non_arrest_rate").version == "2023.1"
    assert len({s.fingerprint for s in sets.values()}) == len(sets)
    required = {
        "non_arrest_rate", "non_prosecution_rate", "pretrial_detention_rate", "post_arrest_non_prosecution_rate",
        "plea_leniency_rate", "fixed_recommendation_rate", "recommendation_adoption_rate", "withdrawal_rate",
        "acquittal_rate", "first_instance_acceptance_rate", "protest_change_rate", "case_proceeding_ratio",
    }
    assert required <= set(sets["current"].ids())


def test_case_proceeding_events_are_configurable(settings):
    settings.INDICATORS_CASE_PROCEEDING_EVENTS = ["withdrawn"]
    ratio = definition_set().get("case_proceeding_ratio")
    assert ratio.numerator.terms[1].event_types() == ("withdrawn",)


@pytest.mark.parametrize(
    "raw",
    [
        {"count": "persons"},  # no event type
        {"count": "bananas", "event": {"type": "appeal"}},
        {"count": "persons", "event": {"type": "appeal", "colour": "red"}},
        {"count": "sum", "source": "case", "date": "closed_on"},  # sum without a value
        {"count": "persons", "event": {"type": "appeal'; DROP TABLE x; --"}},
    ],
)
def test_malformed_measures_are_refused(raw):
    with pytest.raises(DefinitionError):
        parse_measure(raw, ())
