"""Throughput of the quality evaluation: end to end, against a hand-written query and an ORM loop.

    python bench/quality_throughput.py --cases 1000000 [--database var/bench_quality.sqlite3]
                                       [--postgres jiancha_bench_quality] [--sample 200] [--threads 2]

Uses a dedicated database (SQLite file, or a PostgreSQL database with --postgres), filled with
``jiancha demo-data --cases N --seed 1 --manifest ...`` when it holds fewer cases, and prints:

* end to end, from the operational database to stored findings (``evaluation_run``): the
  first run of the database (no findings stored, the event facts store not read:
  everything derived from the events, as with no store, and the store written anew), cold (no findings stored; the event facts store the first run wrote, as any run
  leaves it, jiancha.quality.rules.eventfacts) and again (nothing changed): seconds and
  cases/s, with the stages (extraction, rule core, writes) measured separately, without
  the store. Target (issue 3): 5M cases in <= 30 s.
* the rule core (all rules of all rule-set versions, values, fingerprints and the diff) against a
  hand-written single DuckDB query over the same loaded tables, in the same run: the ratio.
  The hand-written query covers the common rules (time limits without returns, notices,
  mandatory steps, order, legal consistency, juveniles, civil/administrative/PIL limits) and
  only counts breaches; its counts are printed next to the engine's. Target: <= 3x.
* a per-object loop on a sample: ``case_evaluate`` (the same rules, one case at a time) and a
  plain ORM loop computing ``case_deadlines`` per case; the ratio to the bulk per-case time.
  Target: bulk >= 10x faster. The ``case_evaluate`` times are the single-case latency
  (target <= 50 ms), measured in the benchmark's process (after the bulk runs) and in a new
  process, as the importer or a web worker evaluates a case; also split into the cases
  evaluated alone and those evaluated with the other records of their matter.
* recall of the demo generator's known defects (its manifest) by the matching rules.
"""

import argparse
import datetime
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TODAY = datetime.date(2025, 12, 31)

DEFECT_RULES = {
    "late_arrest_decision": {"CR-T01", "CR-T02", "CR-T03"},
    "late_prosecution_decision": {"CR-T04", "CR-T05", "CR-T06", "CR-T07"},
    "missing_rights_notified": {"CR-T10"},
    "late_rights_notified": {"CR-T09"},
    "third_return": {"CR-P01"},
    "late_resubmission": {"CR-T08"},
    "article_mismatch": {"CR-L03"},
    "late_supervision_decision": {"CV-T01", "AD-T01"},
}

# A hand-written single query over the engine's input tables ("case", person, event), as one
# would write it for a fixed set of checks: one aggregation over the events, one per person,
# and a UNION ALL of conditions. Prosecution reviews are counted from receipt to the first
# decision (returns are not followed).
HAND_WRITTEN = r"""
WITH k AS MATERIALIZED (
    SELECT id, procedure, business_line, received_on, closed_on, detained, complex, fast_track FROM "case"
), cf AS MATERIALIZED (
    SELECT case_id,
           min("on") AS first_on,
           min("on") FILTER (WHERE type = 'received') AS received_event_on,
           min("on") FILTER (WHERE type = 'arrest_decided') AS arrest_on,
           min("on") FILTER (WHERE type = 'prosecution_decided') AS decided_on,
           min("on") FILTER (WHERE type = 'rights_notified') AS notice_on,
           count(*) FILTER (WHERE type = 'returned_for_investigation') AS returns,
           count(*) FILTER (WHERE type = 'review_extended') AS extensions,
           min("on") FILTER (WHERE type = 'recommendation_issued' AND json_extract_string(details, '$.kind') = 'pre_litigation') AS pre_litigation_on,
           min("on") FILTER (WHERE type = 'reply_received') AS reply_on,
           min("on") FILTER (WHERE type = 'public_notice_started') AS notice_started_on,
           min("on") FILTER (WHERE type = 'public_notice_ended') AS notice_ended_on
    FROM event GROUP BY case_id
), pf AS MATERIALIZED (
    SELECT case_id, person,
           min("on") FILTER (WHERE type = 'plea_agreement_signed') AS signed_on,
           min("on") FILTER (WHERE type = 'sentencing_recommended') AS recommended_on,
           arg_min(json_extract_string(details, '$.decision'), ord) FILTER (WHERE type = 'prosecution_decided') AS decision,
           arg_min(json_extract_string(details, '$.kind'), ord) FILTER (WHERE type = 'prosecution_decided') AS decision_kind,
           min("on") FILTER (WHERE type = 'prosecution_decided') AS decided_on,
           min("on") FILTER (WHERE type = 'judgment') AS judged_on,
           arg_min(details, ord) FILTER (WHERE type = 'judgment') AS judgment
    FROM event WHERE person <> '' AND type IN ('plea_agreement_signed', 'sentencing_recommended', 'prosecution_decided', 'judgment')
    GROUP BY case_id, person
), p AS MATERIALIZED (
    SELECT p.case_id, p.person_id, p.juvenile, p.plea_leniency, p.charges, p.articles, k.procedure, k.business_line, k.fast_track,
           f.signed_on, f.recommended_on, f.decision, f.decision_kind, f.decided_on, f.judged_on, f.judgment
    FROM person p JOIN k ON k.id = p.case_id LEFT JOIN pf f ON f.case_id = p.case_id AND f.person = p.person_id
), hits AS (
    SELECT 'CR-T01' AS rule, k.id FROM k JOIN cf ON cf.case_id = k.id WHERE k.procedure = 'arrest_review' AND k.detained
       AND coalesce(cf.arrest_on, k.closed_on, DATE '2025-12-31') > CAST(k.received_on + 7 AS DATE)
    UNION ALL SELECT 'CR-T02', k.id FROM k JOIN cf ON cf.case_id = k.id WHERE k.procedure = 'arrest_review' AND NOT k.detained AND NOT k.complex
       AND coalesce(cf.arrest_on, k.closed_on, DATE '2025-12-31') > working_day(CAST(k.received_on + 15 AS DATE))
    UNION ALL SELECT 'CR-T03', k.id FROM k JOIN cf ON cf.case_id = k.id WHERE k.procedure = 'arrest_review' AND NOT k.detained AND k.complex
       AND coalesce(cf.arrest_on, k.closed_on, DATE '2025-12-31') > working_day(CAST(k.received_on + 20 AS DATE))
    UNION ALL SELECT CASE WHEN k.detained THEN 'CR-T04' ELSE 'CR-T05' END, k.id FROM k JOIN cf ON cf.case_id = k.id
       WHERE k.procedure = 'prosecution_review' AND NOT k.fast_track AND cf.returns = 0
       AND coalesce(cf.decided_on, k.closed_on, DATE '2025-12-31') > CASE WHEN k.detained THEN CAST(k.received_on + INTERVAL 1 MONTH AS DATE)
           ELSE working_day(CAST(k.received_on + INTERVAL 1 MONTH AS DATE)) END + CAST(15 * least(cf.extensions, 1) AS INTEGER)
    UNION ALL SELECT 'CR-T09', k.id FROM k JOIN cf ON cf.case_id = k.id WHERE k.procedure = 'prosecution_review'
       AND cf.notice_on > CASE WHEN k.detained THEN CAST(k.received_on + 3 AS DATE) ELSE working_day(CAST(k.received_on + 3 AS DATE)) END
    UNION ALL SELECT 'CR-T10', k.id FROM k JOIN cf ON cf.case_id = k.id WHERE k.procedure = 'prosecution_review' AND k.closed_on IS NOT NULL AND cf.notice_on IS NULL
    UNION ALL SELECT 'CR-P01', k.id FROM k JOIN cf ON cf.case_id = k.id WHERE cf.returns > 2
    UNION ALL SELECT 'CR-P02', k.id FROM k JOIN cf ON cf.case_id = k.id WHERE cf.extensions > 0 AND NOT k.complex AND NOT k.fast_track
    UNION ALL SELECT 'GN-O01', k.id FROM k JOIN cf ON cf.case_id = k.id WHERE cf.first_on < k.received_on
    UNION ALL SELECT 'GN-O02', k.id FROM k WHERE k.closed_on < k.received_on
    UNION ALL SELECT 'GN-O07', k.id FROM k JOIN cf ON cf.case_id = k.id WHERE cf.received_event_on <> k.received_on
    UNION ALL SELECT 'CR-M01', case_id FROM p WHERE plea_leniency AND decided_on IS NOT NULL AND signed_on IS NULL
    UNION ALL SELECT 'CR-M02', case_id FROM p WHERE plea_leniency AND decision = 'prosecute' AND recommended_on IS NULL
    UNION ALL SELECT 'CR-M03', case_id FROM p WHERE procedure = 'prosecution_review' AND fast_track AND NOT plea_leniency
    UNION ALL SELECT 'CR-M08', case_id FROM p WHERE signed_on > decided_on
    UNION ALL SELECT 'CR-O03', case_id FROM p WHERE judged_on IS NOT NULL AND (decided_on IS NULL OR judged_on < decided_on OR decision <> 'prosecute')
    UNION ALL SELECT 'CR-L03', p.case_id FROM (SELECT case_id, articles, unnest(charges) AS charge, procedure FROM p) p JOIN charge_ref r ON r.name = p.charge
       WHERE p.procedure IN ('arrest_review', 'prosecution_review') AND NOT list_has_any(p.articles, r.articles)
    UNION ALL SELECT 'CR-L04', case_id FROM (SELECT case_id, unnest(articles) AS article FROM p) WHERE article NOT IN (SELECT number FROM criminal_article)
    UNION ALL SELECT 'CR-L05', case_id FROM p WHERE json_extract_string(judgment, '$.verdict') = 'guilty'
       AND len(CAST(json_extract_string(judgment, '$.charges[*]') AS VARCHAR[])) > 0
       AND list_sort(list_distinct(CAST(json_extract_string(judgment, '$.charges[*]') AS VARCHAR[]))) <> list_sort(list_distinct(charges))
    UNION ALL SELECT 'CR-J01', case_id FROM p WHERE decision = 'not_prosecute' AND decision_kind = 'conditional' AND NOT juvenile
    UNION ALL SELECT 'CV-T01', k.id FROM k WHERE k.procedure = 'civil_supervision'
       AND coalesce(k.closed_on, DATE '2025-12-31') > working_day(CAST(k.received_on + INTERVAL 3 MONTH AS DATE))
    UNION ALL SELECT 'AD-T01', k.id FROM k WHERE k.procedure = 'administrative_supervision'
       AND coalesce(k.closed_on, DATE '2025-12-31') > working_day(CAST(k.received_on + INTERVAL 3 MONTH AS DATE))
    UNION ALL SELECT 'PI-T01', k.id FROM k JOIN cf ON cf.case_id = k.id WHERE cf.pre_litigation_on IS NOT NULL
       AND coalesce(cf.reply_on, DATE '2025-12-31') > working_day(CAST(cf.pre_litigation_on + INTERVAL 2 MONTH AS DATE))
    UNION ALL SELECT 'PI-T03', k.id FROM k JOIN cf ON cf.case_id = k.id WHERE cf.notice_ended_on < working_day(CAST(cf.notice_started_on + 30 AS DATE))
)
SELECT rule, count(DISTINCT id) FROM hits GROUP BY rule ORDER BY rule
"""


def database_url(args: argparse.Namespace) -> str:
    if args.postgres:
        return f"postgres://postgres@127.0.0.1:5432/{args.postgres}"
    return f"sqlite:///{Path(args.database).resolve()}"


def jiancha(env: dict[str, str], *arguments: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "jiancha", *arguments], check=True, env=env, cwd=ROOT
    )


def prepare_database(args: argparse.Namespace) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(args),
        "DJANGO_SETTINGS_MODULE": "jiancha.settings",
    }
    if args.postgres:
        subprocess.run(
            [
                "psql",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-c",
                f"CREATE DATABASE {args.postgres}",
            ],
            capture_output=True,
            check=False,
        )
    jiancha(env, "migrate", "--no-input", "-v", "0")
    os.environ.update(env)
    import django

    django.setup()
    from jiancha.cases.models import Case

    count = Case.objects.count()
    if count < args.cases:
        if count:
            raise SystemExit(
                f"{database_url(args)} holds {count} cases, fewer than --cases {args.cases}: use another database"
            )
        started = time.perf_counter()
        jiancha(
            env,
            "demo-data",
            "--cases",
            str(args.cases),
            "--seed",
            "1",
            "--manifest",
            str(manifest_path(args)),
            "--no-evaluate",  # the cold run below evaluates them
        )
        print(
            f"filled with {args.cases} demo cases in {time.perf_counter() - started:.0f} s"
        )


def manifest_path(args: argparse.Namespace) -> Path:
    name = args.postgres or Path(args.database).stem
    return ROOT / "var" / f"{name}.manifest.jsonl"


def reset_findings() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in (
            "quality_finding",
            "quality_caseevaluation",
            "quality_evaluationrun",
        ):
            cursor.execute(f"DELETE FROM {table}")


def end_to_end(args: argparse.Namespace) -> dict[str, Any]:
    """Three runs: the database's first (no findings stored, the event facts store not
    read: every fact derived from the events, and the store written anew), cold (no findings stored; the event
    facts store made by the first run, as an import's run leaves it) and again (nothing
    changed)."""
    from jiancha.quality.services import evaluation_run

    reset_findings()
    first = evaluation_run(today=TODAY, threads=args.threads, rebuild_event_facts=True)
    reset_findings()
    cold = evaluation_run(today=TODAY, threads=args.threads)
    warm = evaluation_run(today=TODAY, threads=args.threads)
    # The store changes where the facts come from, not what is found.
    assert cold.findings_raised == first.findings_raised, (first, cold)

    def store_use(run: Any) -> dict[str, Any] | None:
        use = run.event_facts
        if use is None:
            return None
        return {
            "fresh": use.fresh,
            "stale": use.stale,
            "written": use.written,
            "write_seconds": use.seconds,
        }

    return {
        "cases": cold.cases,
        "first_seconds": first.seconds,
        "first_event_facts": store_use(first),
        "cold_seconds": cold.seconds,
        "cold_cases_per_second": cold.cases_per_second,
        "cold_event_facts": store_use(cold),
        "findings": cold.findings_raised,
        "warm_seconds": warm.seconds,
        "warm_cases_per_second": warm.cases_per_second,
        "warm_writes": warm.findings_raised
        + warm.findings_retired
        + warm.cases_changed,
    }


def stages(args: argparse.Namespace) -> dict[str, Any]:
    """Extraction, rule core and the hand-written query, on one connection."""
    from jiancha.quality.rules.source import load_from_database
    from jiancha.quality.services import default_engine

    engine = default_engine()
    con = engine.connect(threads=args.threads)
    started = time.perf_counter()
    load_from_database(con)
    extraction = time.perf_counter() - started
    counts = con.execute(
        'SELECT (SELECT count(*) FROM "case"), (SELECT count(*) FROM person), (SELECT count(*) FROM event)'
    ).fetchone()
    result = engine.evaluate(con, today=TODAY)
    core = result.seconds["total"]
    started = time.perf_counter()
    hand = dict(con.execute(HAND_WRITTEN).fetchall())
    hand_seconds = time.perf_counter() - started
    engine_counts = dict(
        con.execute(
            "SELECT rule_id, count(DISTINCT case_pk) FROM finding_new GROUP BY rule_id"
        ).fetchall()
    )
    comparison = {
        rule: (engine_counts.get(rule, 0), count)
        for rule, count in sorted(hand.items())
    }
    con.close()
    return {
        "rows": {"cases": counts[0], "persons": counts[1], "events": counts[2]},
        "extraction_seconds": extraction,
        "rule_core_seconds": core,
        "rule_core_parts": result.seconds,
        "rules": len({part.rule.id for part in engine.parts}),
        "hand_written_seconds": hand_seconds,
        "hand_written_rules": len(HAND_WRITTEN_RULES),
        "ratio_core_to_hand_written": core / hand_seconds if hand_seconds else None,
        "counts_engine_vs_hand_written": comparison,
    }


HAND_WRITTEN_RULES = sorted(
    {
        line.split("'")[1]
        for line in HAND_WRITTEN.splitlines()
        if "SELECT 'C" in line
        or "SELECT 'G" in line
        or "SELECT 'P" in line
        or "SELECT 'A" in line
    }
    | {"CR-T04", "CR-T05"}
)


def single_case(args: argparse.Namespace) -> dict[str, Any]:
    """``case_evaluate`` on a seeded sample of cases, twice (the second pass with every
    statement planned, as in a process that has been evaluating cases for a while)."""
    from django.db.models import Max, Min

    from jiancha.cases.models import Case
    from jiancha.quality.services import case_evaluate

    # Drawn from the range of ids rather than from a list of them all: reading millions
    # of ids first (the Python objects, the SQLite page cache they fill) made every
    # evaluation after it about 4 ms slower, a state no importer or web process is in.
    # (The demo's ids are contiguous: the same cases as a draw from the list.)
    bounds = Case.objects.aggregate(low=Min("id"), high=Max("id"))
    population = range(bounds["low"], bounds["high"] + 1)
    sample = random.Random(5).sample(population, min(args.sample, len(population)))
    cases = list(Case.objects.filter(pk__in=sample))
    sample = [case.pk for case in cases]
    case_evaluate(cases[0], today=TODAY)  # warm up
    results = [case_evaluate(case, today=TODAY) for case in cases]
    timings = [result.seconds for result in results]
    planned = [case_evaluate(case, today=TODAY).seconds for case in cases]
    # A case is evaluated with the other records of its matter (an arrest review with its
    # prosecution review): the single-case figures of both kinds, first pass.
    alone = [result.seconds for result in results if len(result.case_ids) == 1]
    matter = [result.seconds for result in results if len(result.case_ids) > 1]
    return {
        "sample": len(sample),
        "ids": sample,
        "case_evaluate_median_ms": statistics.median(timings) * 1000,
        "case_evaluate_p95_ms": percentile(timings, 0.95) * 1000,
        "case_evaluate_planned_median_ms": statistics.median(planned) * 1000,
        "case_evaluate_planned_p95_ms": percentile(planned, 0.95) * 1000,
        "evaluated_with_their_matter": len(matter),
        "alone_median_ms": statistics.median(alone) * 1000 if alone else None,
        "alone_p95_ms": percentile(alone, 0.95) * 1000 if alone else None,
        "with_matter_median_ms": statistics.median(matter) * 1000 if matter else None,
        "with_matter_p95_ms": percentile(matter, 0.95) * 1000 if matter else None,
        "seconds": timings,
    }


def percentile(values: list[float], share: float) -> float:
    """The value below which ``share`` of ``values`` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(int(len(ordered) * share) - 1, 0)]


def single_case_fresh(args: argparse.Namespace) -> dict[str, Any]:
    """:func:`single_case` in a new process, as the importer or a web worker runs it (not
    one that has just evaluated millions of cases: DuckDB's allocator and the page cache
    are then in another state)."""
    command = [sys.executable, __file__, "--cases", str(args.cases), "--single-case"]
    command += ["--sample", str(args.sample)]
    if args.postgres:
        command += ["--postgres", args.postgres]
    else:
        command += ["--database", args.database]
    done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    figures = json.loads(done.stdout)
    return {
        key: value for key, value in figures.items() if key not in ("ids", "seconds")
    }


def per_object(
    args: argparse.Namespace, bulk_seconds_per_case: float
) -> dict[str, Any]:
    from jiancha.cases.deadlines import case_deadlines
    from jiancha.cases.models import Case

    figures = single_case(args)
    sample = figures.pop("ids")
    timings = figures.pop("seconds")
    started = time.perf_counter()
    deadlines = 0
    for case in Case.objects.filter(pk__in=sample).prefetch_related(
        "persons", "events"
    ):
        deadlines += len(
            case_deadlines(
                case, list(case.events.all()), list(case.persons.all()), today=TODAY
            )
        )
    orm_seconds = (time.perf_counter() - started) / len(sample)
    loop = statistics.mean(timings)
    return {
        **figures,
        "loop_seconds_per_case": loop,
        "bulk_faster_than_loop": loop / bulk_seconds_per_case,
        "orm_deadlines_seconds_per_case": orm_seconds,
        "bulk_faster_than_orm_deadlines_only": orm_seconds / bulk_seconds_per_case,
    }


def recall(args: argparse.Namespace) -> dict[str, Any]:
    from jiancha.quality.models import Finding

    path = manifest_path(args)
    if not path.exists():
        return {}
    found: dict[tuple[str, str], set[str]] = {}
    for unit_code, case_id, rule_id in (
        Finding.objects.filter(current=True)
        .values_list("unit__code", "case__case_id", "rule_id")
        .iterator(chunk_size=20000)
    ):
        found.setdefault((unit_code, case_id), set()).add(rule_id)
    seen: dict[str, list[int]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        rules = found.get((item["unit_code"], item["case_id"]), set())
        for defect in item["defects"]:
            hits = seen.setdefault(defect, [0, 0])
            hits[1] += 1
            hits[0] += bool(rules & DEFECT_RULES.get(defect, set()))
    return {defect: f"{hit}/{total}" for defect, (hit, total) in sorted(seen.items())}


def main() -> None:
    # As the jiancha command runs (jemalloc as malloc where installed; JIANCHA_MALLOC=system
    # measures glibc's): the single-case figures depend on it.
    from jiancha.core.allocator import use_jemalloc

    use_jemalloc()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, required=True)
    parser.add_argument(
        "--database", default=str(ROOT / "var" / "bench_quality.sqlite3")
    )
    parser.add_argument(
        "--postgres", default="", help="use this PostgreSQL database instead of SQLite"
    )
    parser.add_argument("--sample", type=int, default=200)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument(
        "--json", default="", help="also write the figures to this file"
    )
    parser.add_argument(
        "--single-case",
        action="store_true",
        help="only time case_evaluate on the sample and print JSON (run in a new process by the benchmark)",
    )
    args = parser.parse_args()
    if args.single_case:
        os.environ["DATABASE_URL"] = database_url(args)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiancha.settings")
        import django

        django.setup()
        print(json.dumps(single_case(args)))
        return
    prepare_database(args)
    figures: dict[str, Any] = {
        "database": "postgresql" if args.postgres else "sqlite",
        "load_average": os.getloadavg(),
        "malloc": os.environ.get("LD_PRELOAD") or "glibc",
    }
    figures["end_to_end"] = end_to_end(args)
    figures["stages"] = stages(args)
    # Per case in bulk: the first run's (every fact derived from the events).
    per_case = figures["end_to_end"]["first_seconds"] / max(
        figures["end_to_end"]["cases"], 1
    )
    figures["per_object"] = per_object(args, per_case)
    figures["single_case_new_process"] = single_case_fresh(args)
    figures["defect_recall"] = recall(args)
    figures["load_average_after"] = os.getloadavg()
    text = json.dumps(figures, indent=2, default=str)
    print(text)
    if args.json:
        Path(args.json).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
