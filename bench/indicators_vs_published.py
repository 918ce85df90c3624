"""The library's formulas against the SPP's published figures, and the demo data against them.

    python bench/indicators_vs_published.py [--snapshot var/bench_indicators.duckdb] [--cases 100000]

Part 1 recomputes the published rates (不捕率, 不诉率, 诉前羁押率, juvenile rates) from the
published counts in ../shared/data/spp_national_statistics/figures.csv with the formulas of
the indicator definitions: each definition's numerator and denominator are filters over
decisions (e.g. ``arrest_decided`` with ``decision`` in {approved, not_approved}); the
published counts fill those decisions, and the definition's own value lists decide what is
added up. It prints the computed rate, the published rate and the difference.

Part 2 computes the national values of the demo data (the root unit, 2024) and compares
them with the targets the generator was calibrated to (jiancha/cases/data/
demo_calibration.json): each should be within 2 percentage points.
"""

import argparse
import csv
import datetime
import math
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIGURES = Path(os.environ.get("JIANCHA_SHARED_DATA", ROOT.parent / "shared" / "data")) / "spp_national_statistics" / "figures.csv"

# Published count (metric_cn) -> the decision it counts, per (event type, decision value).
COUNT_METRICS = {
    "批准和决定逮捕": ("arrest_decided", "decision", "approved"),
    "批准逮捕": ("arrest_decided", "decision", "approved"),
    "不捕": ("arrest_decided", "decision", "not_approved"),
    "依法不批捕": ("arrest_decided", "decision", "not_approved"),
    "决定起诉": ("prosecution_decided", "decision", "prosecute"),
    "提起公诉": ("prosecution_decided", "decision", "prosecute"),
    "决定不起诉": ("prosecution_decided", "decision", "not_prosecute"),
    "不起诉": ("prosecution_decided", "decision", "not_prosecute"),
    "依法不起诉": ("prosecution_decided", "decision", "not_prosecute"),
}
RATE_METRICS = {
    "non_arrest_rate": ["不捕率"],
    "non_prosecution_rate": ["不起诉率", "不诉率"],
    "pretrial_detention_rate": ["诉前羁押率"],
}
# Juvenile counts published only in notes: (period, indicator) -> counts and published rate.
JUVENILE = [
    ("2022-Q1(1-3月)", "juvenile_non_arrest_rate", {("arrest_decided", "decision", "approved"): 4269, ("arrest_decided", "decision", "not_approved"): 6774}, 61.3),
    ("2022-H1(1-6月)", "juvenile_non_arrest_rate", {("arrest_decided", "decision", "approved"): 6988, ("arrest_decided", "decision", "not_approved"): 12223}, 63.6),
    ("2022-Q1(1-3月)", "juvenile_non_prosecution_rate", {("prosecution_decided", "decision", "prosecute"): 6808, ("prosecution_decided", "decision", "not_prosecute"): 6038}, 47.0),
]
# Indicator -> target in the demo calibration (same definition).
CALIBRATION = {
    "non_arrest_rate": "non_arrest_rate",
    "non_prosecution_rate": "non_prosecution_rate",
    "pretrial_detention_rate": "pre_prosecution_detention_rate",
    "plea_leniency_rate": "plea_leniency_rate",
    "fixed_recommendation_rate": "fixed_sentence_share",
    "recommendation_adoption_rate": "recommendation_adoption_rate",
    "acquittal_rate": "acquittal_rate",
    "protest_change_rate": "protest_change_rate",
    "return_rate": "return_rate",
    "extension_rate": "extension_rate",
    "civil_retrial_recommendation_adoption_rate": "retrial_recommendation_adoption",
    "civil_violation_recommendation_adoption_rate": "civil_violation_recommendation_adoption",
    "administrative_recommendation_adoption_rate": "administrative_recommendation_adoption",
    "pre_litigation_rectification_rate": "pre_litigation_rectification_rate",
    "public_interest_support_rate": "public_interest_support_rate",
}


def setup_django(database: Path | None, snapshot: Path | None) -> None:
    if database is not None:
        os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    if snapshot is not None:
        os.environ["JIANCHA_ANALYTICS_SNAPSHOT"] = str(snapshot)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiancha.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def measure_value(measure, counts: dict[tuple[str, str, str], float]) -> float | None:
    """Evaluate a definition's measure on published decision counts; None if a count is missing."""
    total = 0.0
    for term in measure.terms:
        if term.count != "persons" or term.person or term.relations or term.case:
            return None
        conditions = dict(term.event)
        types = conditions.pop("type", ())
        if list(conditions) != ["decision"]:
            return None
        for event_type in types:
            for decision in conditions["decision"]:
                key = (event_type, "decision", decision)
                if key not in counts:
                    return None
                total += counts[key]
    return total


def part_one() -> None:
    from jiancha.indicators.definitions import definition_set

    definitions = definition_set("current")
    rows = list(csv.DictReader(FIGURES.open(encoding="utf-8")))
    periods: dict[str, dict[str, dict[str, str]]] = {}
    for row in rows:
        periods.setdefault(row["period"], {})[row["metric_cn"]] = row
    print(f"Part 1: published rates recomputed from published counts ({FIGURES})")
    print(f"{'period':<20} {'indicator':<30} {'formula inputs':<40} {'computed':>9} {'published':>10} {'diff':>8}")
    for period, metrics in periods.items():
        counts: dict[tuple[str, str, str], float] = {}
        for metric, row in metrics.items():
            if metric in COUNT_METRICS and row["unit"] == "万人":
                counts[COUNT_METRICS[metric]] = float(row["value"]) * 10_000
        for indicator_id, names in RATE_METRICS.items():
            indicator = definitions.get(indicator_id)
            numerator = measure_value(indicator.numerator, counts)
            denominator = measure_value(indicator.denominator, counts)
            published = next((metrics[name] for name in names if name in metrics), None)
            if numerator is None or not denominator:
                continue
            computed = numerator / denominator * 100
            inputs = f"{numerator / 10_000:.1f}万 / {denominator / 10_000:.1f}万"
            if published is not None:
                value = float(published["value"])
                print(f"{period:<20} {indicator_id:<30} {inputs:<40} {computed:>8.1f}% {value:>9.1f}% {computed - value:>+7.1f}")
            else:
                print(f"{period:<20} {indicator_id:<30} {inputs:<40} {computed:>8.1f}% {'(none)':>10} {'':>8}")
    for period, indicator_id, counts, published_value in JUVENILE:
        indicator = definitions.get(indicator_id)
        # The juvenile definitions filter on the person's age; the published counts are
        # already of juveniles, so the decision part of the formula is what applies.
        base = definitions.get(indicator_id.replace("juvenile_", ""))
        numerator = measure_value(base.numerator, counts)
        denominator = measure_value(base.denominator, counts)
        computed = numerator / denominator * 100
        inputs = f"{numerator:,.0f} / {denominator:,.0f}"
        print(f"{period:<20} {indicator.id:<30} {inputs:<40} {computed:>8.1f}% {published_value:>9.1f}% {computed - published_value:>+7.1f}")


def ensure_demo_snapshot(cases: int) -> tuple[Path, Path]:
    database = ROOT / "var" / "bench_published.sqlite3"
    snapshot = ROOT / "var" / "bench_published.duckdb"
    if snapshot.exists():
        return database, snapshot
    database.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(str(database) + suffix).unlink(missing_ok=True)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "JIANCHA_ANALYTICS_SNAPSHOT": str(snapshot)}
    command = str(ROOT / ".venv" / "bin" / "jiancha")
    subprocess.run([command, "migrate", "-v", "0"], check=True, env=env, cwd=ROOT)
    subprocess.run([command, "demo-data", "--cases", str(cases), "--seed", "1", "--no-evaluate"], check=True, env=env, cwd=ROOT)
    subprocess.run([command, "build-snapshot"], check=True, env=env, cwd=ROOT)
    return database, snapshot


def part_two(snapshot: Path) -> int:
    from jiancha.cases.demo import calibration
    from jiancha.indicators.definitions import definition_set
    from jiancha.indicators.engines import SnapshotEngine
    from jiancha.indicators.services import indicator_compute

    targets = calibration()["targets"]
    year = int(calibration().get("year", 2024))
    date_from, date_to = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    definitions = definition_set("current")
    indicators = [definitions.get(indicator_id) for indicator_id in CALIBRATION]
    with SnapshotEngine(snapshot) as engine:
        info = engine.info()
        unit_ids, parent_ids = engine.unit_tree()
        root = int(unit_ids[parent_ids == 0][0])
        table = indicator_compute(indicators=indicators, date_from=date_from, date_to=date_to, by=None, engine=engine, targets=None, outputs=[root])
    label = f"{date_from}/{date_to}"
    print()
    print(f"Part 2: demo data ({info['cases']:,} cases in {snapshot}) against its calibration targets, national, {year}")
    print(f"{'indicator':<46} {'numerator':>10} {'denominator':>12} {'demo':>8} {'target':>8} {'diff':>7}  within 2 points")
    failures = 0
    for column, indicator in enumerate(indicators):
        numerator, denominator = table.get(root, label, column)
        target = targets[CALIBRATION[indicator.id]]
        value = numerator / denominator * 100 if denominator else float("nan")
        goal = float(target["value"]) * 100
        # Judge only when sampling noise alone cannot move the rate by 2 points (95%).
        noise = 196 * math.sqrt(max(goal / 100 * (1 - goal / 100), 1e-6) / denominator) if denominator else float("inf")
        if noise > 2:
            verdict = f"sample too small to judge (noise +-{min(noise, 99):.1f} points)"
        else:
            within = abs(value - goal) <= 2
            failures += not within
            verdict = "yes" if within else "NO"
        print(f"{indicator.id:<46} {numerator:>10,} {denominator:>12,} {value:>7.2f}% {goal:>7.2f}% {value - goal:>+6.2f}  {verdict} ({target['kind']})")
    return failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--snapshot", type=Path, help="a snapshot of demo data (default: var/bench_indicators.duckdb if present)")
    parser.add_argument("--cases", type=int, default=100_000, help="demo cases to generate when no snapshot is given or found")
    args = parser.parse_args()
    snapshot = args.snapshot
    database = None
    if snapshot is None:
        candidate = ROOT / "var" / "bench_indicators.duckdb"
        if candidate.exists():
            snapshot = candidate
        else:
            database, snapshot = ensure_demo_snapshot(args.cases)
    setup_django(database, snapshot)
    part_one()
    failures = part_two(snapshot.resolve())
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
