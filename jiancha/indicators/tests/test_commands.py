"""``jiancha indicators``: the command interface of issue 4."""

import csv
import io

import orjson
import pytest
from django.core.management import CommandError, call_command

from jiancha.core.testing import BASIC, CITY, OTHER_PROVINCE, make_user
from jiancha.indicators.tests.factories import (
    EXPECTED_BASIC,
    EXPECTED_SIBLING,
    build_scenario,
)

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("indicators", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def scenario():
    return build_scenario()


def test_json_without_by_is_one_row_per_indicator_for_the_subtree(scenario):
    rows = orjson.loads(run("--unit", CITY, "--from", "2024-01-01", "--to", "2024-12-31"))
    assert len(rows) == len(EXPECTED_BASIC)
    for row in rows:
        basic, sibling = EXPECTED_BASIC[row["indicator"]], EXPECTED_SIBLING[row["indicator"]]
        assert (row["numerator"], row["denominator"]) == (basic[0] + sibling[0], basic[1] + sibling[1])
        assert {"indicator", "unit_code", "period", "numerator", "denominator", "value"} <= set(row)


def test_csv_by_quarter(scenario):
    text = run("--unit", BASIC, "--from", "2024-01-01", "--to", "2024-12-31", "--by", "quarter", "--format", "csv", "--indicator", "non_arrest_rate")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["period"] for row in rows] == ["2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4"]
    assert (rows[0]["numerator"], rows[0]["denominator"]) == ("1", "3")


def test_user_scope_applies(scenario):
    make_user("chief", CITY, username="zhang")
    rows = orjson.loads(run("--unit", BASIC, "--from", "2024-01-01", "--to", "2024-12-31", "--user", "zhang", "--indicator", "non_arrest_rate"))
    assert rows[0]["numerator"] == 1
    make_user("chief", OTHER_PROVINCE, username="li")
    with pytest.raises(CommandError, match="not visible"):
        run("--unit", BASIC, "--from", "2024-01-01", "--to", "2024-12-31", "--user", "li")


def test_definition_set_and_bad_arguments(scenario):
    rows = orjson.loads(run("--unit", BASIC, "--from", "2024-01-01", "--to", "2024-12-31", "--set", "2021"))
    assert {row["definition_version"] for row in rows} == {"2021.1"}
    with pytest.raises(CommandError):
        run("--unit", "999999", "--from", "2024-01-01", "--to", "2024-12-31")
    with pytest.raises(CommandError):
        run("--unit", BASIC, "--from", "2024-01-01", "--to", "2024-12-31", "--set", "1999")
    with pytest.raises(CommandError):
        run("--unit", BASIC, "--from", "2024-02-30", "--to", "2024-12-31")
