"""Sentencing deviation: is a fixed sentencing recommendation (确定刑量刑建议) far from what
similar cases received? (issue 3, item 6)

Trained by ``jiancha train-charge-model`` on the same judgments as the charge
model (``meta.term_of_imprisonment.imprisonment``, months of fixed-term
imprisonment or criminal detention; life and death sentences are left out, and
0 means no custodial term). Everything is learnt on log(1 + months):

1. a ridge regression on character n-grams of the facts;
2. the similarity-weighted median term of the 10 most similar training cases
   that share a charge with the case ("same charge, similar facts");
3. a gradient-boosted regressor over those two, the charges (as each charge's
   median term) and the quantities and circumstances the sentencing guidelines
   scale with (`textfeatures.quantities`, `textfeatures.circumstances`).

The interval comes from the out-of-fold errors of step 3 (split conformal):
the 5th and 95th percentiles of log(1 + actual) - log(1 + expected), per main
charge where there are enough cases, else over all cases. A recommendation
outside it is flagged.
"""

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import sklearn
from scipy import sparse
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import Ridge
from threadpoolctl import threadpool_limits

from jiancha.quality.charge_model import (
    MODEL_VERSION,
    Judgment,
    charge_normalize,
    default_model_path,
    facts_prepare,
    model_load,
    model_save,
)
from jiancha.quality.textfeatures import circumstances, quantities

MODEL_FILENAME = "sentencing_model.pkl"
NEIGHBOURS = 10
KEPT_WEIGHTS = 200  # largest TF-IDF weights kept per stored training case (for the neighbour search)
INTERVAL = (
    0.05,
    0.95,
)  # quantiles of the out-of-fold error: a recommendation outside is flagged
MIN_CHARGE_CASES = 40  # below this a charge's interval uses the errors of all charges
CATEGORY_CASES = 10  # a main charge with this many training cases is its own category for the booster


def _vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer="char",
        ngram_range=(1, 3),
        min_df=2,
        max_features=40_000,
        sublinear_tf=True,
        preprocessor=facts_prepare,
    )


def _prune(matrix: sparse.csr_matrix, keep: int) -> sparse.csr_matrix:
    """Keep each row's ``keep`` largest weights, renormalised (L2), as float32."""
    matrix = matrix.tocsr()
    data, indices, pointers = [], [], [0]
    for row in range(matrix.shape[0]):
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        values, columns = matrix.data[start:end], matrix.indices[start:end]
        if len(values) > keep:
            largest = np.argpartition(-values, keep)[:keep]
            values, columns = values[largest], columns[largest]
        norm = np.linalg.norm(values)
        data.append((values / norm if norm else values).astype(np.float32))
        indices.append(columns)
        pointers.append(pointers[-1] + len(values))
    return sparse.csr_matrix(
        (
            np.concatenate(data) if data else np.zeros(0, np.float32),
            np.concatenate(indices) if indices else np.zeros(0, np.int32),
            pointers,
        ),
        shape=matrix.shape,
    )


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


class Expectation(NamedTuple):
    """Months of imprisonment similar cases received: the median and a 90 % interval."""

    median: float
    low: float
    high: float


class Deviation(NamedTuple):
    """A recommendation against `Expectation`: outside its interval?, and recommended / median."""

    flag: bool
    expected: float
    ratio: float


@dataclass
class SentencingModel:
    """Expected term of imprisonment for facts and charges, learnt from judgments."""

    vectorizer: TfidfVectorizer
    ridge: Ridge
    neighbours: sparse.csr_matrix  # pruned TF-IDF rows of the training cases
    neighbour_targets: np.ndarray  # their log(1 + months)
    neighbour_charges: list[frozenset[str]]
    charge_medians: dict[str, float]  # log(1 + months)
    overall_median: float
    categories: dict[
        str, int
    ]  # main charge -> category of the booster's first feature; others 0
    booster: HistGradientBoostingRegressor
    error_quantiles: dict[
        str, tuple[float, float]
    ]  # main charge -> (low, high) of the log error; "" for all
    metadata: dict[str, Any] = field(default_factory=dict)
    version: int = MODEL_VERSION

    @classmethod
    def load(cls, path: str | Path | None = None) -> "SentencingModel":
        """Load from ``path`` (default ``settings.MODEL_DIR / "sentencing_model.pkl"``)."""
        return model_load(
            Path(path) if path else default_model_path(MODEL_FILENAME), cls
        )

    def save(self, path: str | Path | None = None) -> Path:
        target = Path(path) if path else default_model_path(MODEL_FILENAME)
        model_save(self, target, self.metadata)
        return target

    def _neighbour_features(
        self, similarities: np.ndarray, charge_sets: Sequence[Sequence[str]]
    ) -> np.ndarray:
        """(similarity-weighted median log term, mean similarity) of the nearest cases sharing a charge."""
        result = np.zeros((len(charge_sets), 2))
        for row, charges in enumerate(charge_sets):
            wanted = set(charges)
            candidates = np.argsort(-similarities[row])[: NEIGHBOURS * 20]
            same = [
                index for index in candidates if self.neighbour_charges[index] & wanted
            ][:NEIGHBOURS]
            chosen = np.array(same if same else candidates[:NEIGHBOURS], dtype=int)
            weights = np.maximum(similarities[row, chosen], 1e-6)
            result[row] = (
                _weighted_median(self.neighbour_targets[chosen], weights),
                float(weights.mean()),
            )
        return result

    def _charge_feature(self, charges: Sequence[str]) -> tuple[float, float]:
        known = [
            self.charge_medians[name] for name in charges if name in self.charge_medians
        ]
        if not known:
            return self.overall_median, 0.0
        return max(known), float(len(known))

    def _main_charge(self, charges: Sequence[str]) -> str:
        known = [name for name in charges if name in self.charge_medians]
        return max(known, key=lambda name: self.charge_medians[name]) if known else ""

    def _features(
        self,
        facts: Sequence[str],
        charge_sets: Sequence[Sequence[str]],
        *,
        ridge: np.ndarray,
        neighbours: np.ndarray,
    ) -> np.ndarray:
        rows = []
        for row, (text, charges) in enumerate(zip(facts, charge_sets, strict=True)):
            category = float(self.categories.get(self._main_charge(charges), 0))
            rows.append(
                [
                    category,
                    ridge[row],
                    *neighbours[row],
                    *self._charge_feature(charges),
                    float(len(charges)),
                    *quantities(text),
                    *circumstances(text),
                ]
            )
        return np.array(rows)

    def predict_log(
        self, facts: Sequence[str], charge_sets: Sequence[Sequence[str]]
    ) -> np.ndarray:
        """log(1 + expected months) per case."""
        charge_sets = [
            [charge_normalize(name) for name in charges if name and name.strip()]
            for charges in charge_sets
        ]
        matrix = self.vectorizer.transform(facts)
        similarities = np.asarray(
            (_prune(matrix, KEPT_WEIGHTS) @ self.neighbours.T).todense()
        )
        features = self._features(
            facts,
            charge_sets,
            ridge=self.ridge.predict(matrix),
            neighbours=self._neighbour_features(similarities, charge_sets),
        )
        with threadpool_limits(1):  # a few rows: threads cost more than they save
            return self.booster.predict(features)

    def _interval(self, charges: Sequence[str]) -> tuple[float, float]:
        main = self._main_charge([charge_normalize(name) for name in charges])
        return self.error_quantiles.get(main, self.error_quantiles[""])

    def expected_many(
        self, cases: Sequence[tuple[str, Sequence[str]]]
    ) -> list[Expectation]:
        """`expected_months` for many (facts, charges) pairs at once."""
        if not cases:
            return []
        predictions = self.predict_log(
            [facts or "" for facts, _charges in cases],
            [charges for _facts, charges in cases],
        )
        result = []
        for prediction, (_facts, charges) in zip(predictions, cases, strict=True):
            low, high = self._interval(charges)
            median, low_end, high_end = (
                round(max(math.expm1(value), 0.0), 1)
                for value in (prediction, prediction + low, prediction + high)
            )
            result.append(Expectation(median, low_end, high_end))
        return result

    def expected_months(self, facts: str, charges: Sequence[str]) -> Expectation:
        """(median, low, high) months of imprisonment similar cases received; outside low-high is unusual (90 %)."""
        return self.expected_many([(facts, charges)])[0]

    def deviation(self, facts: str, charges: Sequence[str], months: float) -> Deviation:
        """(flag, expected median months, recommended / expected) for a fixed recommendation of ``months``.

        ``flag`` means the recommendation lies outside the interval of
        `expected_months`. The ratio divides by at least one month.
        """
        return self.deviation_many([(facts, charges, months)])[0]

    def deviation_many(
        self, cases: Sequence[tuple[str, Sequence[str], float]]
    ) -> list[Deviation]:
        """`deviation` for many (facts, charges, months) at once."""
        expected = self.expected_many([(facts, charges) for facts, charges, _ in cases])
        return [
            Deviation(
                months < low or months > high,
                median,
                round(months / max(median, 1.0), 3),
            )
            for (_facts, _charges, months), (median, low, high) in zip(
                cases, expected, strict=True
            )
        ]


def _quantiles(errors: np.ndarray) -> tuple[float, float]:
    low, high = np.quantile(errors, INTERVAL)
    return float(low), float(high)


def sentencing_judgments(judgments: Sequence[Judgment]) -> list[Judgment]:
    """The judgments with a fixed term (or none): life and death sentences are left out."""
    return [
        judgment
        for judgment in judgments
        if not (judgment.life_imprisonment or judgment.death_penalty)
    ]


def _booster(seed: int) -> HistGradientBoostingRegressor:
    return HistGradientBoostingRegressor(
        learning_rate=0.05,
        max_iter=300,
        max_leaf_nodes=15,
        min_samples_leaf=20,
        l2_regularization=1.0,
        categorical_features=[0],
        random_state=seed,
    )


def sentencing_model_train(
    judgments: Sequence[Judgment],
    *,
    seed: int = 0,
    folds: int = 5,
    progress: Callable[[str], None] = lambda message: None,
) -> SentencingModel:
    """Train on ``judgments`` (the training split; life and death sentences are skipped)."""
    judgments = sentencing_judgments(judgments)
    facts = [judgment.facts for judgment in judgments]
    charge_sets = [list(judgment.charges) for judgment in judgments]
    targets = np.log1p(
        np.array([judgment.months for judgment in judgments], dtype=float)
    )
    progress(f"sentencing model: {len(judgments)} judgments")
    vectorizer = _vectorizer()
    matrix = vectorizer.fit_transform(facts)
    vectorizer.stop_words_ = None
    fold_of = np.random.default_rng(seed).permutation(len(judgments)) % folds

    ridge_out_of_fold = np.zeros(len(judgments))
    for fold in range(folds):
        inside = fold_of != fold
        ridge_out_of_fold[~inside] = (
            Ridge(alpha=1.0)
            .fit(matrix[inside], targets[inside])
            .predict(matrix[~inside])
        )
    ridge = Ridge(alpha=1.0).fit(matrix, targets)

    by_charge: dict[str, list[float]] = {}
    for charges, target in zip(charge_sets, targets, strict=True):
        for name in charges:
            by_charge.setdefault(name, []).append(float(target))
    pruned = _prune(matrix, KEPT_WEIGHTS)
    model = SentencingModel(
        vectorizer=vectorizer,
        ridge=ridge,
        neighbours=pruned,
        neighbour_targets=targets.astype(np.float32),
        neighbour_charges=[frozenset(charges) for charges in charge_sets],
        charge_medians={
            name: float(np.median(values)) for name, values in by_charge.items()
        },
        overall_median=float(np.median(targets)),
        categories={},
        booster=_booster(seed),
        error_quantiles={},
    )
    main_counts = Counter(model._main_charge(charges) for charges in charge_sets)
    frequent = sorted(
        name for name, count in main_counts.items() if name and count >= CATEGORY_CASES
    )
    model.categories = {
        name: position + 1 for position, name in enumerate(frequent[:250])
    }
    # Leave-one-out neighbours: a training case must not find itself.
    similarities = np.asarray((pruned @ pruned.T).todense())
    np.fill_diagonal(similarities, -1.0)
    neighbours = model._neighbour_features(similarities, charge_sets)
    features = model._features(
        facts, charge_sets, ridge=ridge_out_of_fold, neighbours=neighbours
    )

    progress("sentencing model: booster")
    errors = np.zeros(len(judgments))
    # One thread: the boosting's OpenMP threads crawl on a busy shared machine.
    with threadpool_limits(1):
        for fold in range(folds):
            inside = fold_of != fold
            booster = _booster(seed).fit(features[inside], targets[inside])
            errors[~inside] = targets[~inside] - booster.predict(features[~inside])
        model.booster.fit(features, targets)

    main_charges = [model._main_charge(charges) for charges in charge_sets]
    quantiles = {"": _quantiles(errors)}
    for name in set(main_charges):
        mine = errors[[main == name for main in main_charges]]
        if name and len(mine) >= MIN_CHARGE_CASES:
            quantiles[name] = _quantiles(mine)
    model.error_quantiles = quantiles
    model.metadata = {
        "version": MODEL_VERSION,
        "kind": "sentencing",
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "trained_on": "",
        "n": len(judgments),
        "seed": seed,
        "interval": list(INTERVAL),
        "out_of_fold_mean_absolute_log_error": float(np.mean(np.abs(errors))),
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
    }
    return model


@dataclass(frozen=True)
class SentencingEvaluation:
    """Held-out error of the expected term, and of the flag on planted deviations."""

    cases: int
    mean_absolute_error: float  # months
    median_absolute_error: float
    mean_absolute_log_error: float
    within_25_percent: (
        float  # |expected - actual| <= 25 % of actual (or 3 months for short terms)
    )
    interval_coverage: float
    baseline_mean_absolute_error: float  # median term of the main charge
    baseline_mean_absolute_log_error: float
    planted: int
    precision: float
    recall: float
    false_alarm_rate: float

    def lines(self) -> list[str]:
        return [
            f"held-out cases {self.cases}: MAE {self.mean_absolute_error:.1f} months (median {self.median_absolute_error:.1f}), "
            f"mean |log error| {self.mean_absolute_log_error:.3f}, within 25 % {self.within_25_percent:.3f}, "
            f"interval coverage {self.interval_coverage:.3f}",
            f"baseline (median term of the charge): MAE {self.baseline_mean_absolute_error:.1f} months, "
            f"mean |log error| {self.baseline_mean_absolute_log_error:.3f}",
            f"recommendation off by x2.5 or /2.5 in {self.planted}: precision {self.precision:.3f}, recall {self.recall:.3f}, "
            f"false alarms on the real terms {self.false_alarm_rate:.3f}",
        ]


def sentencing_model_evaluate(
    model: SentencingModel,
    judgments: Sequence[Judgment],
    *,
    seed: int = 0,
    rate: float = 0.2,
    factor: float = 2.5,
) -> SentencingEvaluation:
    """Errors on held-out ``judgments``, then the flag on planted deviations.

    ``rate`` of the terms are multiplied by ``factor`` (at least 6 months more)
    or, for terms of 6 months or more and half of the time, divided by it.
    """
    judgments = sentencing_judgments(judgments)
    actual = np.array([judgment.months for judgment in judgments], dtype=float)
    expected = model.expected_many(
        [(judgment.facts, judgment.charges) for judgment in judgments]
    )
    median = np.array([row[0] for row in expected])
    low = np.array([row[1] for row in expected])
    high = np.array([row[2] for row in expected])
    baseline = np.array(
        [
            math.expm1(model._charge_feature(judgment.charges)[0])
            for judgment in judgments
        ]
    )

    rng = np.random.default_rng(seed)
    planted = np.zeros(len(judgments), dtype=bool)
    planted[rng.permutation(len(judgments))[: round(rate * len(judgments))]] = True
    recommended = actual.copy()
    for row in np.where(planted)[0]:
        if actual[row] >= 6 and rng.random() < 0.5:
            recommended[row] = actual[row] / factor
        else:
            recommended[row] = max(actual[row] * factor, actual[row] + 6)
    flags = (recommended < low) | (recommended > high)
    true_positive = int((flags & planted).sum())
    return SentencingEvaluation(
        cases=len(judgments),
        mean_absolute_error=float(np.mean(np.abs(median - actual))),
        median_absolute_error=float(np.median(np.abs(median - actual))),
        mean_absolute_log_error=float(
            np.mean(np.abs(np.log1p(median) - np.log1p(actual)))
        ),
        within_25_percent=float(
            np.mean(np.abs(median - actual) <= np.maximum(0.25 * actual, 3))
        ),
        interval_coverage=float(np.mean((actual >= low) & (actual <= high))),
        baseline_mean_absolute_error=float(np.mean(np.abs(baseline - actual))),
        baseline_mean_absolute_log_error=float(
            np.mean(np.abs(np.log1p(baseline) - np.log1p(actual)))
        ),
        planted=int(planted.sum()),
        precision=true_positive / max(int(flags.sum()), 1),
        recall=true_positive / max(int(planted.sum()), 1),
        false_alarm_rate=float(flags[~planted].mean()) if (~planted).any() else 0.0,
    )
