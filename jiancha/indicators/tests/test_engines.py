"""The DuckDB snapshot and the database (SQLite or PostgreSQL) give identical figures.

Run on SQLite and again on PostgreSQL (the CI does both), this covers the three engines:
each database run compares the database's own SQL with the DuckDB path over a snapshot of
that same database, and both must equal the hand-counted expectations.
"""

import datetime
import io

import numpy as np
import pytest
from django.core.management import call_command

from jiancha.accounts.models import Unit
from jiancha.analytics.snapshot import build_snapshot
from jiancha.cases.demo import generate_cases
from jiancha.cases.importer import import_records
from jiancha.cases.models import Event
from jiancha.core.testing import BASIC, CITY
from jiancha.indicators.definitions import definition_sets
from jiancha.indicators.engines import DatabaseEngine, SnapshotEngine
from jiancha.indicators.gaming import _counts
from jiancha.indicators.services import (
    IndicatorFilters,
    case_scope,
    indicator_case_ids,
    indicator_compute,
)
from jiancha.indicators.tests.factories import EXPECTED_BASIC, build_scenario

pytestmark = pytest.mark.django_db(transaction=True)


def table_dict(table):
    rows = {}
    for row, (unit_id, bucket) in enumerate(zip(table.unit_ids, table.buckets, strict=True)):
        rows[(int(unit_id), bucket)] = (
            table.numerator[row].tolist(),
            table.denominator[row].tolist(),
            table.own_numerator[row].tolist(),
            table.own_denominator[row].tolist(),
        )
    return rows


def test_snapshot_and_database_agree(tmp_path):
    scenario = build_scenario()
    import_records(generate_cases(1500, 7, date_from=datetime.date(2024, 1, 1), date_to=datetime.date(2024, 12, 31)))
    path = tmp_path / "snapshot.duckdb"
    build_snapshot(path)
    database, snapshot = DatabaseEngine(), SnapshotEngine(path)
    year = (datetime.date(2024, 1, 1), datetime.date(2024, 12, 31))
    try:
        for definitions in definition_sets().values():
            indicators = list(definitions.indicators)
            for by in (None, "month") if definitions.name == "current" else (None,):
                tables = [
                    indicator_compute(indicators=indicators, date_from=year[0], date_to=year[1], by=by, engine=engine, targets=None, outputs=None)
                    for engine in (database, snapshot)
                ]
                assert len(tables[0]) > 100
                assert table_dict(tables[0]) == table_dict(tables[1]), (definitions.name, by)
                assert int(np.sum(tables[0].denominator)) > 0
        # Both agree with the hand count for the scenario's unit too.
        basic = Unit.objects.get(code=BASIC)
        current = definition_sets()["current"]
        for engine in (database, snapshot):
            table = indicator_compute(
                indicators=list(current.indicators), date_from=year[0], date_to=year[1], by=None, engine=engine,
                targets=[basic.pk], outputs=[basic.pk],
            )
            label = f"{year[0]}/{year[1]}"
            got = {indicator.id: table.get(basic.pk, label, column) for column, indicator in enumerate(current.indicators)}
            demo_free = {key: value for key, value in EXPECTED_BASIC.items()}
            # Demo cases may fall in the same unit: the hand-made part is a lower bound.
            for key, (numerator, denominator) in demo_free.items():
                assert got[key][0] >= numerator, key
                assert got[key][1] >= denominator, key
        # The cases behind a number are the same on both engines.
        for indicator in current.indicators[:12]:
            for side in ("numerator", "denominator"):
                ids = [
                    indicator_case_ids(indicator=indicator, side=side, unit=basic, subtree=True, date_from=year[0], date_to=year[1], engine=engine)
                    for engine in (database, snapshot)
                ]
                assert ids[0] == ids[1], (indicator.id, side)
        assert scenario["PR2"].pk in indicator_case_ids(
            indicator=current.get("post_arrest_non_prosecution_rate"), side="numerator", unit=basic, subtree=True,
            date_from=year[0], date_to=year[1], engine=snapshot,
        )
        # The signals' counts agree too (fact tables: last days of a month, relations).
        city = Unit.objects.get(code=CITY)
        scope = case_scope(targets=[city.pk], filters=IndicatorFilters())
        outputs = [city.pk, basic.pk]
        assert _counts(database, scope, outputs, *year) == _counts(snapshot, scope, outputs, *year)
        # The fact tables belong to one snapshot: new data, new snapshot, new fact tables.
        out = io.StringIO()
        call_command("indicators-facts", snapshot=str(path), stdout=out)
        assert "up to date" in out.getvalue()
        Event.objects.filter(type="arrest_decided", details__decision="not_approved", case__unit=basic).delete()
        build_snapshot(path)
        with SnapshotEngine(path) as fresh:
            assert fresh.facts_seconds > 0
            table = indicator_compute(
                indicators=[current.get("non_arrest_rate")], date_from=year[0], date_to=year[1], by=None, engine=fresh,
                targets=[basic.pk], outputs=[basic.pk],
            )
            assert table.get(basic.pk, f"{year[0]}/{year[1]}", 0)[0] == 0
        assert len(list(tmp_path.glob("snapshot.indicators-*.duckdb"))) == 1
    finally:
        snapshot.close()
