"""Held-out figures of the charge-vs-facts check and the sentencing model (issue 3, items 5 and 6).

    python bench/charge_model.py [--data FILE] [--holdout 0.2] [--splits 0 1 2] [--plants 0 1 2]

For each split seed: split the judgments by case (a seeded hash of the facts), train
the charge checker and the sentencing model on the training part only (the flag
threshold and everything else is tuned inside it), and then, on the held-out part:

- suggestions: top-1, top-3 and macro-F1 of the charge suggestions;
- flag: for each plant seed, one held-out judgment in five gets one recorded charge
  replaced by a plausible wrong one (a confusable partner from
  ``charge_model.CONFUSABLE_PAIRS`` when one was seen in training, else a charge of the
  same section or chapter); flag precision and recall, recall per kind of swap, and
  false alarms on the untouched judgments;
- the baseline of the issue, measured on the same split and the same planted charges:
  character 1-3-gram TF-IDF + LinearSVC on the first charge, flag = a recorded charge
  not among its top 3;
- sentencing: errors of the expected term against the real one (life and death
  sentences left out), against the median term of the charge alone, coverage of the
  90 % interval, and the flag on terms multiplied or divided by 2.5 (and by 4).

Goal (issue 3, item 5): flag precision >= 0.85 at recall >= 0.90.
"""

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jiancha.quality.charge_model import (  # noqa: E402 - after the path set-up
    CORRUPTION_RATE,
    Judgment,
    charge_checker_evaluate,
    charge_checker_train,
    corrupt_charges,
    flag_figures,
    judgments_read,
    judgments_split,
    suggestion_figures,
)
from jiancha.quality.sentencing_model import (  # noqa: E402
    sentencing_model_evaluate,
    sentencing_model_train,
)

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "cases_cail2018_subset" / "cases.jsonl"


class Baseline:
    """The issue's yardstick: plain char n-gram TF-IDF + linear SVM, flag = not in top 3."""

    def __init__(self, train: Sequence[Judgment]) -> None:
        self.vectorizer = TfidfVectorizer(
            analyzer="char", ngram_range=(1, 3), min_df=2, sublinear_tf=True
        )
        features = self.vectorizer.fit_transform([judgment.facts for judgment in train])
        self.model = LinearSVC(C=1.0, random_state=0).fit(
            features, [judgment.charges[0] for judgment in train]
        )

    def ranked(self, facts: Sequence[str]) -> list[list[str]]:
        scores = self.model.decision_function(self.vectorizer.transform(facts))
        return [
            [str(self.model.classes_[index]) for index in np.argsort(-row)[:3]]
            for row in scores
        ]


def line(
    label: str, values: Sequence[float], digits: int = 3, *, average: bool = False
) -> str:
    shown = "  ".join(f"{value:.{digits}f}" for value in values)
    if average and len(values) > 1:
        shown += f"   mean {statistics.mean(values):.{digits}f}"
    return f"  {label:<44} {shown}"


def run_split(
    judgments: list[Judgment],
    *,
    split: int,
    holdout: float,
    plants: Sequence[int],
    folds: int,
) -> dict[str, list[float]]:
    train, test = judgments_split(judgments, holdout=holdout, seed=split)
    labels = sorted({charge for judgment in train for charge in judgment.charges})
    unseen = sum(1 for judgment in test if not set(judgment.charges) <= set(labels))
    print(
        f"\n== split seed {split}: {len(train)} training judgments ({len(labels)} charges), "
        f"{len(test)} held out ({unseen} with a charge never seen in training)"
    )
    started = time.perf_counter()
    checker = charge_checker_train(train, seed=split, folds=folds)
    charge_seconds = time.perf_counter() - started
    started = time.perf_counter()
    baseline = Baseline(train)
    baseline_seconds = time.perf_counter() - started
    started = time.perf_counter()
    sentencing = sentencing_model_train(train, seed=split, folds=folds)
    sentencing_seconds = time.perf_counter() - started
    print(
        f"  training: charge model {charge_seconds:.0f} s (flag threshold {checker.threshold:.3f}), "
        f"baseline {baseline_seconds:.0f} s, sentencing model {sentencing_seconds:.0f} s"
    )

    truths = [judgment.charges for judgment in test]
    facts = [judgment.facts for judgment in test]
    baseline_ranked = baseline.ranked(facts)
    figures: dict[str, list[float]] = {}
    for plant in plants:
        recorded = corrupt_charges(
            truths, labels=labels, rate=CORRUPTION_RATE, seed=plant
        )
        ours = charge_checker_evaluate(checker, test, recorded=recorded)
        kinds = [kind for _charges, kind in recorded]
        baseline_flags = [
            any(charge not in ranking for charge in charges)
            for ranking, (charges, _kind) in zip(baseline_ranked, recorded, strict=True)
        ]
        planted, _flagged, precision, recall, by_kind, false_alarms = flag_figures(
            baseline_flags, kinds
        )
        for key, value in (
            ("top-1", ours.top1),
            ("top-3", ours.top3),
            ("macro-F1", ours.macro_f1),
            ("flag precision", ours.precision),
            ("flag recall", ours.recall),
            ("flag false alarms", ours.false_alarm_rate),
            ("baseline flag precision", precision),
            ("baseline flag recall", recall),
            ("baseline flag false alarms", false_alarms),
        ):
            figures.setdefault(key, []).append(value)
        for kind, value in ours.recall_by_kind.items():
            figures.setdefault(f"flag recall, swap by {kind}", []).append(value)
        for kind, value in by_kind.items():
            figures.setdefault(f"baseline recall, swap by {kind}", []).append(value)
        figures.setdefault("planted", []).append(planted)
    baseline_top1, baseline_top3, baseline_macro = suggestion_figures(
        baseline_ranked, truths
    )
    figures["baseline top-1"] = [baseline_top1]
    figures["baseline top-3"] = [baseline_top3]
    figures["baseline macro-F1"] = [baseline_macro]

    print(f"  suggestions (charge model / baseline), {len(test)} held-out judgments:")
    print(line("top-1", [figures["top-1"][0], baseline_top1]))
    print(line("top-3", [figures["top-3"][0], baseline_top3]))
    print(line("macro-F1", [figures["macro-F1"][0], baseline_macro]))
    print(
        f"  flag, a wrong charge planted in {int(figures['planted'][0])} judgments; plant seeds {list(plants)}:"
    )
    for key in sorted(key for key in figures if "flag" in key or "recall, swap" in key):
        print(line(key, figures[key], average=True))

    for factor in (2.5, 4.0):
        terms = sentencing_model_evaluate(sentencing, test, seed=split, factor=factor)
        if factor == 2.5:
            print(
                f"  sentencing, {terms.cases} held-out judgments with a fixed term or none:"
            )
            print(
                line(
                    "mean absolute error, months",
                    [terms.mean_absolute_error, terms.baseline_mean_absolute_error],
                    1,
                )
                + "   (model, charge median)"
            )
            print(
                line("median absolute error, months", [terms.median_absolute_error], 1)
            )
            print(
                line(
                    "mean |log(1+expected) - log(1+actual)|",
                    [
                        terms.mean_absolute_log_error,
                        terms.baseline_mean_absolute_log_error,
                    ],
                )
                + "   (model, charge median)"
            )
            print(line("within 25 % (or 3 months)", [terms.within_25_percent]))
            print(line("90 % interval coverage", [terms.interval_coverage]))
            figures["sentencing MAE"] = [terms.mean_absolute_error]
            figures["sentencing baseline MAE"] = [terms.baseline_mean_absolute_error]
            figures["sentencing log error"] = [terms.mean_absolute_log_error]
            figures["sentencing coverage"] = [terms.interval_coverage]
        print(
            line(
                f"term x{factor:g} or /{factor:g} in {terms.planted}: P, R, false alarms",
                [terms.precision, terms.recall, terms.false_alarm_rate],
            )
        )
        figures[f"sentencing flag x{factor:g} precision"] = [terms.precision]
        figures[f"sentencing flag x{factor:g} recall"] = [terms.recall]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--holdout", type=float, default=0.2)
    parser.add_argument(
        "--splits", type=int, nargs="+", default=[0], help="split seeds (each retrains)"
    )
    parser.add_argument(
        "--plants",
        type=int,
        nargs="+",
        default=[0, 1, 2],
        help="seeds of the planted wrong charges",
    )
    parser.add_argument("--folds", type=int, default=5)
    options = parser.parse_args()

    judgments = judgments_read(options.data)
    print(
        f"{len(judgments)} judgments from {options.data}; held out {options.holdout:.0%} per split"
    )
    results = [
        run_split(
            judgments,
            split=split,
            holdout=options.holdout,
            plants=options.plants,
            folds=options.folds,
        )
        for split in options.splits
    ]

    print("\n== summary (mean over plant seeds), one column per split seed")
    for key in (
        "top-1",
        "top-3",
        "macro-F1",
        "flag precision",
        "flag recall",
        "baseline top-1",
        "baseline top-3",
        "baseline macro-F1",
        "baseline flag precision",
        "baseline flag recall",
        "sentencing MAE",
        "sentencing baseline MAE",
        "sentencing log error",
        "sentencing coverage",
        "sentencing flag x2.5 precision",
        "sentencing flag x2.5 recall",
    ):
        print(
            line(
                key, [statistics.mean(result[key]) for result in results], average=True
            )
        )
    precision = min(statistics.mean(result["flag precision"]) for result in results)
    recall = min(statistics.mean(result["flag recall"]) for result in results)
    verdict = "met" if precision >= 0.85 and recall >= 0.90 else "NOT met"
    print(
        f"\ngoal precision >= 0.85 at recall >= 0.90: {verdict} (worst split: precision {precision:.3f}, recall {recall:.3f})"
    )


if __name__ == "__main__":
    main()
