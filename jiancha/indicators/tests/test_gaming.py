"""The three signals of managed numbers, each on cases made to show it."""

import datetime

import pytest

from jiancha.accounts.models import Unit
from jiancha.core.testing import BASIC, CITY, SIBLING
from jiancha.indicators.engines import DatabaseEngine
from jiancha.indicators.gaming import (
    expected_last_days_share,
    gaming_signals,
    previous_window,
)
from jiancha.indicators.tests.factories import D, build_scenario, make_case

pytestmark = pytest.mark.django_db

H2 = (D(2024, 7, 1), D(2024, 12, 31))


def third_unit() -> Unit:
    return Unit.objects.filter(parent__code=CITY).exclude(code__in=[BASIC, SIBLING]).order_by("code").first()


def returns_then_none(unit: str = BASIC) -> None:
    """Three returns in H1, none in H2; non-prosecutions after arrest rise from 0 to 2."""
    for number in range(3):
        make_case(f"RET{number}", unit=unit, received=D(2024, 2, 1), closed=D(2024, 3, 1), persons=[("A", False, False)],
                  events=[("returned_for_investigation", D(2024, 2, 10), ""), ("prosecution_decided", D(2024, 3, 1), "A", {"decision": "prosecute"})])
    for number in range(2):
        make_case(f"ARR{number}", unit=unit, procedure="arrest_review", matter=f"G{number}", received=D(2024, 7, 1), closed=D(2024, 7, 5),
                  persons=[("A", False, False)], events=[("arrest_decided", D(2024, 7, 5), "A", {"decision": "approved"})])
        make_case(f"NP{number}", unit=unit, matter=f"G{number}", received=D(2024, 8, 1), closed=D(2024, 8, 20),
                  persons=[("A", False, False)], events=[("prosecution_decided", D(2024, 8, 20), "A", {"decision": "not_prosecute", "kind": "discretionary"})])


def bunched_decisions(unit: str = SIBLING) -> None:
    """45 arrest decisions in H2, 36 of them in the last three days of a month."""
    for number in range(45):
        month = 7 + number % 6
        last = (D(2024, month, 28) + datetime.timedelta(days=4)).replace(day=1) - datetime.timedelta(days=1)
        day = last - datetime.timedelta(days=number % 3) if number < 36 else D(2024, month, 10)
        make_case(f"BUN{number}", unit=unit, procedure="arrest_review", received=day - datetime.timedelta(days=3), closed=day,
                  persons=[("A", False, False)], events=[("arrest_decided", day, "A", {"decision": "approved"})])


def perfect_adoption(unit: str) -> None:
    """20 fixed recommendations, all adopted; not one range."""
    for number in range(20):
        make_case(f"ADO{number}", unit=unit, received=D(2024, 7, 1), closed=D(2024, 7, 20), persons=[("A", False, True)],
                  events=[
                      ("prosecution_decided", D(2024, 7, 20), "A", {"decision": "prosecute"}),
                      ("sentencing_recommended", D(2024, 7, 20), "A", {"kind": "fixed", "months": 6}),
                      ("judgment", D(2024, 9, 1), "A", {"instance": 1, "verdict": "guilty", "months": 6, "recommendation_adopted": True}),
                  ])


def findings(unit_code: str = CITY) -> set[tuple[str, str]]:
    unit = Unit.objects.get(code=unit_code)
    found = gaming_signals(unit=unit, subtree=True, date_from=H2[0], date_to=H2[1], engine=DatabaseEngine())
    return {(finding.code, finding.unit.code) for finding in found}


def test_each_signal_is_found_in_the_unit_that_shows_it():
    adoption_unit = third_unit()
    returns_then_none()
    bunched_decisions()
    perfect_adoption(adoption_unit.code)
    found = findings()
    assert ("returns_vanish", BASIC) in found
    assert ("deadline_bunching", SIBLING) in found
    assert ("perfect_adoption", adoption_unit.code) in found
    assert ("returns_vanish", SIBLING) not in found
    assert ("deadline_bunching", BASIC) not in found
    assert ("perfect_adoption", BASIC) not in found


def test_ordinary_work_raises_no_signal():
    build_scenario()
    assert findings() == set()


def test_one_range_recommendation_clears_the_adoption_signal():
    unit = third_unit()
    perfect_adoption(unit.code)
    make_case("RANGE", unit=unit.code, received=D(2024, 7, 1), closed=D(2024, 7, 20), persons=[("A", False, True)],
              events=[("sentencing_recommended", D(2024, 7, 20), "A", {"kind": "range", "min_months": 6, "max_months": 9})])
    assert ("perfect_adoption", unit.code) not in findings()


def test_signal_links_to_its_cases(client_for):
    returns_then_none()
    client = client_for("chief", CITY)
    page = client.get("/indicators/", {"unit": CITY, "from": "2024-07-01", "to": "2024-12-31"})
    signals = page.context["signals"]
    item = next(item for item in signals if item["finding"].code == "returns_vanish")
    cases = client.get(item["cases_url"]).content.decode()
    assert ">NP0</a>" in cases
    assert ">NP1</a>" in cases
    assert ">RET0</a>" not in cases


def test_windows_and_calendar_share():
    assert previous_window(D(2024, 7, 1), D(2024, 12, 31)) == (D(2024, 1, 1), D(2024, 6, 30))
    assert previous_window(D(2024, 1, 1), D(2024, 3, 31)) == (D(2023, 10, 1), D(2023, 12, 31))
    assert previous_window(D(2024, 3, 5), D(2024, 3, 14)) == (D(2024, 2, 24), D(2024, 3, 4))
    assert expected_last_days_share(D(2024, 1, 1), D(2024, 1, 31)) == pytest.approx(3 / 31)
