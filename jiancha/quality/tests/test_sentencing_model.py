import pytest

from jiancha.quality.charge_model import judgments_read
from jiancha.quality.sentencing_model import (
    Deviation,
    SentencingModel,
    sentencing_judgments,
    sentencing_model_evaluate,
    sentencing_model_train,
)
from jiancha.quality.tests.test_charge_model import (
    DRUNK_DRIVING,
    real_slice,
    synthetic_records,
    write_jsonl,
)

MURDER = (
    "2014年6月某日晚，被告人王某因感情纠纷与被害人刘某发生争执，王某持事先准备的尖刀朝刘某胸部、"
    "腹部连续捅刺十余刀，致刘某当场死亡。经法医鉴定，刘某系被锐器刺破心脏致失血性休克死亡。"
)


@pytest.fixture(scope="module")
def synthetic_model(tmp_path_factory):
    path = write_jsonl(
        tmp_path_factory.mktemp("synthetic") / "cases.jsonl", synthetic_records()
    )
    return sentencing_model_train(judgments_read(path), folds=3)


@pytest.fixture(scope="module")
def real_model(shared_data_dir, tmp_path_factory):
    path = write_jsonl(
        tmp_path_factory.mktemp("real") / "cases.jsonl", real_slice(shared_data_dir)
    )
    return sentencing_model_train(judgments_read(path), folds=3)


def test_expected_months_are_a_median_inside_an_interval(synthetic_model):
    median, low, high = synthetic_model.expected_months(
        "被告人赵某虚构投资项目，谎称可获高额回报，骗取被害人人民币15000元。", ["诈骗"]
    )
    assert 0 <= low <= median <= high


def test_far_recommendation_is_flagged_and_a_usual_one_is_not(synthetic_model):
    facts = (
        "被告人陈某饮酒后驾驶小型轿车被民警查获，经鉴定其血液中乙醇含量为120mg/100ml。"
    )
    median, _low, high = synthetic_model.expected_months(facts, ["危险驾驶罪"])
    usual = synthetic_model.deviation(facts, ["危险驾驶罪"], median)
    assert usual == Deviation(False, median, round(median / max(median, 1.0), 3))
    flagged = synthetic_model.deviation(facts, ["危险驾驶罪"], high * 3 + 12)
    assert flagged.flag is True
    assert flagged.ratio > 1
    assert synthetic_model.deviation_many(
        [(facts, ["危险驾驶罪"], median), (facts, ["危险驾驶罪"], high * 3 + 12)]
    ) == [usual, flagged]


def test_life_and_death_sentences_are_left_out(tmp_path):
    records = synthetic_records(count_per_charge=2)
    records[0]["meta"]["term_of_imprisonment"]["death_penalty"] = True
    judgments = judgments_read(write_jsonl(tmp_path / "cases.jsonl", records))
    assert len(sentencing_judgments(judgments)) == len(judgments) - 1


def test_model_round_trips_through_its_file(synthetic_model, tmp_path):
    path = synthetic_model.save(tmp_path / "sentencing_model.pkl")
    assert path.with_suffix(".json").is_file()
    loaded = SentencingModel.load(path)
    assert loaded.expected_months(
        DRUNK_DRIVING, ["危险驾驶"]
    ) == synthetic_model.expected_months(DRUNK_DRIVING, ["危险驾驶"])


def test_real_model_expects_more_for_murder_than_for_drunk_driving(real_model):
    drunk = real_model.expected_months(DRUNK_DRIVING, ["危险驾驶罪"])
    murder = real_model.expected_months(MURDER, ["故意杀人罪"])
    assert drunk.median <= 12
    assert murder.median > max(24, 3 * drunk.median)
    assert real_model.deviation(DRUNK_DRIVING, ["危险驾驶罪"], 120).flag is True
    assert (
        real_model.deviation(DRUNK_DRIVING, ["危险驾驶罪"], drunk.median).flag is False
    )


def test_evaluation_reports_held_out_errors(real_model, shared_data_dir):
    trained_on = {record["fact"] for record in real_slice(shared_data_dir)}
    judgments = judgments_read(f"{shared_data_dir}/cases_cail2018_subset/cases.jsonl")
    held_out = [
        judgment
        for judgment in judgments
        if judgment.facts not in trained_on
        and set(judgment.charges) <= {"危险驾驶罪", "盗窃罪", "故意伤害罪"}
    ][:150]
    figures = sentencing_model_evaluate(real_model, held_out)
    assert figures.cases == len(sentencing_judgments(held_out)) > 100
    assert figures.planted == round(0.2 * figures.cases)
    assert figures.median_absolute_error < 12
    assert 0.7 < figures.interval_coverage <= 1
