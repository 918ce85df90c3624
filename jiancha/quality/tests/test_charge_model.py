import json
import random
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from jiancha.law.reference import charge_articles
from jiancha.quality.charge_model import (
    CONFUSABLE_PAIRS,
    ChargeChecker,
    CheckResult,
    Judgment,
    charge_checker_train,
    charge_normalize,
    corrupt_charges,
    judgments_read,
    judgments_split,
)

DRUNK_DRIVING = (
    "2016年5月3日22时许，被告人张某饮酒后驾驶小型轿车沿某路由东向西行驶，行至某路口时被执勤民警"
    "当场查获。经鉴定，张某血液中乙醇含量为185.3mg/100ml，属醉酒驾驶机动车。"
)
THEFT = (
    "2015年8月某日凌晨，被告人李某窜至某小区被害人王某家中，趁其熟睡之机，秘密窃取放在床头的手机"
    "一部及现金人民币2000元，经鉴定手机价值人民币3000元。案发后赃物已追回并发还被害人。"
)

# The slice of the real judgments the tests train on: single-charge cases of common charges.
SLICE_CHARGES = (
    "危险驾驶",
    "盗窃",
    "诈骗",
    "故意伤害",
    "故意杀人",
    "交通肇事",
    "抢劫",
    "寻衅滋事",
)
SLICE_PER_CHARGE = 45


def real_slice(shared_data_dir: str) -> list[dict[str, object]]:
    """Raw CAIL records of the training slice (deterministic: the first ones of each charge)."""
    path = Path(shared_data_dir) / "cases_cail2018_subset" / "cases.jsonl"
    if not path.is_file():
        pytest.skip(f"CAIL subset not found at {path}")
    taken: dict[str, int] = {}
    records = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            charges = record["meta"]["accusation"]
            if len(charges) != 1 or charges[0] not in SLICE_CHARGES:
                continue
            if taken.get(charges[0], 0) < SLICE_PER_CHARGE:
                taken[charges[0]] = taken.get(charges[0], 0) + 1
                records.append(record)
    return records


def write_jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text(
        "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records),
        encoding="utf-8",
    )
    return path


def synthetic_records(
    count_per_charge: int = 20, seed: int = 1
) -> list[dict[str, object]]:
    """A tiny CAIL-style corpus written here, so that something trains without the shared data."""
    rng = random.Random(seed)
    people = ["张某", "李某", "王某", "赵某", "陈某", "刘某"]
    places = ["某市某区某路", "某县某镇某村", "某小区门口", "某商场停车场"]
    templates = {
        "危险驾驶": (
            "{date}，被告人{who}饮酒后驾驶小型轿车行驶至{where}时被民警查获。经鉴定，其血液中乙醇含量为"
            "{amount}mg/100ml，属醉酒驾驶。",
            lambda amount: 1 + amount // 100,
        ),
        "盗窃": (
            "{date}，被告人{who}窜至{where}，趁被害人不备，秘密窃取其手机一部，价值人民币{amount}元。赃物已追回。",
            lambda amount: 3 + amount // 1000,
        ),
        "诈骗": (
            "{date}，被告人{who}在{where}虚构投资项目，谎称可获高额回报，骗取被害人人民币{amount}元，后挥霍一空。",
            lambda amount: 6 + amount // 2000,
        ),
    }
    records = []
    for charge, (template, months) in templates.items():
        for _index in range(count_per_charge):
            amount = (
                rng.randrange(100, 20000)
                if charge != "危险驾驶"
                else rng.randrange(80, 300)
            )
            facts = template.format(
                date=f"2016年{rng.randrange(1, 13)}月{rng.randrange(1, 29)}日",
                who=rng.choice(people),
                where=rng.choice(places),
                amount=amount,
            )
            records.append(
                {
                    "fact": facts,
                    "meta": {
                        "accusation": [charge],
                        "term_of_imprisonment": {
                            "imprisonment": months(amount),
                            "life_imprisonment": False,
                            "death_penalty": False,
                        },
                    },
                }
            )
    rng.shuffle(records)
    return records


@pytest.fixture(scope="module")
def synthetic_file(tmp_path_factory):
    return write_jsonl(
        tmp_path_factory.mktemp("synthetic") / "cases.jsonl", synthetic_records()
    )


@pytest.fixture(scope="module")
def synthetic_checker(synthetic_file):
    return charge_checker_train(judgments_read(synthetic_file), folds=3)


@pytest.fixture(scope="module")
def real_file(shared_data_dir, tmp_path_factory):
    return write_jsonl(
        tmp_path_factory.mktemp("real") / "cases.jsonl", real_slice(shared_data_dir)
    )


@pytest.fixture(scope="module")
def real_checker(real_file):
    return charge_checker_train(judgments_read(real_file), folds=3)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("盗窃", "盗窃罪"),
        ("盗窃罪", "盗窃罪"),
        ("[走私、贩卖、运输、制造]毒品", "走私、贩卖、运输、制造毒品罪"),
        ("[窝藏、包庇]", "窝藏、包庇罪"),
        ("强制[猥亵、侮辱]妇女", "强制猥亵、侮辱罪"),
        ("非法[采伐、毁坏]国家重点保护植物", "危害国家重点保护植物罪"),
        (
            "[隐匿、故意销毁][会计凭证、会计帐簿、财务会计报告]",
            "隐匿、故意销毁会计凭证、会计账簿、财务会计报告罪",
        ),
        ("经济犯", "经济犯罪"),
    ],
)
def test_charge_names_are_normalised_to_the_current_list(given, expected):
    assert charge_normalize(given) == expected


def test_confusable_pairs_name_current_charges():
    current = charge_articles()
    assert len(CONFUSABLE_PAIRS) >= 10
    assert all(
        first in current and second in current for first, second in CONFUSABLE_PAIRS
    )


def test_planted_charges_are_wrong_and_one_in_five():
    charge_sets = [
        ("盗窃罪",),
        ("诈骗罪",),
        ("故意伤害罪",),
        ("危险驾驶罪",),
        ("抢劫罪",),
    ] * 20
    labels = [
        "盗窃罪",
        "诈骗罪",
        "故意伤害罪",
        "故意杀人罪",
        "危险驾驶罪",
        "交通肇事罪",
        "抢劫罪",
        "抢夺罪",
    ]
    recorded = corrupt_charges(charge_sets, labels=labels, rate=0.2, seed=3)
    planted = [
        (truth, charges)
        for truth, (charges, kind) in zip(charge_sets, recorded, strict=True)
        if kind
    ]
    assert len(planted) == 20
    assert all(charges != truth and charges[0] in labels for truth, charges in planted)


def test_split_is_by_case_and_repeatable():
    judgments = [
        Judgment(facts=f"事实{index}", charges=("盗窃罪",)) for index in range(200)
    ]
    first = judgments_split(judgments, holdout=0.2, seed=5)
    assert first == judgments_split(judgments, holdout=0.2, seed=5)
    assert 20 < len(first[1]) < 60
    assert not {judgment.facts for judgment in first[0]} & {
        judgment.facts for judgment in first[1]
    }


def test_synthetic_model_suggests_and_flags(synthetic_checker):
    drunk = "2017年3月2日，被告人周某饮酒后驾驶小型轿车行驶至某县某镇时被民警查获。经鉴定，其血液中乙醇含量为150mg/100ml。"
    results = synthetic_checker.check_many(
        [(drunk, ["危险驾驶"]), (drunk, ["盗窃罪"]), ("", ["盗窃罪"])]
    )
    assert results[0].suggested[0] == "危险驾驶罪"
    assert results[0].flag is False
    assert results[1].flag is True
    assert results[2] == CheckResult(False, [], 0.0)


def test_unknown_charges_are_not_judged(synthetic_checker):
    result = synthetic_checker.check(THEFT, ["重婚罪"])
    assert (result.flag, result.confidence) == (False, 0.0)
    assert synthetic_checker.unjudged(["重婚", "盗窃"]) == ["重婚罪"]


def test_model_round_trips_through_its_file(synthetic_checker, tmp_path):
    path = synthetic_checker.save(tmp_path / "charge_model.pkl")
    metadata = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    assert metadata["labels"] == ["危险驾驶罪", "盗窃罪", "诈骗罪"]
    assert {"version", "trained_on", "n", "sklearn"} <= metadata.keys()
    loaded = ChargeChecker.load(path)
    assert loaded.check(THEFT, ["盗窃"]) == synthetic_checker.check(THEFT, ["盗窃"])


def test_real_model_suggests_drunk_driving(real_checker):
    assert (
        real_checker.check(DRUNK_DRIVING, ["危险驾驶罪"]).suggested[0] == "危险驾驶罪"
    )


def test_real_model_flags_a_swapped_charge_and_not_the_right_one(real_checker):
    wrong, right = real_checker.check_many([(THEFT, ["故意杀人罪"]), (THEFT, ["盗窃"])])
    assert wrong.flag is True
    assert wrong.suggested[0] == "盗窃罪"
    assert right.flag is False
    assert right.confidence < wrong.confidence


def test_commands_train_then_check_one_line_per_input_line(real_file, tmp_path, capsys):
    model = tmp_path / "charge_model.pkl"
    call_command(
        "train-charge-model",
        "--data",
        str(real_file),
        "--model",
        str(model),
        "--folds",
        "3",
    )
    out = capsys.readouterr().out
    assert "top-1" in out
    assert "precision" in out
    assert "mean absolute error" in out
    assert model.is_file()
    assert (tmp_path / "sentencing_model.pkl").is_file()

    lines = [
        {"facts": DRUNK_DRIVING, "charges": ["危险驾驶"]},
        {"facts": THEFT, "charges": ["故意杀人罪"]},
        {"facts": THEFT, "charges": ["盗窃罪"]},
    ]
    checks = write_jsonl(tmp_path / "checks.jsonl", lines)
    call_command("check-charges", str(checks), "--model", str(model))
    output = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [row["line"] for row in output] == [1, 2, 3]
    assert all(
        list(row) == ["line", "flag", "suggested", "confidence"] for row in output
    )
    assert [row["flag"] for row in output] == [False, True, False]
    assert output[0]["suggested"][0] == "危险驾驶罪"


def test_check_charges_reports_bad_lines_and_checks_the_rest(
    synthetic_checker, tmp_path, capsys
):
    model = synthetic_checker.save(tmp_path / "charge_model.pkl")
    good = json.dumps({"facts": THEFT, "charges": ["盗窃"]}, ensure_ascii=False)
    source = tmp_path / "checks.jsonl"
    source.write_text(
        "\n".join(
            [good, "{not json", "", json.dumps({"facts": THEFT}), '["a list"]', good]
        )
        + "\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError) as raised:
        call_command("check-charges", str(source), "--model", str(model))
    assert raised.value.returncode == 1
    captured = capsys.readouterr()
    assert [json.loads(line)["line"] for line in captured.out.splitlines()] == [1, 6]
    assert "line 2: not JSON" in captured.err
    assert 'line 4: "charges" must be a list of strings' in captured.err
    assert "line 5: not a JSON object" in captured.err
    assert "line 3" not in captured.err


def test_check_charges_without_a_model_says_to_train_first(tmp_path):
    source = write_jsonl(
        tmp_path / "checks.jsonl", [{"facts": THEFT, "charges": ["盗窃"]}]
    )
    with pytest.raises(CommandError, match="run jiancha train-charge-model first"):
        call_command(
            "check-charges", str(source), "--model", str(tmp_path / "missing.pkl")
        )


def test_missing_model_fails_to_load(tmp_path):
    with pytest.raises(FileNotFoundError):
        ChargeChecker.load(tmp_path / "missing.pkl")


def test_training_refuses_unreadable_or_tiny_data(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"fact": "x", "meta": {"accusation": ["盗窃"]}}\nnot json\n', encoding="utf-8"
    )
    with pytest.raises(CommandError, match="line 2"):
        call_command(
            "train-charge-model", "--data", str(bad), "--model", str(tmp_path / "m.pkl")
        )
    tiny = write_jsonl(tmp_path / "tiny.jsonl", synthetic_records(count_per_charge=3))
    with pytest.raises(CommandError, match="Too few judgments"):
        call_command(
            "train-charge-model",
            "--data",
            str(tiny),
            "--model",
            str(tmp_path / "m.pkl"),
        )
