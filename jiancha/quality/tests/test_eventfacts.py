"""The event facts store: a bulk run takes what it derived from the events of unchanged
cases from the store, derives the rest, and finds exactly what a run without it finds."""

import copy
import datetime
import os
import random
from itertools import islice
from pathlib import Path
from typing import Any

import duckdb
import pytest
from django.core.management import CommandError, call_command

from jiancha.cases.demo import generate_cases_with_defects
from jiancha.cases.importer import import_records
from jiancha.cases.models import Case
from jiancha.quality import services
from jiancha.quality.models import Finding
from jiancha.quality.rules import eventfacts
from jiancha.quality.rules.source import load_from_database, load_with_event_facts
from jiancha.quality.tests.test_rules import _random_prosecution

pytestmark = pytest.mark.django_db(transaction=True)

TODAY = datetime.date(2025, 12, 31)
DEMO_CASES = 1000
IRREGULAR_CASES = 200
CASES = DEMO_CASES + IRREGULAR_CASES


@pytest.fixture
def records() -> list[dict[str, Any]]:
    """Generated cases (with returns, resubmissions, protests, public-interest
    recommendations ... and the demo defects) and prosecution reviews with irregular
    clocks (returns without resubmission, several decisions ...), imported."""
    generated = [
        record
        for record, _defects in islice(
            generate_cases_with_defects(DEMO_CASES, seed=7), DEMO_CASES
        )
    ]
    rng = random.Random(5)
    generated += [_random_prosecution(rng, number) for number in range(IRREGULAR_CASES)]
    import_records(generated, notify=False)
    return generated


def evaluated(store: Path | None, case_ids: list[int] | None = None) -> tuple[Any, ...]:
    """Evaluate (without writing) with the store at ``store``, or deriving everything;
    returns (findings, grades, what was done with the store)."""
    engine = services.default_engine()
    con = engine.connect()
    use = None
    if store is None:
        load_from_database(con, case_ids=case_ids)
        engine.evaluate(con, today=TODAY)
    else:
        use = load_with_event_facts(con, path=store, case_ids=case_ids)
        engine.evaluate(con, today=TODAY, event_facts=True)
    findings = con.execute(
        "SELECT case_pk, rule_id, subject, fingerprint, vals FROM finding_new ORDER BY ALL"
    ).fetchall()
    grades = con.execute(
        "SELECT case_pk, grade, failures, defects, notices FROM grade_new ORDER BY ALL"
    ).fetchall()
    con.close()
    return findings, grades, use


def stamps(store: Path) -> dict[int, int]:
    with duckdb.connect(str(store), read_only=True) as con:
        return dict(con.execute("SELECT case_pk, stamp FROM stamp").fetchall())


def test_stored_facts_give_the_findings_derived_facts_give(records, tmp_path) -> None:
    store = tmp_path / "facts.duckdb"
    derived = evaluated(None)
    assert len(derived[0]) > 200
    # The review clock's rules too: three returns, a late resubmission.
    assert {"CR-P01", "CR-T08", "CR-L03"} <= {row[1] for row in derived[0]}

    first = evaluated(store)
    assert (first[2].read, first[2].fresh, first[2].stale, first[2].written) == (
        False,
        0,
        CASES,
        "rebuilt",
    )
    assert first[:2] == derived[:2]
    assert len(stamps(store)) == CASES

    second = evaluated(store)
    assert (second[2].read, second[2].fresh, second[2].stale, second[2].written) == (
        True,
        CASES,
        0,
        "",
    )
    assert second[:2] == derived[:2]


def test_a_case_written_again_is_derived_again(records, tmp_path) -> None:
    store = tmp_path / "facts.duckdb"
    evaluated(store)
    before = stamps(store)
    # Three criminal cases lose their notices of the right to counsel.
    changed = [
        copy.deepcopy(record)
        for record in records
        if any(event["type"] == "rights_notified" for event in record["events"])
    ][:3]
    for record in changed:
        record["events"] = [
            e for e in record["events"] if e["type"] != "rights_notified"
        ]
    import_records(changed, notify=False)
    ids = set(
        Case.objects.filter(case_id__in=[r["case_id"] for r in changed]).values_list(
            "pk", flat=True
        )
    )

    again = evaluated(store)
    assert (again[2].fresh, again[2].stale, again[2].written) == (
        CASES - 3,
        3,
        "updated",
    )
    assert again[:2] == evaluated(None)[:2]
    # The store holds new stamps for the changed cases, and for them only.
    after = stamps(store)
    assert {pk for pk in after if after[pk] != before[pk]} == ids
    assert evaluated(store)[2].stale == 0


def test_a_full_run_drops_deleted_cases_and_a_scoped_run_keeps_the_others(
    records, tmp_path
) -> None:
    store = tmp_path / "facts.duckdb"
    scope = list(Case.objects.order_by("pk").values_list("pk", flat=True)[:50])
    # Without a store, a scoped run derives its cases and writes nothing.
    alone = evaluated(store, case_ids=scope)
    assert (alone[2].read, alone[2].stale, alone[2].written) == (False, 50, "")
    assert alone[:2] == evaluated(None, case_ids=scope)[:2]
    assert not store.exists()
    evaluated(store)
    gone = Case.objects.order_by("pk").first()
    assert gone is not None
    gone_pk = gone.pk
    gone.delete()
    scope = list(Case.objects.order_by("pk").values_list("pk", flat=True)[:50])
    scoped = evaluated(store, case_ids=scope)
    assert (scoped[2].fresh, scoped[2].stale, scoped[2].written) == (50, 0, "")
    assert scoped[:2] == evaluated(None, case_ids=scope)[:2]
    assert gone_pk in stamps(store)  # a scoped run leaves the other cases alone

    # A case of the scope written again: the scoped run stores it, and only it.
    first_in_scope = Case.objects.get(pk=scope[0])
    record = next(
        r
        for r in records
        if (r["unit_code"], r["case_id"])
        == (first_in_scope.unit.code, first_in_scope.case_id)
    )
    rewritten = copy.deepcopy(record)
    rewritten["events"] = rewritten["events"][:-1]
    before = stamps(store)
    import_records([rewritten], notify=False)
    scoped = evaluated(store, case_ids=scope)
    assert (scoped[2].fresh, scoped[2].stale, scoped[2].written) == (49, 1, "updated")
    assert scoped[:2] == evaluated(None, case_ids=scope)[:2]
    after = stamps(store)
    assert {pk for pk in after if after[pk] != before[pk]} == {scope[0]}

    full = evaluated(store)
    assert (full[2].stale, full[2].written) == (0, "updated")
    assert gone_pk not in stamps(store)
    assert len(stamps(store)) == CASES - 1


@pytest.mark.parametrize("damage", ["format", "database", "garbage"])
def test_a_store_made_otherwise_is_not_read_and_is_made_again(
    records, tmp_path, damage
) -> None:
    store = tmp_path / "facts.duckdb"
    evaluated(store)
    if damage == "garbage":
        store.write_bytes(b"not a DuckDB file" * 100)
    else:
        with duckdb.connect(str(store)) as con:
            con.execute("UPDATE meta SET value = 'other' WHERE key = ?", [damage])
    derived = evaluated(None)
    again = evaluated(store)
    assert (again[2].read, again[2].stale, again[2].written) == (
        False,
        CASES,
        "rebuilt",
    )
    assert again[:2] == derived[:2]
    assert evaluated(store)[2].fresh == CASES


def test_a_rebuild_that_fails_leaves_the_old_store_and_no_partial_file(
    records, tmp_path, monkeypatch
) -> None:
    store = tmp_path / "facts.duckdb"
    evaluated(store)
    Case.objects.filter(pk__in=Case.objects.order_by("pk").values("pk")[:10]).delete()
    calls = {"count": 0}
    real = eventfacts._stored_select

    def failing(con: Any, table: str, where: str = "") -> str:
        calls["count"] += 1
        if calls["count"] == 3:
            raise duckdb.IOException("disk full")
        return real(con, table, where)

    monkeypatch.setattr(eventfacts, "_stored_select", failing)
    monkeypatch.setattr(eventfacts, "REBUILD_SHARE", 0.0)  # rebuild, not update
    result = evaluated(store)
    assert result[2].written == "failed"
    assert result[:2] == evaluated(None)[:2]  # the run itself went on
    assert len(stamps(store)) == CASES  # the old store, whole
    assert [path.name for path in tmp_path.iterdir()] == ["facts.duckdb"]


def test_evaluation_runs_keep_the_store_of_their_database(records, settings) -> None:
    store = eventfacts.store_path()
    assert store is not None
    assert store.parent == Path(settings.QUALITY_EVENT_FACTS_DIR)
    first = services.evaluation_run(today=TODAY)
    assert first.event_facts.written == "rebuilt"
    assert store.exists()
    fingerprints = sorted(Finding.objects.values_list("case_id", "fingerprint"))
    Finding.objects.all().delete()
    second = services.evaluation_run(today=TODAY)
    assert (second.event_facts.fresh, second.event_facts.stale) == (CASES, 0)
    assert sorted(Finding.objects.values_list("case_id", "fingerprint")) == fingerprints


def test_without_a_store_folder_nothing_is_kept(records, settings) -> None:
    settings.QUALITY_EVENT_FACTS_DIR = None
    assert eventfacts.store_path() is None
    run = services.evaluation_run(today=TODAY)
    assert run.event_facts is None
    assert run.cases == CASES


def test_the_evaluate_command_says_what_came_from_the_store(records, capsys) -> None:
    call_command("evaluate", "--today", "2025-12-31", "--no-progress")
    call_command("evaluate", "--today", "2025-12-31", "--no-progress")
    out = capsys.readouterr().out.splitlines()
    facts = [line for line in out if line.startswith("Event facts")]
    assert facts == [
        f"Event facts: 0 cases from the store, {CASES} derived from their events; the store was written anew.",
        f"Event facts: {CASES} cases from the store, 0 derived from their events.",
    ]


def test_a_store_that_cannot_be_updated_is_left_as_it_is(
    records, tmp_path, monkeypatch
) -> None:
    store = tmp_path / "facts.duckdb"
    evaluated(store)
    Case.objects.filter(pk=Case.objects.order_by("pk").values("pk")[:1]).delete()
    real = eventfacts.assemble
    garbage = tmp_path / "garbage"
    garbage.write_bytes(b"not a DuckDB file" * 100)

    def assemble_then_replace(*args: Any, **kwargs: Any) -> None:
        real(*args, **kwargs)
        # Another file takes the store's place before the run writes it.
        os.replace(garbage, store)

    monkeypatch.setattr(eventfacts, "assemble", assemble_then_replace)
    result = evaluated(store)
    assert (result[2].read, result[2].gone, result[2].written) == (True, 1, "failed")
    assert result[:2] == evaluated(None)[:2]
    assert store.read_bytes().startswith(b"not a DuckDB file")


def test_the_evaluate_command_rebuilds_the_store_on_demand(records, capsys) -> None:
    call_command("evaluate", "--today", "2025-12-31", "--no-progress")
    store = eventfacts.store_path()
    assert store is not None
    # Events changed behind the importer's back: the stamps cannot see it.
    with duckdb.connect(str(store)) as con:
        con.execute("DELETE FROM f_person")
    call_command(
        "evaluate", "--today", "2025-12-31", "--no-progress", "--rebuild-event-facts"
    )
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == (
        f"Event facts: 0 cases from the store, {CASES} derived from their events; "
        "the store was written anew."
    )
    with duckdb.connect(str(store), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM f_person").fetchone()[0] > CASES
    with pytest.raises(CommandError, match="leave out --since"):
        call_command(
            "evaluate",
            "--since",
            "2024-01-01",
            "--rebuild-event-facts",
            "--no-progress",
        )
