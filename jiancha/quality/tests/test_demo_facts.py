"""``jiancha demo-facts``: court judgments' facts given to demo cases (make demo)."""

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from jiancha.cases.models import Case, Event, Person
from jiancha.law.reference import charge_articles
from jiancha.quality.charge_model import judgments_read, judgments_split
from jiancha.quality.demo import usable_judgments
from jiancha.quality.models import Finding
from jiancha.quality.tests.test_charge_model import synthetic_records, write_jsonl

pytestmark = pytest.mark.django_db(transaction=True)

HOLDOUT = 0.4
SEED = 5


@pytest.fixture
def judgments_file(tmp_path: Path) -> Path:
    records = synthetic_records(count_per_charge=12)
    for number, record in enumerate(records):
        record["meta"]["criminals"] = [f"被告{number}"]
    return write_jsonl(tmp_path / "cases.jsonl", records)


def _defendant(judgments_file: Path, facts: str) -> str:
    for line in judgments_file.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["fact"] == facts:
            return record["meta"]["criminals"][0]
    raise AssertionError("facts not in the file")


@pytest.fixture
def trained(judgments_file: Path, tmp_path: Path, settings: Any) -> Path:
    """A charge model (and sentencing model) trained with a held-out share, in MODEL_DIR."""
    settings.MODEL_DIR = tmp_path / "models"
    call_command(
        "train-charge-model",
        "--data",
        str(judgments_file),
        "--holdout",
        str(HOLDOUT),
        "--seed",
        str(SEED),
        "--folds",
        "3",
        stdout=io.StringIO(),
    )
    return settings.MODEL_DIR


def _demo(cases: int = 400) -> None:
    call_command(
        "demo-data", "--cases", str(cases), "--seed", "2", stdout=io.StringIO()
    )


def _events(case: Case, kind: str) -> list[dict[str, Any]]:
    return [
        dict(event.details)
        for event in Event.objects.filter(case=case, type=kind).order_by("position")
    ]


def test_demo_cases_get_unseen_facts_with_their_charge_and_term(
    judgments_file: Path, trained: Path
) -> None:
    _demo()
    before = {
        row[0]: row[1:]
        for row in Case.objects.values_list("id", "facts", "closed_on", "procedure")
    }
    out = io.StringIO()
    call_command(
        "demo-facts",
        "--data",
        str(judgments_file),
        "--cases",
        "12",
        "--seed",
        "3",
        "--wrong-rate",
        "0.5",
        stdout=out,
    )
    given = list(Case.objects.exclude(facts=""))
    assert len(given) == 12
    # Only judgments the model has not seen, each at most once.
    _train, held_out = judgments_split(
        judgments_read(judgments_file), holdout=HOLDOUT, seed=SEED
    )
    by_facts = {judgment.facts: judgment for judgment in usable_judgments(held_out)}
    assert len({case.facts for case in given}) == 12
    assert {case.facts for case in given} <= set(by_facts)
    wrong = set()
    for case in given:
        assert case.procedure == "prosecution_review"
        assert not case.fast_track
        judgment = by_facts[case.facts]
        (person,) = Person.objects.filter(case=case)
        assert person.name == _defendant(judgments_file, case.facts)
        (recorded,) = person.charges
        assert person.articles == list(charge_articles()[recorded])
        (first,) = [
            event
            for event in _events(case, "judgment")
            if event.get("instance", 1) == 1
        ]
        assert first["charges"] == list(judgment.charges)
        assert first["months"] == judgment.months
        (recommendation,) = _events(case, "sentencing_recommended")
        assert recommendation["kind"] == "fixed"
        assert recommendation["months"] == judgment.months
        if recorded != judgment.charges[0]:
            wrong.add(case.pk)
    assert 0 < len(wrong) < 12
    assert "12 cases" in out.getvalue()
    # The cases were evaluated again on import: the wrong charge differs from the
    # judgment's (诉判不一), the right one does not.
    differ = set(
        Finding.objects.filter(rule_id="CR-L05", current=True).values_list(
            "case_id", flat=True
        )
    )
    assert differ & {case.pk for case in given} == wrong
    # Nothing else changed.
    after = {
        row[0]: row[1:]
        for row in Case.objects.values_list("id", "facts", "closed_on", "procedure")
    }
    assert after.keys() == before.keys()
    assert [pk for pk in after if after[pk] != before[pk]] == sorted(
        case.pk for case in given
    )


def test_demo_facts_are_reproducible_and_given_once(
    judgments_file: Path, trained: Path
) -> None:
    _demo(200)
    arguments = ["demo-facts", "--data", str(judgments_file), "--cases", "5"]
    call_command(*arguments, stdout=io.StringIO())
    first = dict(Case.objects.exclude(facts="").values_list("id", "facts"))
    out = io.StringIO()
    call_command(*arguments, "--if-empty", stdout=out)
    assert "none given" in out.getvalue()
    assert dict(Case.objects.exclude(facts="").values_list("id", "facts")) == first
    Case.objects.update(facts="")
    call_command(*arguments, stdout=io.StringIO())
    assert dict(Case.objects.exclude(facts="").values_list("id", "facts")) == first


def test_demo_facts_refuse_bad_input_and_write_nothing(
    tmp_path: Path, trained: Path, judgments_file: Path
) -> None:
    _demo(100)
    life = synthetic_records(count_per_charge=4)
    for record in life:
        record["meta"]["term_of_imprisonment"]["imprisonment"] = 0  # no fixed term
    unusable = write_jsonl(tmp_path / "no-term.jsonl", life)
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"fact": "x"\n', encoding="utf-8")
    for data, message in [
        (unusable, "no judgment"),
        (broken, "Cannot read"),
        (tmp_path / "missing.jsonl", "Cannot read"),
    ]:
        with pytest.raises(CommandError, match=message):
            call_command("demo-facts", "--data", str(data), stdout=io.StringIO())
    with pytest.raises(CommandError, match="at least 1"):
        call_command(
            "demo-facts",
            "--data",
            str(judgments_file),
            "--cases",
            "0",
            stdout=io.StringIO(),
        )
    with pytest.raises(CommandError, match="between 0 and 1"):
        call_command(
            "demo-facts",
            "--data",
            str(judgments_file),
            "--wrong-rate",
            "1.5",
            stdout=io.StringIO(),
        )
    assert not Case.objects.exclude(facts="").exists()


def test_demo_facts_without_a_qualifying_case_say_so(
    judgments_file: Path, trained: Path
) -> None:
    with pytest.raises(CommandError, match="No demo case qualifies"):
        call_command("demo-facts", "--data", str(judgments_file), stdout=io.StringIO())


def test_training_if_missing_keeps_the_model(
    judgments_file: Path, trained: Path
) -> None:
    model = trained / "charge_model.pkl"
    metadata = json.loads((trained / "charge_model.json").read_text(encoding="utf-8"))
    stamp = model.stat().st_mtime_ns
    out = io.StringIO()
    call_command(
        "train-charge-model",
        "--data",
        str(judgments_file),
        "--if-missing",
        stdout=out,
    )
    assert "not trained again" in out.getvalue()
    assert model.stat().st_mtime_ns == stamp
    assert (
        json.loads((trained / "charge_model.json").read_text(encoding="utf-8"))
        == metadata
    )
