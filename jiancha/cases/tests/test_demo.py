"""The demo data generator and the ``demo-data`` command."""

import datetime
import io
import math
import time
import tracemalloc
from collections import Counter, defaultdict
from functools import cache
from itertools import islice
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
from django.core.management import call_command

from jiancha.accounts.demo import demo_unit_by_code, demo_units, unit_procurators
from jiancha.accounts.models import Staff
from jiancha.cases import demo
from jiancha.cases.deadlines import case_deadlines
from jiancha.cases.exchange import InvalidRecord, parse_line
from jiancha.cases.models import Case
from jiancha.law.reference import charge_articles

SAMPLE = 20000
SEED = 11


@cache
def sample() -> tuple[tuple[dict[str, Any], tuple[str, ...]], ...]:
    """A default-range run shared by the tests below (records are only read)."""
    return tuple(
        (record, tuple(defects))
        for record, defects in demo.generate_cases_with_defects(SAMPLE, SEED)
    )


def records() -> list[dict[str, Any]]:
    return [record for record, _defects in sample()]


def day(text: str | None) -> datetime.date | None:
    return None if text is None else datetime.date.fromisoformat(text)


def deadlines_of(record: dict[str, Any]) -> list[Any]:
    """The statutory deadlines of a record, as the case page computes them, on the snapshot day."""
    case = SimpleNamespace(
        procedure=record["procedure"],
        business_line=record["business_line"],
        detained=record["detained"],
        complex=record["complex"],
        fast_track=record["fast_track"],
        received_on=day(record["received_on"]),
        closed_on=day(record["closed_on"]),
    )
    events = [
        SimpleNamespace(
            pk=position,
            position=position,
            type=event["type"],
            on=day(event["on"]),
            person=event.get("person", ""),
            details={
                k: v for k, v in event.items() if k not in {"type", "on", "person"}
            },
        )
        for position, event in enumerate(record["events"])
    ]
    persons = [
        SimpleNamespace(person_id=person["person_id"]) for person in record["persons"]
    ]
    return case_deadlines(case, events, persons, today=demo.DEFAULT_TO)


def missed(record: dict[str, Any]) -> set[str]:
    """Keys of the deadlines the record missed (or is overdue on at the snapshot)."""
    return {d.key for d in deadlines_of(record) if d.status in {"missed", "overdue"}}


def mismatched_articles(record: dict[str, Any]) -> bool:
    articles = charge_articles()
    for person in record["persons"]:
        expected = {a for charge in person["charges"] for a in articles[charge]}
        if set(person["articles"]) != expected:
            return True
    return False


def returns(record: dict[str, Any]) -> int:
    return sum(
        1 for event in record["events"] if event["type"] == "returned_for_investigation"
    )


def unnotified(record: dict[str, Any]) -> bool:
    notified = {
        e.get("person") for e in record["events"] if e["type"] == "rights_notified"
    }
    return any(person["person_id"] not in notified for person in record["persons"])


# --- determinism and streaming -------------------------------------------------------------------


def test_same_seed_gives_identical_records() -> None:
    first = [orjson.dumps(r) for r in islice(demo.generate_cases(SAMPLE, 3), 500)]
    second = [orjson.dumps(r) for r in islice(demo.generate_cases(SAMPLE, 3), 500)]
    assert first == second


def test_another_seed_gives_other_records() -> None:
    first = [orjson.dumps(r) for r in islice(demo.generate_cases(SAMPLE, 3), 500)]
    other = [orjson.dumps(r) for r in islice(demo.generate_cases(SAMPLE, 4), 500)]
    assert first != other
    assert sum(a == b for a, b in zip(first, other, strict=True)) < 10


def test_generator_yields_exactly_the_count() -> None:
    assert sum(1 for _record in demo.generate_cases(1234, 2)) == 1234
    assert list(demo.generate_cases(0, 2)) == []


def test_generator_is_lazy_and_streams() -> None:
    list(islice(demo.generate_cases(10, 1), 10))  # load the packaged tables once
    started = time.perf_counter()
    first = list(islice(demo.generate_cases(5_000_000, 1), 1000))
    assert len(first) == 1000
    assert time.perf_counter() - started < 5
    tracemalloc.start()
    try:
        for _record in islice(demo.generate_cases(5_000_000, 1), SAMPLE):
            pass
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Holding 20,000 records would take far more than this.
    assert peak < 32_000_000


# --- realism -----------------------------------------------------------------------------------------


def test_every_record_passes_the_import_validation() -> None:
    units = {unit.code: unit.index + 1 for unit in demo_units()}
    for number, record in enumerate(records(), 1):
        try:
            parse_line(orjson.dumps(record), units)
        except InvalidRecord as error:  # pragma: no cover (shows the record on failure)
            pytest.fail(f"record {number} {record['case_id']}: {error}")


def test_charges_and_articles_come_from_the_current_list() -> None:
    articles = charge_articles()
    assert set(demo.CHARGE_WEIGHTS) <= set(articles)
    charges = Counter()
    for record, defects in sample():
        for person in record["persons"]:
            charges.update(person["charges"][:1])
            assert set(person["charges"]) <= set(articles)
        if "article_mismatch" not in defects:
            assert not mismatched_articles(record), record["case_id"]
    top = [name for name, _count in charges.most_common(10)]
    assert top[:2] == ["危险驾驶罪", "盗窃罪"]
    assert {"帮助信息网络犯罪活动罪", "诈骗罪", "故意伤害罪", "开设赌场罪"} <= set(top)


def test_units_are_weighted_and_never_functional_zones() -> None:
    units = demo_unit_by_code()
    levels = Counter()
    for record in records():
        unit = units[record["unit_code"]]
        assert unit.kind not in {"basic_functional_zone", "supreme"}
        levels[unit.level] += 1
        assert (
            record["procurator_id"]
            in unit_procurators(record["unit_code"])[record["business_line"]]
        )
    assert levels[3] > 0.8 * SAMPLE
    assert levels[2] > 0.03 * SAMPLE
    assert levels[1] > 0
    provinces = Counter(record["unit_code"][:2] for record in records())
    assert provinces["44"] > provinces["46"] * 4  # 广东 handles far more than 海南


def test_arrest_and_prosecution_reviews_share_the_matter() -> None:
    matters: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records():
        if record.get("matter_id"):
            matters[record["matter_id"]].append(record)
    pairs = [group for group in matters.values() if len(group) == 2]
    assert len(pairs) > 0.15 * SAMPLE / 2
    for arrest, prosecution in pairs:
        assert (arrest["procedure"], prosecution["procedure"]) == (
            "arrest_review",
            "prosecution_review",
        )
        assert arrest["unit_code"] == prosecution["unit_code"]
        assert arrest["procurator_id"] == prosecution["procurator_id"]
        assert [p["person_id"] for p in arrest["persons"]] == [
            p["person_id"] for p in prosecution["persons"]
        ]
        assert arrest["closed_on"] is not None
        assert arrest["closed_on"] < prosecution["received_on"]
    assert all(len(group) <= 2 for group in matters.values())


def test_every_function_and_line_is_present_and_recent_cases_are_open() -> None:
    procedures = Counter(record["procedure"] for record in records())
    lines = Counter(record["business_line"] for record in records())
    assert set(procedures) == {
        "arrest_review",
        "prosecution_review",
        "civil_supervision",
        "administrative_supervision",
        "public_interest",
        "criminal_complaint",
        "other",
    }
    assert set(lines) == set(demo.LEVEL_SHARES)
    criminal = procedures["arrest_review"] + procedures["prosecution_review"]
    assert 0.70 < criminal / SAMPLE < 0.86
    open_records = [record for record in records() if record["closed_on"] is None]
    assert 0 < len(open_records) < 0.08 * SAMPLE
    assert all(record["received_on"] >= "2025-09-01" for record in open_records)
    for record in records():
        assert (
            demo.DEFAULT_FROM.isoformat()
            <= record["received_on"]
            <= demo.DEFAULT_TO.isoformat()
        )
        assert all(
            event["on"] <= demo.DEFAULT_TO.isoformat() for event in record["events"]
        )


def test_juveniles_and_plea_leniency_occur() -> None:
    persons = [person for record in records() for person in record["persons"]]
    juveniles = sum(person["juvenile"] for person in persons)
    assert 0.02 < juveniles / len(persons) < 0.08
    assert all(
        any(person["juvenile"] for person in record["persons"])
        for record in records()
        if record["business_line"] == "juvenile"
    )
    assert (
        Counter(len(record["persons"]) for record in records() if record["persons"])[3]
        > 0
    )


# --- calibration -----------------------------------------------------------------------------------


def national_rates(items: list[dict[str, Any]]) -> dict[str, float]:
    counts: Counter[str] = Counter()
    for record in items:
        plea = {
            person["person_id"]: person["plea_leniency"] for person in record["persons"]
        }
        for event in record["events"]:
            kind = event["type"]
            if kind == "arrest_decided":
                counts["arrest_decisions"] += 1
                counts["not_approved"] += event["decision"] == "not_approved"
                counts["approved"] += event["decision"] == "approved"
            elif kind == "prosecution_decided":
                counts["prosecution_decisions"] += 1
                counts["not_prosecuted"] += event["decision"] == "not_prosecute"
                counts["plea"] += bool(plea.get(event["person"]))
            elif kind == "sentencing_recommended":
                counts["recommendations"] += 1
                counts["fixed"] += event["kind"] == "fixed"
            elif kind == "judgment" and event.get("instance") == 1:
                counts["judgments"] += 1
                counts["acquitted"] += event["verdict"] == "acquitted"
                if "recommendation_adopted" in event:
                    counts["judged_recommendations"] += 1
                    counts["adopted"] += event["recommendation_adopted"]
    return {
        "non_arrest_rate": counts["not_approved"] / counts["arrest_decisions"],
        "non_prosecution_rate": counts["not_prosecuted"]
        / counts["prosecution_decisions"],
        "pre_prosecution_detention_rate": counts["approved"]
        / counts["prosecution_decisions"],
        "plea_leniency_rate": counts["plea"] / counts["prosecution_decisions"],
        "fixed_sentence_share": counts["fixed"] / counts["recommendations"],
        "recommendation_adoption_rate": counts["adopted"]
        / counts["judged_recommendations"],
        "acquittal_rate": counts["acquitted"] / counts["judgments"],
    }


@pytest.mark.parametrize(
    "name",
    [
        "non_arrest_rate",
        "non_prosecution_rate",
        "pre_prosecution_detention_rate",
        "plea_leniency_rate",
        "fixed_sentence_share",
        "recommendation_adoption_rate",
    ],
)
def test_national_rates_match_the_calibration(name: str) -> None:
    assert abs(national_rates(records())[name] - demo.target(name)) <= 0.02


def test_national_rates_hold_for_another_seed_and_range() -> None:
    items = list(
        demo.generate_cases(
            SAMPLE,
            99,
            date_from=datetime.date(2024, 1, 1),
            date_to=datetime.date(2024, 12, 31),
        )
    )
    rates = national_rates(items)
    for name in (
        "non_arrest_rate",
        "non_prosecution_rate",
        "pre_prosecution_detention_rate",
        "plea_leniency_rate",
    ):
        assert abs(rates[name] - demo.target(name)) <= 0.025, name


def test_acquittals_returns_and_extensions_are_rare() -> None:
    assert national_rates(records())["acquittal_rate"] < 0.002
    reviews = [
        record
        for record in records()
        if record["procedure"] == "prosecution_review" and record["closed_on"]
    ]
    returned = sum(1 for record in reviews if returns(record) >= 1) / len(reviews)
    extended = sum(
        1
        for record in reviews
        if any(e["type"] == "review_extended" for e in record["events"])
    ) / len(reviews)
    assert abs(returned - demo.target("return_rate")) < 0.02
    assert abs(extended - demo.target("extension_rate")) < 0.01


def test_calibration_names_a_source_for_every_target() -> None:
    for name, entry in demo.calibration()["targets"].items():
        assert entry["source_url"].startswith("http"), name
        assert entry["period"], name
        assert entry["kind"] in {"published", "derived", "floor", "assumed"}, name


# --- defects --------------------------------------------------------------------------------------

APPLIES_TO = {
    "late_arrest_decision": {"arrest_review"},
    "article_mismatch": {"arrest_review", "prosecution_review"},
    "late_supervision_decision": {"civil_supervision", "administrative_supervision"},
}


@pytest.mark.parametrize("defect", demo.DEFECTS)
def test_defects_occur_at_their_stated_share(defect: str) -> None:
    procedures = APPLIES_TO.get(defect, {"prosecution_review"})
    eligible = [
        defects
        for record, defects in sample()
        if record["procedure"] in procedures and record["closed_on"]
    ]
    share = sum(defect in defects for defects in eligible) / len(eligible)
    stated = demo.calibration()["defects"][defect]
    tolerance = max(4 * math.sqrt(stated * (1 - stated) / len(eligible)), stated * 0.35)
    assert abs(share - stated) <= tolerance, (share, stated)


def test_each_reported_defect_is_visible_in_its_record() -> None:
    seen = Counter()
    for record, defects in sample():
        late = missed(record)
        for defect in defects:
            seen[defect] += 1
            if defect == "late_arrest_decision":
                assert late & {
                    "arrest_review_detained",
                    "arrest_review_not_detained",
                    "arrest_review_complex",
                }
            elif defect == "late_prosecution_decision":
                assert late & {
                    "prosecution_review",
                    "prosecution_review_fast_track",
                    "prosecution_review_fast_track_long",
                }
            elif defect == "missing_rights_notified":
                assert unnotified(record)
            elif defect == "late_rights_notified":
                assert "rights_notice" in late
                assert not unnotified(record)
            elif defect == "third_return":
                assert returns(record) == 3
            elif defect == "late_resubmission":
                assert "supplementary_investigation" in late
            elif defect == "article_mismatch":
                assert mismatched_articles(record)
            elif defect == "late_supervision_decision":
                assert late & {"civil_supervision", "administrative_supervision"}
    assert set(seen) == set(demo.DEFECTS)


def test_records_without_a_defect_meet_every_limit() -> None:
    for record, defects in sample():
        if defects:
            continue
        assert not missed(record), (record["case_id"], missed(record))
        assert returns(record) <= 2
        assert (
            not unnotified(record)
            or record["procedure"] != "prosecution_review"
            or record["closed_on"] is None
        )
        assert not mismatched_articles(record)


def test_defect_labels_stay_out_of_the_records() -> None:
    for record, _defects in islice(sample(), 2000):
        assert "defects" not in record
        assert all("defect" not in key for key in record)


# --- the command ---------------------------------------------------------------------------------


def test_output_writes_valid_deterministic_lines(tmp_path: Any) -> None:
    first, second, manifest = (
        tmp_path / "a.jsonl",
        tmp_path / "b.jsonl",
        tmp_path / "defects.jsonl",
    )
    out = io.StringIO()
    call_command(
        "demo-data",
        "--cases",
        "300",
        "--seed",
        "5",
        "--output",
        str(first),
        "--manifest",
        str(manifest),
        stdout=out,
    )
    call_command(
        "demo-data",
        "--cases",
        "300",
        "--seed",
        "5",
        "--output",
        str(second),
        stdout=io.StringIO(),
    )
    assert first.read_bytes() == second.read_bytes()
    lines = first.read_bytes().splitlines()
    assert len(lines) == 300
    units = {unit.code: unit.index + 1 for unit in demo_units()}
    case_ids = set()
    for line in lines:
        record = parse_line(line, units)
        case_ids.add((orjson.loads(line)["unit_code"], record.case_id))
    assert len(case_ids) == 300
    for line in manifest.read_bytes().splitlines():
        entry = orjson.loads(line)
        assert set(entry) == {"unit_code", "case_id", "defects"}
        assert entry["defects"]
        assert (entry["unit_code"], entry["case_id"]) in case_ids
    assert "300" in out.getvalue()


def test_output_to_stdout() -> None:
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "demo-data",
        "--cases",
        "25",
        "--output",
        "-",
        "--from",
        "2024",
        "--to",
        "2024",
        stdout=out,
        stderr=err,
    )
    lines = out.getvalue().splitlines()
    assert len(lines) == 25
    assert all(orjson.loads(line)["received_on"].startswith("2024-") for line in lines)
    assert "25" in err.getvalue()


@pytest.mark.django_db
def test_loading_creates_cases_and_the_staff_who_handle_them() -> None:
    out = io.StringIO()
    call_command("demo-data", "--cases", "300", "--seed", "2", stdout=out)
    assert Case.objects.count() == 300
    staff = set(Staff.objects.values_list("unit__code", "staff_number"))
    handled = set(Case.objects.values_list("unit__code", "procurator_id"))
    assert handled <= staff
    procurators = Staff.objects.filter(kind="procurator")
    assert procurators.filter(quota=True).count() > 0.8 * procurators.count()
    assert Staff.objects.filter(kind="assistant").exists()
    assert Staff.objects.filter(kind="clerk").exists()
    assert not Staff.objects.filter(department__isnull=True).exists()
    for member in Staff.objects.filter(kind="procurator").select_related("department")[
        :200
    ]:
        assert member.department.business_lines
    assert "300" in out.getvalue()


@pytest.mark.django_db
def test_if_empty_skips_a_database_with_cases() -> None:
    call_command("demo-data", "--cases", "40", "--seed", "2", stdout=io.StringIO())
    staff = Staff.objects.count()
    out = io.StringIO()
    call_command("demo-data", "--cases", "80", "--seed", "3", "--if-empty", stdout=out)
    assert Case.objects.count() == 40
    assert Staff.objects.count() == staff
    assert out.getvalue().strip()


@pytest.mark.django_db
def test_loading_again_updates_instead_of_duplicating() -> None:
    call_command("demo-data", "--cases", "60", "--seed", "2", stdout=io.StringIO())
    staff = Staff.objects.count()
    call_command("demo-data", "--cases", "60", "--seed", "2", stdout=io.StringIO())
    assert Case.objects.count() == 60
    assert Staff.objects.count() == staff
