"""All indicators for all units x 12 months over a DuckDB snapshot, against a hand-written query.

    python bench/indicators.py --cases 5000000 [--from 2024-01-01 --to 2024-12-31] [--repeat 3]

1. Fills a dedicated SQLite database (``var/bench_indicators.sqlite3``) with
   ``jiancha demo-data --cases N --seed 1`` when it holds fewer than N cases (timed).
2. Builds the DuckDB snapshot of it (``var/bench_indicators.duckdb``) when missing or older
   than the database (timed; ``--rebuild-snapshot`` forces it), and the indicator fact
   tables of that snapshot (timed; built once per snapshot, like DHIS2's analytics tables).
3. Times the library: every indicator of the ``current`` set, every unit (its whole
   subtree rolled up), by month (``indicator_compute``: compile, run, decode, roll up),
   over the fact tables; and, for reference, over the snapshot's own tables.
4. Times a hand-written single DuckDB query for the same numbers, written independently
   of the library's compiler (path-split ancestors instead of a recursive CTE, FILTERed
   distinct counts instead of 0/1 columns, LEFT JOINs instead of EXISTS), and checks that
   the two give identical numerators and denominators for every unit and month.

Targets (issue 4, item 4): library <= 5 s on this 2-core machine, and <= 2x the hand query.
"""

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = ROOT / "var" / "bench_indicators.sqlite3"
DEFAULT_SNAPSHOT = ROOT / "var" / "bench_indicators.duckdb"

CRIMINAL = "('ordinary_crime', 'major_crime', 'duty_crime', 'economic_crime', 'juvenile')"

# The hand-written query. {lo}/{hi}: the range; {extra}: the extra events of 案-件比.
HAND_SQL = """
WITH
anc AS (  -- every unit with each of its ancestors (and itself), from the materialised path
    SELECT u.id AS unit_id, a.id AS ancestor_id
    FROM unit u, unnest(string_split(rtrim(u.path, '/'), '/')) AS p(code)
    JOIN unit a ON a.code = p.code
),
arrested_person AS (
    SELECT c.matter_key, e.person, min(e."on") AS first_on
    FROM event e JOIN "case" c ON c.id = e.case_id
    WHERE e.type = 'arrest_decided' AND e.decision = 'approved' AND e.person <> ''
    GROUP BY ALL
),
arrested_matter AS (
    SELECT c.matter_key, min(e."on") AS first_on
    FROM event e JOIN "case" c ON c.id = e.case_id
    WHERE e.type = 'arrest_decided' AND e.decision = 'approved' AND e.person = ''
    GROUP BY ALL
),
appeal_person AS (SELECT DISTINCT case_id, person FROM event WHERE type = 'appeal' AND person <> ''),
appeal_case AS (SELECT DISTINCT case_id FROM event WHERE type = 'appeal' AND person = ''),
recommendation_case AS (
    SELECT case_id, bool_or(kind = 'retrial') AS retrial, bool_or(kind = 'violation') AS violation,
           bool_or(kind = 'pre_litigation') AS pre_litigation
    FROM event WHERE type = 'recommendation_issued' GROUP BY case_id
),
ev AS (
    SELECT c.unit_id, strftime(e."on", '%Y-%m') AS month, e.case_id, e.type, e."on", e.person, e.decision,
           e.kind, e.instance, e.verdict, e.recommendation_adopted, e.changed, e.adopted, e.supported,
           c.business_line, c.procedure, c.matter_key
    FROM event e JOIN "case" c ON c.id = e.case_id
    WHERE e."on" BETWEEN DATE '{lo}' AND DATE '{hi}'
),
pe AS (  -- person events: an event without a person concerns every person of its case
    SELECT ev.*, ev.person AS who FROM ev
    WHERE ev.person <> '' AND ev.type IN ('arrest_decided', 'prosecution_decided', 'sentencing_recommended', 'judgment',
        'withdrawn', 'protest', 'protest_result', 'arrest_reconsideration', 'non_prosecution_reconsideration')
    UNION ALL
    SELECT ev.*, coalesce(p.person_id, '') FROM ev LEFT JOIN person p ON p.case_id = ev.case_id
    WHERE ev.person = '' AND ev.type IN ('arrest_decided', 'prosecution_decided', 'sentencing_recommended', 'judgment',
        'withdrawn', 'protest', 'protest_result', 'arrest_reconsideration', 'non_prosecution_reconsideration')
),
pf AS (
    SELECT pe.unit_id, pe.month, pe.case_id, pe.who, pe.type, pe.decision, pe.kind, pe.instance, pe.verdict,
           pe.recommendation_adopted, pe.changed, pe.business_line IN {criminal} AS criminal,
           coalesce(p.juvenile, false) AS juvenile, coalesce(p.plea_leniency, false) AS plea,
           coalesce(ap.first_on <= pe."on", false) OR coalesce(am.first_on <= pe."on", false) AS arrested_before,
           (pp.case_id IS NOT NULL OR pc.case_id IS NOT NULL) AS appealed
    FROM pe
    LEFT JOIN person p ON p.case_id = pe.case_id AND p.person_id = pe.who
    LEFT JOIN arrested_person ap ON ap.matter_key = pe.matter_key AND ap.person = pe.who
    LEFT JOIN arrested_matter am ON am.matter_key = pe.matter_key
    LEFT JOIN appeal_person pp ON pp.case_id = pe.case_id AND pp.person = pe.who
    LEFT JOIN appeal_case pc ON pc.case_id = pe.case_id
),
persons AS (
    SELECT unit_id, month, case_id, who,
        bool_or(type = 'arrest_decided' AND decision = 'not_approved') AS not_arrested,
        bool_or(type = 'arrest_decided' AND decision IN ('approved', 'not_approved')) AS arrest_decided,
        bool_or(type = 'arrest_decided' AND decision = 'approved') AS arrested,
        bool_or(type = 'prosecution_decided' AND decision = 'not_prosecute') AS not_prosecuted,
        bool_or(type = 'prosecution_decided' AND decision IN ('prosecute', 'not_prosecute')) AS prosecution_decided,
        bool_or(type = 'prosecution_decided' AND decision = 'prosecute') AS prosecuted,
        bool_or(type = 'prosecution_decided' AND decision = 'not_prosecute' AND arrested_before) AS not_prosecuted_after_arrest,
        bool_or(type = 'prosecution_decided' AND decision IN ('prosecute', 'not_prosecute') AND plea) AS plea,
        bool_or(type = 'sentencing_recommended' AND kind = 'fixed') AS fixed,
        bool_or(type = 'sentencing_recommended') AS recommended,
        bool_or(type = 'judgment' AND instance = 1 AND recommendation_adopted IS TRUE) AS adopted,
        bool_or(type = 'withdrawn') AS withdrawn,
        bool_or(type = 'judgment' AND instance = 1 AND verdict = 'acquitted') AS acquitted,
        bool_or(type = 'judgment' AND instance = 1) AS judged,
        bool_or(type = 'judgment' AND instance = 1 AND NOT appealed) AS judged_not_appealed,
        bool_or(type = 'judgment' AND instance = 1 AND appealed) AS judged_appealed,
        bool_or(type = 'protest_result' AND changed IS TRUE AND criminal) AS protest_changed,
        bool_or(type = 'protest_result' AND criminal) AS protest_result,
        bool_or(type = 'protest' AND criminal) AS protest,
        bool_or(type = 'arrest_decided' AND decision = 'not_approved' AND juvenile) AS juvenile_not_arrested,
        bool_or(type = 'arrest_decided' AND decision IN ('approved', 'not_approved') AND juvenile) AS juvenile_arrest_decided,
        bool_or(type = 'prosecution_decided' AND decision = 'not_prosecute' AND juvenile) AS juvenile_not_prosecuted,
        bool_or(type = 'prosecution_decided' AND decision IN ('prosecute', 'not_prosecute') AND juvenile) AS juvenile_decided,
        bool_or(type = 'prosecution_decided' AND decision = 'not_prosecute' AND kind = 'conditional' AND juvenile) AS conditional,
        bool_or(type = 'arrest_reconsideration' AND changed IS TRUE) AS arrest_reconsideration_changed,
        bool_or(type = 'arrest_reconsideration') AS arrest_reconsideration,
        bool_or(type = 'non_prosecution_reconsideration' AND changed IS TRUE) AS np_reconsideration_changed,
        bool_or(type = 'non_prosecution_reconsideration') AS np_reconsideration,
        bool_or(type = 'judgment' AND instance = 1 AND verdict = 'exempted' AND arrested_before) AS exempted_after_arrest
    FROM pf GROUP BY ALL
),
person_counts AS (
    SELECT unit_id, month,
        count_if(not_arrested) AS not_arrested, count_if(arrest_decided) AS arrest_decided, count_if(arrested) AS arrested,
        count_if(not_prosecuted) AS not_prosecuted, count_if(prosecution_decided) AS prosecution_decided,
        count_if(prosecuted) AS prosecuted, count_if(not_prosecuted_after_arrest) AS not_prosecuted_after_arrest,
        count_if(plea) AS plea, count_if(fixed) AS fixed, count_if(recommended) AS recommended, count_if(adopted) AS adopted,
        count_if(withdrawn) AS withdrawn, count_if(acquitted) AS acquitted, count_if(judged) AS judged,
        count_if(judged_not_appealed) AS judged_not_appealed, count_if(judged_appealed) AS judged_appealed,
        count_if(protest_changed) AS protest_changed, count_if(protest_result) AS protest_result, count_if(protest) AS protest,
        count_if(juvenile_not_arrested) AS juvenile_not_arrested, count_if(juvenile_arrest_decided) AS juvenile_arrest_decided,
        count_if(juvenile_not_prosecuted) AS juvenile_not_prosecuted, count_if(juvenile_decided) AS juvenile_decided,
        count_if(conditional) AS conditional, count_if(arrest_reconsideration_changed) AS arrest_reconsideration_changed,
        count_if(arrest_reconsideration) AS arrest_reconsideration, count_if(np_reconsideration_changed) AS np_reconsideration_changed,
        count_if(np_reconsideration) AS np_reconsideration, count_if(exempted_after_arrest) AS exempted_after_arrest
    FROM persons GROUP BY ALL
),
event_counts AS (
    SELECT ev.unit_id, ev.month,
        count(DISTINCT ev.case_id) FILTER (WHERE type = 'returned_for_investigation' AND procedure = 'prosecution_review') AS returned,
        count(DISTINCT ev.case_id) FILTER (WHERE type = 'review_extended' AND procedure = 'prosecution_review') AS extended,
        count(DISTINCT ev.case_id) FILTER (WHERE type = 'protest_result' AND changed IS TRUE AND business_line = 'civil') AS civil_protest_changed,
        count(DISTINCT ev.case_id) FILTER (WHERE type = 'protest_result' AND business_line = 'civil') AS civil_protest_result,
        count(DISTINCT ev.case_id) FILTER (WHERE type = 'reply_received' AND adopted IS TRUE AND business_line = 'civil' AND r.retrial) AS civil_retrial_adopted,
        count(DISTINCT ev.case_id) FILTER (WHERE type = 'recommendation_issued' AND kind = 'retrial' AND business_line = 'civil') AS civil_retrial,
        count(DISTINCT ev.case_id) FILTER (WHERE type = 'reply_received' AND adopted IS TRUE AND business_line = 'civil' AND r.violation) AS civil_violation_adopted,
        count(DISTINCT ev.case_id) FILTER (WHERE type = 'recommendation_issued' AND kind = 'violation' AND business_line = 'civil') AS civil_violation,
        count(DISTINCT ev.case_id) FILTER (WHERE type = 'reply_received' AND adopted IS TRUE AND business_line = 'administrative' AND r.violation) AS admin_adopted,
        count(DISTINCT ev.case_id) FILTER (WHERE type = 'recommendation_issued' AND kind = 'violation' AND business_line = 'administrative') AS admin,
        count(DISTINCT ev.case_id) FILTER (WHERE type = 'reply_received' AND adopted IS TRUE AND business_line = 'execution' AND r.violation) AS execution_adopted,
        count(DISTINCT ev.case_id) FILTER (WHERE type = 'recommendation_issued' AND kind = 'violation' AND business_line = 'execution') AS execution,
        count(DISTINCT ev.case_id) FILTER (WHERE type = 'reply_received' AND adopted IS TRUE AND business_line = 'public_interest' AND r.pre_litigation) AS pre_litigation_adopted,
        count(DISTINCT ev.case_id) FILTER (WHERE type = 'recommendation_issued' AND kind = 'pre_litigation' AND business_line = 'public_interest') AS pre_litigation,
        count(DISTINCT ev.case_id) FILTER (WHERE type = 'judgment' AND supported IS TRUE AND business_line = 'public_interest') AS supported,
        count(DISTINCT ev.case_id) FILTER (WHERE type = 'judgment' AND business_line = 'public_interest') AS public_interest_judged,
        count(*) FILTER (WHERE type IN ({extra})) AS extra_events,
        count(*) FILTER (WHERE type IN ({extra}) AND business_line IN {criminal}) AS extra_criminal_events
    FROM ev LEFT JOIN recommendation_case r ON r.case_id = ev.case_id
    GROUP BY ALL
),
closed_counts AS (
    SELECT unit_id, strftime(closed_on, '%Y-%m') AS month,
        count(*) FILTER (WHERE procedure = 'prosecution_review') AS prosecution_reviews,
        coalesce(sum(date_diff('day', received_on, closed_on)) FILTER (WHERE procedure = 'prosecution_review'), 0) AS prosecution_days,
        count(*) FILTER (WHERE procedure = 'arrest_review') AS arrest_reviews,
        coalesce(sum(date_diff('day', received_on, closed_on)) FILTER (WHERE procedure = 'arrest_review'), 0) AS arrest_days,
        count(*) FILTER (WHERE procedure IN ('civil_supervision', 'administrative_supervision')) AS supervisions,
        coalesce(sum(date_diff('day', received_on, closed_on)) FILTER (WHERE procedure IN ('civil_supervision', 'administrative_supervision')), 0) AS supervision_days
    FROM "case" WHERE closed_on BETWEEN DATE '{lo}' AND DATE '{hi}' GROUP BY ALL
),
matter_first AS (
    SELECT unit_id, matter_key, min(received_on) AS first_on,
           min(received_on) FILTER (WHERE business_line IN {criminal}) AS first_criminal_on
    FROM "case" WHERE received_on <= DATE '{hi}' GROUP BY ALL
),
matter_counts AS (
    SELECT unit_id, month, sum(matters) AS matters, sum(criminal_matters) AS criminal_matters FROM (
        SELECT unit_id, strftime(first_on, '%Y-%m') AS month, count(*) AS matters, 0 AS criminal_matters
        FROM matter_first WHERE first_on >= DATE '{lo}' GROUP BY ALL
        UNION ALL
        SELECT unit_id, strftime(first_criminal_on, '%Y-%m'), 0, count(*)
        FROM matter_first WHERE first_criminal_on BETWEEN DATE '{lo}' AND DATE '{hi}' GROUP BY ALL
    ) GROUP BY ALL
),
keys AS (
    SELECT unit_id, month FROM person_counts UNION SELECT unit_id, month FROM event_counts
    UNION SELECT unit_id, month FROM closed_counts UNION SELECT unit_id, month FROM matter_counts
),
own AS (
    SELECT k.unit_id, k.month, p.* EXCLUDE (unit_id, month), e.* EXCLUDE (unit_id, month),
           c.* EXCLUDE (unit_id, month), m.* EXCLUDE (unit_id, month)
    FROM keys k
    LEFT JOIN person_counts p USING (unit_id, month)
    LEFT JOIN event_counts e USING (unit_id, month)
    LEFT JOIN closed_counts c USING (unit_id, month)
    LEFT JOIN matter_counts m USING (unit_id, month)
)
SELECT anc.ancestor_id AS unit_id, own.month AS bucket,
    sum(coalesce(not_arrested, 0)) AS non_arrest_rate_n, sum(coalesce(arrest_decided, 0)) AS non_arrest_rate_d,
    sum(coalesce(not_prosecuted, 0)) AS non_prosecution_rate_n, sum(coalesce(prosecution_decided, 0)) AS non_prosecution_rate_d,
    sum(coalesce(arrested, 0)) AS pretrial_detention_rate_n, sum(coalesce(prosecution_decided, 0)) AS pretrial_detention_rate_d,
    sum(coalesce(not_prosecuted_after_arrest, 0)) AS post_arrest_non_prosecution_rate_n, sum(coalesce(arrested, 0)) AS post_arrest_non_prosecution_rate_d,
    sum(coalesce(plea, 0)) AS plea_leniency_rate_n, sum(coalesce(prosecution_decided, 0)) AS plea_leniency_rate_d,
    sum(coalesce(fixed, 0)) AS fixed_recommendation_rate_n, sum(coalesce(recommended, 0)) AS fixed_recommendation_rate_d,
    sum(coalesce(adopted, 0)) AS recommendation_adoption_rate_n, sum(coalesce(recommended, 0)) AS recommendation_adoption_rate_d,
    sum(coalesce(withdrawn, 0)) AS withdrawal_rate_n, sum(coalesce(prosecuted, 0)) AS withdrawal_rate_d,
    sum(coalesce(acquitted, 0)) AS acquittal_rate_n, sum(coalesce(prosecuted, 0)) AS acquittal_rate_d,
    sum(coalesce(withdrawn, 0) + coalesce(acquitted, 0)) AS withdrawal_and_acquittal_rate_n, sum(coalesce(prosecuted, 0)) AS withdrawal_and_acquittal_rate_d,
    sum(coalesce(judged_not_appealed, 0)) AS first_instance_acceptance_rate_n, sum(coalesce(judged, 0)) AS first_instance_acceptance_rate_d,
    sum(coalesce(judged_appealed, 0)) AS appeal_rate_n, sum(coalesce(judged, 0)) AS appeal_rate_d,
    sum(coalesce(protest_changed, 0)) AS protest_change_rate_n, sum(coalesce(protest_result, 0)) AS protest_change_rate_d,
    sum(coalesce(protest, 0)) AS criminal_protest_rate_n, sum(coalesce(judged, 0)) AS criminal_protest_rate_d,
    sum(coalesce(matters, 0) + coalesce(extra_events, 0)) AS case_proceeding_ratio_n, sum(coalesce(matters, 0)) AS case_proceeding_ratio_d,
    sum(coalesce(criminal_matters, 0) + coalesce(extra_criminal_events, 0)) AS criminal_case_proceeding_ratio_n,
    sum(coalesce(criminal_matters, 0)) AS criminal_case_proceeding_ratio_d,
    sum(coalesce(juvenile_not_arrested, 0)) AS juvenile_non_arrest_rate_n, sum(coalesce(juvenile_arrest_decided, 0)) AS juvenile_non_arrest_rate_d,
    sum(coalesce(juvenile_not_prosecuted, 0)) AS juvenile_non_prosecution_rate_n, sum(coalesce(juvenile_decided, 0)) AS juvenile_non_prosecution_rate_d,
    sum(coalesce(conditional, 0)) AS conditional_non_prosecution_rate_n, sum(coalesce(juvenile_decided, 0)) AS conditional_non_prosecution_rate_d,
    sum(coalesce(arrest_reconsideration_changed, 0)) AS non_arrest_reconsideration_change_rate_n,
    sum(coalesce(arrest_reconsideration, 0)) AS non_arrest_reconsideration_change_rate_d,
    sum(coalesce(np_reconsideration_changed, 0)) AS non_prosecution_reconsideration_change_rate_n,
    sum(coalesce(np_reconsideration, 0)) AS non_prosecution_reconsideration_change_rate_d,
    sum(coalesce(exempted_after_arrest, 0)) AS post_arrest_exemption_rate_n, sum(coalesce(arrested, 0)) AS post_arrest_exemption_rate_d,
    sum(coalesce(not_prosecuted_after_arrest, 0) + coalesce(exempted_after_arrest, 0)) AS post_arrest_non_prosecution_and_exemption_rate_n,
    sum(coalesce(arrested, 0)) AS post_arrest_non_prosecution_and_exemption_rate_d,
    sum(coalesce(returned, 0)) AS return_rate_n, sum(coalesce(prosecution_reviews, 0)) AS return_rate_d,
    sum(coalesce(extended, 0)) AS extension_rate_n, sum(coalesce(prosecution_reviews, 0)) AS extension_rate_d,
    sum(coalesce(prosecution_days, 0)) AS average_prosecution_review_days_n, sum(coalesce(prosecution_reviews, 0)) AS average_prosecution_review_days_d,
    sum(coalesce(arrest_days, 0)) AS average_arrest_review_days_n, sum(coalesce(arrest_reviews, 0)) AS average_arrest_review_days_d,
    sum(coalesce(supervision_days, 0)) AS average_supervision_review_days_n, sum(coalesce(supervisions, 0)) AS average_supervision_review_days_d,
    sum(coalesce(civil_protest_changed, 0)) AS civil_protest_change_rate_n, sum(coalesce(civil_protest_result, 0)) AS civil_protest_change_rate_d,
    sum(coalesce(civil_retrial_adopted, 0)) AS civil_retrial_recommendation_adoption_rate_n, sum(coalesce(civil_retrial, 0)) AS civil_retrial_recommendation_adoption_rate_d,
    sum(coalesce(civil_violation_adopted, 0)) AS civil_violation_recommendation_adoption_rate_n, sum(coalesce(civil_violation, 0)) AS civil_violation_recommendation_adoption_rate_d,
    sum(coalesce(admin_adopted, 0)) AS administrative_recommendation_adoption_rate_n, sum(coalesce(admin, 0)) AS administrative_recommendation_adoption_rate_d,
    sum(coalesce(execution_adopted, 0)) AS execution_recommendation_adoption_rate_n, sum(coalesce(execution, 0)) AS execution_recommendation_adoption_rate_d,
    sum(coalesce(pre_litigation_adopted, 0)) AS pre_litigation_rectification_rate_n, sum(coalesce(pre_litigation, 0)) AS pre_litigation_rectification_rate_d,
    sum(coalesce(supported, 0)) AS public_interest_support_rate_n, sum(coalesce(public_interest_judged, 0)) AS public_interest_support_rate_d
FROM own JOIN anc ON anc.unit_id = own.unit_id
GROUP BY ALL
"""


def setup_django(database: Path, snapshot: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ["JIANCHA_ANALYTICS_SNAPSHOT"] = str(snapshot)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiancha.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def jiancha(*args: str, env: dict[str, str]) -> None:
    subprocess.run([str(ROOT / ".venv" / "bin" / "jiancha"), *args], check=True, env=env, cwd=ROOT)


def ensure_database(database: Path, cases: int, *, refill: bool) -> None:
    """Fill the dedicated database with ``jiancha demo-data`` if it has fewer cases."""
    import sqlite3

    count = 0
    if database.exists():
        try:
            with sqlite3.connect(database) as con:
                count = con.execute("SELECT count(*) FROM cases_case").fetchone()[0]
        except sqlite3.DatabaseError:
            count = 0
    if count >= cases:
        print(f"database: {database} holds {count:,} cases (>= {cases:,}); not refilled")
        return
    wal = database.with_name(database.name + "-wal")
    if wal.exists() and wal.stat().st_size > 100_000_000 and time.time() - wal.stat().st_mtime < 120:
        sys.exit(f"{database} is being written by another process (its WAL grows); wait for it to finish")
    if count and not refill:
        sys.exit(f"{database} holds {count:,} cases, fewer than {cases:,}: pass --refill to recreate it")
    for path in (database, wal, database.with_name(database.name + "-shm")):
        path.unlink(missing_ok=True)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}"}
    started = time.perf_counter()
    jiancha("migrate", "-v", "0", env=env)
    jiancha("demo-data", "--cases", str(cases), "--seed", "1", "--no-evaluate", env=env)
    print(f"database: filled with {cases:,} demo cases in {time.perf_counter() - started:.0f} s")


def timed(function, repeat: int) -> tuple[list[float], object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return times, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--database", type=Path, default=DEFAULT_DB)
    parser.add_argument("--snapshot", type=Path, default=DEFAULT_SNAPSHOT)
    parser.add_argument("--from", dest="date_from", type=datetime.date.fromisoformat, default=datetime.date(2024, 1, 1))
    parser.add_argument("--to", dest="date_to", type=datetime.date.fromisoformat, default=datetime.date(2024, 12, 31))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--refill", action="store_true", help="recreate a database that holds too few cases")
    parser.add_argument("--rebuild-snapshot", action="store_true")
    parser.add_argument("--skip-raw", action="store_true", help="do not time the library over the snapshot's own tables")
    args = parser.parse_args()

    database, snapshot = args.database.resolve(), args.snapshot.resolve()
    database.parent.mkdir(parents=True, exist_ok=True)
    ensure_database(database, args.cases, refill=args.refill)
    setup_django(database, snapshot)

    import numpy as np

    from jiancha.analytics.snapshot import build_snapshot
    from jiancha.indicators.definitions import (
        DEFINITIONS_FILE,
        definition_set,
        extra_events,
    )
    from jiancha.indicators.engines import SnapshotEngine
    from jiancha.indicators.services import indicator_compute

    if args.rebuild_snapshot or not snapshot.exists() or snapshot.stat().st_mtime < database.stat().st_mtime:
        info = build_snapshot(snapshot)
        print(f"snapshot: built in {info.seconds:.1f} s ({info.cases:,} cases, {info.persons:,} persons, {info.events:,} events)")
    engine = SnapshotEngine(snapshot)  # builds the fact tables if this snapshot has none yet
    if engine.facts_seconds:
        print(f"facts   : indicator fact tables built in {engine.facts_seconds:.1f} s")
    raw = SnapshotEngine(snapshot, facts=False)
    info = engine.info()
    print(f"snapshot: {snapshot} ({info['cases']:,} cases, {info['persons']:,} persons, {info['events']:,} events), built {info['built_at']}")
    threads = engine.con.execute("SELECT current_setting('threads')").fetchone()[0]
    print(f"machine: {os.cpu_count()} cores, DuckDB threads {threads}, load average {os.getloadavg()[0]:.1f}")

    indicators = list(definition_set("current").indicators)

    def library(over=engine):
        return indicator_compute(
            indicators=indicators, date_from=args.date_from, date_to=args.date_to, by="month",
            engine=over, targets=None, outputs=None,
        )

    document = json.loads(DEFINITIONS_FILE.read_text(encoding="utf-8"))
    extra = ", ".join(f"'{event}'" for event in extra_events(document))
    hand_sql = HAND_SQL.format(lo=args.date_from.isoformat(), hi=args.date_to.isoformat(), extra=extra, criminal=CRIMINAL)

    # The hand-written query gets a plain connection: DuckDB's default optimizers, the same
    # memory limit as the library.
    import duckdb
    from django.conf import settings

    plain = duckdb.connect(str(snapshot), read_only=True)
    plain.execute(f"SET memory_limit = '{getattr(settings, 'INDICATORS_DUCKDB_MEMORY_LIMIT', '3GB')}'")

    def hand():
        return plain.execute(hand_sql).fetchnumpy()

    # Interleave the runs so that all see the same machine load.
    library_times, hand_times, raw_times = [], [], []
    table = arrays = raw_table = None
    for _ in range(args.repeat):
        times, table = timed(library, 1)
        library_times += times
        times, arrays = timed(hand, 1)
        hand_times += times
    if not args.skip_raw:
        times, raw_table = timed(lambda: library(raw), 1)
        raw_times += times

    # Identical numbers for every unit and month?
    hand_index = {(int(unit_id), str(bucket)): row for row, (unit_id, bucket) in enumerate(zip(arrays["unit_id"], arrays["bucket"], strict=True))}
    mismatches = 0
    compared = 0
    for row, (unit_id, bucket) in enumerate(zip(table.unit_ids, table.buckets, strict=True)):
        other = hand_index.get((int(unit_id), bucket))
        for column, indicator in enumerate(indicators):
            mine = (int(table.numerator[row, column]), int(table.denominator[row, column]))
            theirs = (0, 0) if other is None else (int(arrays[f"{indicator.id}_n"][other]), int(arrays[f"{indicator.id}_d"][other]))
            compared += 1
            if mine != theirs:
                mismatches += 1
                if mismatches <= 10:
                    print(f"  MISMATCH unit {unit_id} {bucket} {indicator.id}: library {mine}, hand {theirs}")
    hand_rows_nonzero = sum(
        1 for row in range(len(arrays["unit_id"]))
        if any(int(arrays[f"{indicator.id}_d"][row]) or int(arrays[f"{indicator.id}_n"][row]) for indicator in indicators)
    )
    library_best, hand_best = min(library_times), min(hand_times)
    print()
    print(f"indicators: {len(indicators)} (set 'current'), units x months with data: {len(table):,}, values: {compared:,}")
    print(f"library   : best {library_best:.2f} s, median {statistics.median(library_times):.2f} s  ({', '.join(f'{t:.2f}' for t in library_times)})")
    print(f"hand query: best {hand_best:.2f} s, median {statistics.median(hand_times):.2f} s  ({', '.join(f'{t:.2f}' for t in hand_times)})")
    if raw_times:
        same = raw_table is not None and np.array_equal(raw_table.numerator, table.numerator) and np.array_equal(raw_table.denominator, table.denominator)
        print(f"library over the snapshot's own tables (no fact tables): {raw_times[0]:.2f} s, same numbers: {'yes' if same else 'NO'}")
    print(f"ratio     : {library_best / hand_best:.2f}x (target <= 2x); absolute target <= 5 s: {'met' if library_best <= 5 else 'NOT met'}")
    print(f"equal     : {'yes' if mismatches == 0 and hand_rows_nonzero <= len(table) else 'NO'} ({mismatches} mismatching values; "
          f"{int(np.sum(table.denominator)):,} summed denominators)")
    engine.close()
    raw.close()
    plain.close()
    if mismatches:
        sys.exit(1)


if __name__ == "__main__":
    main()
