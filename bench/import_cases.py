"""Throughput of ``import_lines`` against a per-object ORM loop, on SQLite and PostgreSQL.

    python bench/import_cases.py --cases 1000000 [--engines sqlite,postgresql] [--sample 2000]

Generates N realistic synthetic exchange lines (fixed seed; about 1.5 persons and 7 events
per case, a fifth of them civil, administrative or public-interest cases) into a temporary
file, then for each engine, in a subprocess configured for it: creates a fresh database
(a temporary SQLite file; PostgreSQL database ``jiancha_bench_import``, dropped and
recreated), migrates it, times ``import_lines`` over the whole file, and times a naive
per-object ORM loop (``Case.objects.create`` and ``save()`` of each person, event and
charge, in one transaction) over a sample of other cases. Prints cases/s and the ratio.
Targets (issue "Foundation", item 5): >= 20,000 cases/s on both engines, >= 10x the loop.
"""

import argparse
import datetime
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
PG_DATABASE = "jiancha_bench_import"
PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")

# A few basic units of the procuratorate tree and common charges with their articles.
UNITS = [
    "330106",
    "330102",
    "110105",
    "110108",
    "440106",
    "310115",
    "510107",
    "420111",
    "320106",
    "370102",
]
CHARGES = [
    ("盗窃罪", "264"),
    ("危险驾驶罪", "133-1"),
    ("故意伤害罪", "234"),
    ("诈骗罪", "266"),
    ("帮助信息网络犯罪活动罪", "287-2"),
    ("走私、贩卖、运输、制造毒品罪", "347"),
    ("寻衅滋事罪", "293"),
    ("开设赌场罪", "303"),
    ("掩饰、隐瞒犯罪所得、犯罪所得收益罪", "312"),
    ("交通肇事罪", "133"),
    ("非法吸收公众存款罪", "176"),
    ("组织、领导传销活动罪", "224-1"),
]
CRIMINAL_LINES = ["ordinary_crime"] * 6 + [
    "major_crime",
    "economic_crime",
    "economic_crime",
    "juvenile",
    "duty_crime",
]
FACTS = "经审查查明：被告人于某日在某地实施上述行为，数额较大，证据确实、充分。"


def _day(start: datetime.date, days: int) -> str:
    return (start + datetime.timedelta(days=days)).isoformat()


def synthetic_case(rng: random.Random, number: int) -> dict[str, Any]:
    """One plausible case in the exchange format."""
    unit = rng.choice(UNITS)
    year = rng.choice((2022, 2023, 2024, 2025))
    received = datetime.date(year, 1, 1) + datetime.timedelta(days=rng.randrange(365))
    criminal = rng.random() < 0.8
    closed = rng.random() < 0.85
    if criminal:
        procedure = "prosecution_review" if rng.random() < 0.65 else "arrest_review"
        line = rng.choice(CRIMINAL_LINES)
        count = rng.choices((1, 2, 3, 4), weights=(45, 30, 15, 10))[0]
        persons = []
        for index in range(count):
            charge, article = (
                rng.choice(CHARGES) if index == 0 or rng.random() < 0.3 else CHARGES[0]
            )
            persons.append(
                {
                    "person_id": "ABCD"[index],
                    "juvenile": line == "juvenile",
                    "charges": [charge],
                    "articles": [article],
                    "plea_leniency": rng.random() < 0.85,
                }
            )
        events: list[dict[str, Any]] = [
            {"type": "received", "on": received.isoformat()}
        ]
        for person in persons:
            events.append(
                {
                    "type": "rights_notified",
                    "on": _day(received, 2),
                    "person": person["person_id"],
                }
            )
        if procedure == "arrest_review":
            for person in persons:
                approved = rng.random() < 0.75
                event: dict[str, Any] = {
                    "type": "arrest_decided",
                    "on": _day(received, 6),
                    "person": person["person_id"],
                    "decision": "approved" if approved else "not_approved",
                }
                if not approved:
                    event["reason"] = rng.choice(
                        ("no_crime", "insufficient_evidence", "no_necessity")
                    )
                events.append(event)
        else:
            day = 10
            if rng.random() < 0.2:
                events.append(
                    {"type": "returned_for_investigation", "on": _day(received, day)}
                )
                day += 30
                events.append({"type": "resubmitted", "on": _day(received, day)})
            for person in persons:
                if person["plea_leniency"]:
                    events.append(
                        {
                            "type": "plea_agreement_signed",
                            "on": _day(received, day + 5),
                            "person": person["person_id"],
                        }
                    )
                    events.append(
                        {
                            "type": "sentencing_recommended",
                            "on": _day(received, day + 5),
                            "person": person["person_id"],
                            "kind": "fixed",
                            "months": rng.randrange(3, 60),
                        }
                    )
            for person in persons:
                prosecute = rng.random() < 0.9
                event = {
                    "type": "prosecution_decided",
                    "on": _day(received, day + 12),
                    "person": person["person_id"],
                    "decision": "prosecute" if prosecute else "not_prosecute",
                }
                if not prosecute:
                    event["kind"] = rng.choice(
                        ("statutory", "discretionary", "evidentiary", "conditional")
                    )
                events.append(event)
                if prosecute and closed:
                    events.append(
                        {
                            "type": "judgment",
                            "on": _day(received, day + 60),
                            "person": person["person_id"],
                            "instance": 1,
                            "verdict": "guilty",
                            "months": rng.randrange(3, 60),
                            "recommendation_adopted": rng.random() < 0.9,
                        }
                    )
        closed_on = _day(received, rng.randrange(5, 45)) if closed else None
    else:
        procedure = rng.choice(
            ("civil_supervision", "administrative_supervision", "public_interest")
        )
        line = {
            "civil_supervision": "civil",
            "administrative_supervision": "administrative",
            "public_interest": "public_interest",
        }[procedure]
        persons = []
        events = [{"type": "received", "on": received.isoformat()}]
        if procedure == "public_interest":
            events.append({"type": "public_notice_started", "on": _day(received, 5)})
            events.append({"type": "public_notice_ended", "on": _day(received, 35)})
            events.append(
                {
                    "type": "recommendation_issued",
                    "on": _day(received, 40),
                    "kind": "pre_litigation",
                }
            )
            events.append(
                {
                    "type": "reply_received",
                    "on": _day(received, 100),
                    "adopted": rng.random() < 0.8,
                }
            )
            events.append({"type": "suit_filed", "on": _day(received, 120)})
            events.append(
                {"type": "judgment", "on": _day(received, 200), "supported": True}
            )
        else:
            events.append(
                {
                    "type": "recommendation_issued",
                    "on": _day(received, 60),
                    "kind": rng.choice(("retrial", "violation")),
                }
            )
            events.append(
                {
                    "type": "reply_received",
                    "on": _day(received, 100),
                    "adopted": rng.random() < 0.8,
                }
            )
            events.append({"type": "protest", "on": _day(received, 80)})
            events.append(
                {
                    "type": "protest_result",
                    "on": _day(received, 150),
                    "changed": rng.random() < 0.5,
                }
            )
            events.append({"type": "terminated", "on": _day(received, 160)})
        closed_on = _day(received, 90) if closed else None
    record: dict[str, Any] = {
        "case_id": f"{unit}刑诉受〔{year}〕{number:07d}号",
        "unit_code": unit,
        "business_line": line,
        "procedure": procedure,
        "procurator_id": f"P{rng.randrange(1, 40):04d}",
        "received_on": received.isoformat(),
        "closed_on": closed_on,
        "detained": criminal and rng.random() < 0.4,
        "fast_track": criminal and rng.random() < 0.2,
        "complex": rng.random() < 0.05,
        "persons": persons,
        "events": events,
    }
    if rng.random() < 0.3:
        record["matter_id"] = f"M{unit}{year}{number:07d}"
    if rng.random() < 0.5:
        record["facts"] = FACTS
    return record


def generate(
    path: Path, cases: int, *, seed: int = 20240501, start: int = 1
) -> dict[str, float]:
    rng = random.Random(seed)
    persons = events = 0
    with open(path, "w", encoding="utf-8") as handle:
        for number in range(start, start + cases):
            record = synthetic_case(rng, number)
            persons += len(record["persons"])
            events += len(record["events"])
            handle.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
            handle.write("\n")
    return {
        "persons": persons / cases,
        "events": events / cases,
        "bytes": path.stat().st_size,
    }


def database_url(engine: str, workdir: Path) -> str:
    if engine == "postgresql":
        return f"{PG_SERVER}/{PG_DATABASE}"
    return f"sqlite:///{workdir / 'bench_import.sqlite3'}"


def fresh_database(engine: str, workdir: Path) -> None:
    if engine == "postgresql":
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {PG_DATABASE}")
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{workdir / 'bench_import.sqlite3'}{suffix}").unlink(missing_ok=True)


# --- the per-engine run (a subprocess, so that each gets its own Django settings) ---------


def naive_loop(records: list[dict[str, Any]]) -> float:
    """The straightforward ORM way, one object at a time, in one transaction."""
    from django.db import transaction
    from django.utils import timezone

    from jiancha.accounts.models import Unit
    from jiancha.cases.models import Case, CaseCharge, Event, Person

    units = dict(Unit.objects.values_list("code", "id"))
    started = time.perf_counter()
    with transaction.atomic():
        for record in records:
            now = timezone.now()
            charges = [
                charge for person in record["persons"] for charge in person["charges"]
            ]
            case = Case.objects.create(
                unit_id=units[record["unit_code"]],
                case_id=record["case_id"],
                matter_id=record.get("matter_id", ""),
                business_line=record["business_line"],
                procedure=record["procedure"],
                procurator_id=record["procurator_id"],
                received_on=datetime.date.fromisoformat(record["received_on"]),
                closed_on=datetime.date.fromisoformat(record["closed_on"])
                if record["closed_on"]
                else None,
                detained=record["detained"],
                fast_track=record["fast_track"],
                complex=record["complex"],
                facts=record.get("facts", ""),
                primary_charge=charges[0] if charges else "",
                person_count=len(record["persons"]),
                created_at=now,
                updated_at=now,
            )
            for position, data in enumerate(record["persons"]):
                Person(case=case, position=position, **data).save()
            for position, data in enumerate(record["events"]):
                details = {
                    key: value
                    for key, value in data.items()
                    if key not in ("type", "on", "person")
                }
                Event(
                    case=case,
                    position=position,
                    type=data["type"],
                    on=datetime.date.fromisoformat(data["on"]),
                    person=data.get("person", ""),
                    details=details,
                ).save()
            for charge in dict.fromkeys(charges):
                CaseCharge(case=case, charge=charge).save()
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed


def _server_cpu(connection: Any) -> float:
    """CPU seconds used so far by this connection's PostgreSQL backend (same machine)."""
    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().split()
    except OSError:
        return 0.0
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")


def _children_cpu() -> float:
    times = os.times()
    return times.children_user + times.children_system


def _timed_import(
    connection: Any, lines: Any, **kwargs: Any
) -> tuple[Any, float, float, float]:
    """The result and the CPU seconds of this process, its parsing workers, the backend."""
    from jiancha.cases.importer import import_lines

    cpu, workers, server = time.process_time(), _children_cpu(), _server_cpu(connection)
    result = import_lines(lines, notify=False, **kwargs)  # the import alone, no evaluation
    return (
        result,
        time.process_time() - cpu,
        _children_cpu() - workers,
        _server_cpu(connection) - server,
    )


def run_engine(engine: str, path: Path, sample: int, progress: bool) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from jiancha.cases.models import Case, Event, Person

    call_command("migrate", verbosity=0)
    with open(path, "rb") as handle:
        total = sum(1 for _line in handle)
    load = os.getloadavg()[0]
    with open(path, "rb") as handle:
        result, cpu, workers, server = _timed_import(
            connection, handle, source=str(path), progress=progress, total=total
        )
    rate = result.created / result.seconds
    counts = (Case.objects.count(), Person.objects.count(), Event.objects.count())
    print(
        f"[{engine}] import_lines, empty database (bulk mode): {result.created:,} cases in "
        f"{result.seconds:.1f} s = {rate:,.0f} cases/s ({counts[1]:,} persons, "
        f"{counts[2]:,} events); CPU per case: importing process "
        f"{cpu / total * 1e6:.0f} us, parsing workers {workers / total * 1e6:.0f} us"
        + (f", PostgreSQL backend {server / total * 1e6:.0f} us" if server else "")
        + f"; load average before {load:.1f} on {os.cpu_count()} cores",
        flush=True,
    )

    # New cases into the loaded tables: indexes are updated row by row.
    rng = random.Random(7)
    extra = [
        orjson.dumps(synthetic_case(rng, 50_000_000 + number))
        for number in range(min(total, 50_000))
    ]
    more, *_cpu = _timed_import(connection, extra, source="more")
    print(
        f"[{engine}] import_lines, {more.created:,} new cases into the loaded tables: "
        f"{more.seconds:.1f} s = {more.created / more.seconds:,.0f} cases/s",
        flush=True,
    )

    # Re-importing a slice: every case is an update.
    with open(path, "rb") as handle:
        head = [line for _index, line in zip(range(len(extra)), handle, strict=False)]
    update, *_cpu = _timed_import(connection, head, source="update")
    print(
        f"[{engine}] re-import of {update.updated:,} cases (updates): {update.seconds:.1f} s = "
        f"{update.updated / update.seconds:,.0f} cases/s",
        flush=True,
    )

    rng = random.Random(99)
    records = [synthetic_case(rng, 90_000_000 + number) for number in range(sample)]
    naive = naive_loop(records)
    naive_rate = sample / naive
    print(
        f"[{engine}] naive ORM loop: {sample:,} cases in {naive:.1f} s = "
        f"{naive_rate:,.0f} cases/s; import_lines (empty database) is "
        f"{rate / naive_rate:.1f}x, into loaded tables {more.created / more.seconds / naive_rate:.1f}x",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument(
        "--sample", type=int, default=2000, help="cases for the naive ORM loop"
    )
    parser.add_argument(
        "--progress", action="store_true", help="show the import progress bar"
    )
    parser.add_argument("--engine-run", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.engine_run:
        run_engine(args.engine_run, Path(args.file), args.sample, args.progress)
        return

    with tempfile.TemporaryDirectory(prefix="jiancha-bench-import-") as tmp:
        workdir = Path(tmp)
        path = workdir / "cases.jsonl"
        started = time.perf_counter()
        shape = generate(path, args.cases)
        print(
            f"generated {args.cases:,} cases ({shape['persons']:.2f} persons, {shape['events']:.2f} events per case, "
            f"{shape['bytes'] / 1e6:,.0f} MB) in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
        for engine in args.engines.split(","):
            fresh_database(engine, workdir)
            env = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "jiancha.settings",
                "DATABASE_URL": database_url(engine, workdir),
                "PYTHONPATH": str(ROOT),
            }
            command = [
                sys.executable,
                __file__,
                "--engine-run",
                engine,
                "--file",
                str(path),
                "--sample",
                str(args.sample),
            ]
            if args.progress:
                command.append("--progress")
            subprocess.run(command, env=env, check=True)


if __name__ == "__main__":
    main()
