"""ENUM columns are compared with ENUM constants, and the results do not change."""

import duckdb

from jiancha.quality.rules.base import load_reference, typed_literals
from jiancha.quality.rules.registry import rulesets


def test_literals_of_enum_columns_become_enum_constants():
    sql = (
        "WHERE e.type = 'judgment' AND type IN ('appeal', 'no_such_type') "
        "AND k.procedure <> 'arrest_review' AND business_line IN ('juvenile') "
        "AND kind = 'judgment' AND procedure = 'no_such_procedure'"
    )

    assert typed_literals(sql) == (
        "WHERE e.type = 'judgment'::event_type AND type IN ('appeal'::event_type, 'no_such_type') "
        "AND k.procedure <> 'arrest_review'::procedure_type AND business_line IN ('juvenile'::line_type) "
        "AND kind = 'judgment' AND procedure = 'no_such_procedure'"
    )


def test_typed_comparisons_select_the_same_rows():
    con = duckdb.connect()
    load_reference(con, rulesets())
    con.execute(
        "CREATE TABLE event AS SELECT CAST(t AS event_type) AS type FROM "
        "(VALUES ('judgment'), ('appeal'), ('received'), ('judgment')) v(t)"
    )
    sql = "SELECT count(*) FROM event WHERE type IN ('judgment', 'appeal') AND type <> 'appeal'"

    assert con.execute(typed_literals(sql)).fetchone() == (2,)
    assert con.execute(sql).fetchone() == (2,)
