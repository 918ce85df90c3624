"""Charge vs. facts: does the recorded charge (罪名) fit the facts text? (issue 3, item 5)

Two stages, both trained offline on court judgments (CAIL2018 JSON Lines) by
``jiancha train-charge-model`` and stored as one pickle file:

1. A suggestion model reads the facts and gives, for every charge it was trained
   on, the probability that the charge is among the judgment's charges: character
   1-3-gram TF-IDF, one linear SVM per charge (one-vs-rest, so a case may have
   several charges), and one Platt sigmoid fitted on out-of-fold scores to turn
   SVM scores into probabilities.
2. A flag model decides whether the *recorded* charges are probably wrong. It is
   a gradient-boosted classifier over a few numbers about the least likely
   recorded charge (`FLAG_FEATURE_NAMES`): its probability, rank and margin to
   the top suggestion, how often the suggestion model confuses the two (out of
   fold), whether they are a known confusable pair (`CONFUSABLE_PAIRS`) or share
   a chapter, how many of each charge's textbook cues (`textfeatures.CHARGE_CUES`)
   and of the words of its name occur, and whether the other recorded charges
   fit. It is trained on out-of-fold scores of the training split, each case
   once with its true charges and twice with a charge swapped for a plausible
   wrong one, weighted so that one case in five is wrong; its threshold is
   picked on inner cross-validation for a recall of `TARGET_RECALL`.

Charges the suggestion model never saw are not judged (`ChargeChecker.unjudged`).
Everything loads from the file; nothing touches the network. See
docs/apps/quality-models.md for the measured figures.
"""

import hashlib
import json
import math
import pickle
import random
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import sklearn
from scipy import sparse
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_limits

from jiancha.law.reference import current_charges, superseded_charges
from jiancha.quality.textfeatures import cue_fraction, text_normalize

MODEL_VERSION = 1
MODEL_FILENAME = "charge_model.pkl"
FACTS_LIMIT = 1500  # characters of facts read; the elements of the offence come first
# Recall aimed at on inner cross-validation. Unseen cases come out about as high or
# slightly higher (the final suggestion model has seen more cases than the out-of-fold
# ones): 0.92 on a validation split, 0.90-0.91 on held-out judgments.
TARGET_RECALL = 0.90
CORRUPTION_RATE = 0.2  # one case in five carries a wrong charge (issue 3, item 5)
# A charge is suggested from this probability on; the top one always is.
SUGGESTION_FLOOR = 0.2

# Pairs of charges that are easily confused on similar facts, both ways. Used to
# corrupt training cases for the flag model, as a flag feature, and by the
# benchmark (bench/charge_model.py) to plant wrong charges.
CONFUSABLE_PAIRS: tuple[tuple[str, str], ...] = (
    ("盗窃罪", "诈骗罪"),
    ("故意伤害罪", "故意杀人罪"),
    ("抢劫罪", "抢夺罪"),
    ("交通肇事罪", "危险驾驶罪"),
    ("抢劫罪", "盗窃罪"),
    ("诈骗罪", "合同诈骗罪"),
    ("诈骗罪", "信用卡诈骗罪"),
    ("信用卡诈骗罪", "妨害信用卡管理罪"),
    ("诈骗罪", "集资诈骗罪"),
    ("非法吸收公众存款罪", "集资诈骗罪"),
    ("故意伤害罪", "寻衅滋事罪"),
    ("寻衅滋事罪", "敲诈勒索罪"),
    ("寻衅滋事罪", "强迫交易罪"),
    ("敲诈勒索罪", "抢劫罪"),
    ("绑架罪", "非法拘禁罪"),
    ("故意杀人罪", "过失致人死亡罪"),
    ("交通肇事罪", "以危险方法危害公共安全罪"),
    ("强奸罪", "强制猥亵、侮辱罪"),
    ("强制猥亵、侮辱罪", "猥亵儿童罪"),
    ("走私、贩卖、运输、制造毒品罪", "非法持有毒品罪"),
    ("走私、贩卖、运输、制造毒品罪", "容留他人吸毒罪"),
    ("传播淫秽物品罪", "制作、复制、出版、贩卖、传播淫秽物品牟利罪"),
    ("组织卖淫罪", "引诱、容留、介绍卖淫罪"),
    ("非国家工作人员受贿罪", "职务侵占罪"),
    ("非国家工作人员受贿罪", "受贿罪"),
    ("介绍贿赂罪", "行贿罪"),
    ("贪污罪", "私分国有资产罪"),
    ("职务侵占罪", "盗窃罪"),
    ("滥用职权罪", "玩忽职守罪"),
    ("窝藏、包庇罪", "帮助犯罪分子逃避处罚罪"),
    ("妨害作证罪", "帮助毁灭、伪造证据罪"),
    ("非法狩猎罪", "危害珍贵、濒危野生动物罪"),
    ("危害国家重点保护植物罪", "滥伐林木罪"),
    ("盗伐林木罪", "滥伐林木罪"),
    ("骗取贷款、票据承兑、金融票证罪", "贷款诈骗罪"),
    ("虚开增值税专用发票、用于骗取出口退税、抵扣税款发票罪", "虚开发票罪"),
    ("假冒注册商标罪", "销售假冒注册商标的商品罪"),
    (
        "伪造公司、企业、事业单位、人民团体印章罪",
        "伪造、变造、买卖国家机关公文、证件、印章罪",
    ),
    ("生产、销售有毒、有害食品罪", "生产、销售不符合安全标准的食品罪"),
    (
        "非法持有、私藏枪支、弹药罪",
        "非法制造、买卖、运输、邮寄、储存枪支、弹药、爆炸物罪",
    ),
    ("妨害公务罪", "袭警罪"),
    ("掩饰、隐瞒犯罪所得、犯罪所得收益罪", "盗窃罪"),
)

FLAG_FEATURE_NAMES: tuple[str, ...] = (
    "probability",
    "log_probability",
    "rank",
    "top_probability",
    "log_margin",
    "confusion_prior",
    "relative_probability",
    "log_count",
    "top_log_count",
    "confusable_with_top",
    "same_chapter_as_top",
    "cues",
    "top_cues",
    "recorded_known",
    "second_probability",
    "entropy",
    "best_recorded_probability",
    "best_recorded_is_top",
    "recorded_in_top3",
    "log_length",
    "offence_markers",
    "name_overlap",
    "top_name_overlap",
)

_OFFENCE_MARKER = re.compile(r"××罪|(?:^|[。；;：:\s])[一二三四五六七八九十]+、")


# --- charge names ---------------------------------------------------------


@cache
def _official_charges() -> dict[str, tuple[str, str]]:
    return {row.name: (row.chapter, row.section) for row in current_charges()}


@cache
def charge_normalize(name: str) -> str:
    """The current official name of a charge given as CAIL or as recorded.

    Drops CAIL's brackets (``[窝藏、包庇]`` → 窝藏、包庇罪), appends 罪, writes 账
    for 帐, and follows renamings (强制猥亵、侮辱妇女罪 → 强制猥亵、侮辱罪). Names
    that are not on the current list are kept as they are (with 罪).
    """
    name = re.sub(r"[\[\]【】\s]", "", text_normalize(name)).replace("帐", "账")
    if not name:
        return ""
    if not name.endswith("罪"):
        name += "罪"
    official = _official_charges()
    renamed = superseded_charges()
    seen = set()
    while name not in official and renamed.get(name) and name not in seen:
        seen.add(name)
        name = renamed[name]
    return name


def charge_chapter(name: str) -> tuple[str, str]:
    """(chapter, section) of the Criminal Law's special part; empty for unknown names."""
    return _official_charges().get(name, ("", ""))


@cache
def _confusable_partners() -> dict[str, tuple[str, ...]]:
    partners: dict[str, list[str]] = {}
    for first, second in CONFUSABLE_PAIRS:
        partners.setdefault(first, []).append(second)
        partners.setdefault(second, []).append(first)
    return {name: tuple(sorted(set(values))) for name, values in partners.items()}


def confusable(first: str, second: str) -> bool:
    return second in _confusable_partners().get(first, ())


def plausible_wrong_charge(
    charge: str,
    candidates: Sequence[str],
    rng: random.Random,
    *,
    exclude: Iterable[str] = (),
) -> tuple[str, str] | None:
    """A wrong charge that could pass for ``charge``, and how it was chosen.

    A confusable partner among ``candidates`` if there is one (``"pair"``), else
    a charge of the same section, else of the same chapter (``"chapter"``), else
    any other candidate (``"any"``). None when ``candidates`` offers nothing.
    """
    excluded = {charge, *exclude}
    allowed = [name for name in candidates if name not in excluded]
    if not allowed:
        return None
    partners = [
        name for name in _confusable_partners().get(charge, ()) if name in allowed
    ]
    if partners:
        return rng.choice(partners), "pair"
    chapter, section = charge_chapter(charge)
    if section:
        same = [name for name in allowed if charge_chapter(name) == (chapter, section)]
        if same:
            return rng.choice(same), "chapter"
    if chapter:
        same = [name for name in allowed if charge_chapter(name)[0] == chapter]
        if same:
            return rng.choice(same), "chapter"
    return rng.choice(allowed), "any"


# --- judgments --------------------------------------------------------------


@dataclass(frozen=True)
class Judgment:
    """One court judgment of the training data: facts, charges, sentence."""

    facts: str
    charges: tuple[str, ...]
    months: int = 0
    life_imprisonment: bool = False
    death_penalty: bool = False


def judgments_read(path: str | Path) -> list[Judgment]:
    """Read CAIL-style JSON Lines (``fact``, ``meta.accusation``, ``meta.term_of_imprisonment``).

    Charges are normalised with `charge_normalize`. Raises ValueError naming the
    first line that is not such a record.
    """
    judgments = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                meta = record.get("meta") or {}
                term = meta.get("term_of_imprisonment") or {}
                charges = tuple(
                    dict.fromkeys(
                        charge_normalize(name) for name in meta.get("accusation") or ()
                    )
                )
                judgment = Judgment(
                    facts=str(record["fact"]),
                    charges=tuple(name for name in charges if name),
                    months=int(term.get("imprisonment") or 0),
                    life_imprisonment=bool(term.get("life_imprisonment")),
                    death_penalty=bool(term.get("death_penalty")),
                )
            except (ValueError, KeyError, TypeError, AttributeError) as error:
                raise ValueError(f"line {number}: {error}") from error
            if judgment.facts.strip() and judgment.charges:
                judgments.append(judgment)
    return judgments


def judgments_split(
    judgments: Sequence[Judgment], *, holdout: float, seed: int
) -> tuple[list[Judgment], list[Judgment]]:
    """(train, test) split by a seeded hash of the facts, so a repeated judgment stays on one side."""
    train, test = [], []
    for judgment in judgments:
        digest = hashlib.sha256(f"{seed}:{judgment.facts}".encode()).digest()
        (test if int.from_bytes(digest[:8], "big") / 2**64 < holdout else train).append(
            judgment
        )
    return train, test


def corrupt_charges(
    charge_sets: Sequence[Sequence[str]],
    *,
    labels: Sequence[str],
    rate: float,
    seed: int,
) -> list[tuple[tuple[str, ...], str]]:
    """Plant a plausible wrong charge in ``rate`` of the cases (chosen at random).

    Returns, per case, the recorded charges and the kind of swap (``""`` when
    left as is, else ``"pair"``, ``"chapter"`` or ``"any"``): one recorded charge
    is replaced by `plausible_wrong_charge` from ``labels``.
    """
    rng = random.Random(seed)
    order = list(range(len(charge_sets)))
    rng.shuffle(order)
    wanted = round(rate * len(charge_sets))
    result: list[tuple[tuple[str, ...], str]] = [
        (tuple(charges), "") for charges in charge_sets
    ]
    planted = 0
    for index in order:
        if planted >= wanted:
            break
        charges = list(charge_sets[index])
        if not charges:
            continue
        position = rng.randrange(len(charges))
        swap = plausible_wrong_charge(charges[position], labels, rng, exclude=charges)
        if swap is None:
            continue
        charges[position] = swap[0]
        result[index] = (tuple(charges), swap[1])
        planted += 1
    return result


# --- the suggestion model ------------------------------------------------------


def facts_prepare(text: str) -> str:
    """What the vectoriser reads: half-width, the first `FACTS_LIMIT` characters, digits as 0."""
    return re.sub(r"\d+", "0", text_normalize(text)[:FACTS_LIMIT])


def _vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer="char",
        ngram_range=(1, 3),
        min_df=2,
        max_features=60_000,
        sublinear_tf=True,
        preprocessor=facts_prepare,
    )


@dataclass
class _LinearScores:
    """One linear SVM per charge, stored as a float32 matrix (smaller than the estimators)."""

    weights: np.ndarray  # (labels, features)
    intercepts: np.ndarray  # (labels,)

    @classmethod
    def fit(
        cls, features: sparse.csr_matrix, targets: np.ndarray, *, c: float
    ) -> "_LinearScores":
        weights = np.zeros((targets.shape[1], features.shape[1]), dtype=np.float32)
        intercepts = np.full(targets.shape[1], -1.0, dtype=np.float32)
        for column in range(targets.shape[1]):
            target = targets[:, column]
            if 0 < target.sum() < len(target):
                model = LinearSVC(C=c, random_state=0).fit(features, target)
                weights[column] = model.coef_[0]
                intercepts[column] = model.intercept_[0]
        return cls(weights, intercepts)

    def scores(self, features: sparse.csr_matrix) -> np.ndarray:
        return np.asarray(features @ self.weights.T) + self.intercepts


def _sigmoid(values: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(values, -30, 30)))


def _targets(charge_sets: Sequence[Sequence[str]], labels: Sequence[str]) -> np.ndarray:
    index = {label: position for position, label in enumerate(labels)}
    targets = np.zeros((len(charge_sets), len(labels)), dtype=np.int8)
    for row, charges in enumerate(charge_sets):
        for charge in charges:
            if charge in index:
                targets[row, index[charge]] = 1
    return targets


# --- the flag model -----------------------------------------------------------


def _name_bigrams(name: str) -> set[str]:
    """Character bigrams of a charge's name, within its 、-separated parts, without 罪."""
    parts = re.split(r"[、，,]", name.removesuffix("罪"))
    return {part[index : index + 2] for part in parts for index in range(len(part) - 1)}


@dataclass
class _FlagStatistics:
    """Out-of-fold behaviour of the suggestion model, read by the flag features.

    The flag model learns from the training cases themselves, so their features
    read tables built without their fold (`_fold_statistics`), scaled to the full
    size: a case must not count in the tables it is judged by (a charge seen
    once would look well known to its own case), and a clean case and its
    corrupted copies must read the same tables (else the model learns to tell
    them apart by the tables, not by the facts).
    """

    labels: list[str]
    counts: np.ndarray  # training cases per label
    # sum of the out-of-fold probabilities of a label on its own cases
    own_probability_sums: np.ndarray
    typical_prior: float  # the median of those probabilities over all labels
    confusion: np.ndarray  # (top label, true label) out-of-fold counts
    top_counts: np.ndarray
    prior: np.ndarray
    confusable: np.ndarray  # (label, label) bool
    same_chapter: np.ndarray  # (label, label) bool
    # per label: bigram of its name -> inverse document frequency
    name_bigrams: list[dict[str, float]]

    @classmethod
    def build(
        cls,
        labels: list[str],
        probabilities: np.ndarray,
        targets: np.ndarray,
        texts: Sequence[str],
        *,
        scale: float = 1.0,
        name_bigrams: list[dict[str, float]] | None = None,
    ) -> "_FlagStatistics":
        """Tables from out-of-fold ``probabilities``; counts multiplied by ``scale``."""
        count = len(labels)
        if name_bigrams is None:
            bigrams = [_name_bigrams(label) for label in labels]
            wanted = set().union(*bigrams)
            frequency: Counter[str] = Counter()
            for text in texts:
                text = text_normalize(text)[:FACTS_LIMIT]
                frequency.update({gram for gram in wanted if gram in text})
            name_bigrams = [
                {
                    gram: math.log((len(texts) + 1) / (frequency[gram] + 1))
                    for gram in grams
                }
                for grams in bigrams
            ]
        top = probabilities.argmax(axis=1)
        confusion = np.zeros((count, count))
        for row, label in enumerate(top):
            confusion[label] += targets[row]
        own = probabilities[targets == 1]
        chapters = [charge_chapter(label) for label in labels]
        return cls(
            labels=labels,
            counts=scale * targets.sum(axis=0),
            own_probability_sums=scale * (probabilities * targets).sum(axis=0),
            typical_prior=float(np.median(own)) if len(own) else 0.5,
            confusion=scale * confusion,
            top_counts=scale * np.bincount(top, minlength=count),
            prior=(targets.sum(axis=0) + 1) / (targets.sum() + count),
            confusable=np.array(
                [[confusable(first, second) for second in labels] for first in labels]
            ),
            same_chapter=np.array(
                [
                    [bool(first[0]) and first[0] == second[0] for second in chapters]
                    for first in chapters
                ]
            ),
            name_bigrams=name_bigrams,
        )

    def name_overlap(self, label: int, text: str) -> float:
        """IDF-weighted share of the bigrams of the charge's name found in the text; -1 for a one-character name.

        CAIL masks the charge's name itself (××), but its words still show up in
        the facts (卖血 for 非法组织卖血罪), which matters most for rare charges.
        """
        weights = self.name_bigrams[label]
        total = sum(weights.values())
        if not total:
            return -1.0
        return sum(weight for gram, weight in weights.items() if gram in text) / total

    def features(
        self, probabilities: np.ndarray, recorded: Sequence[int], text: str
    ) -> list[float]:
        """`FLAG_FEATURE_NAMES` for the least likely recorded charge (indices into labels)."""
        order = np.argsort(-probabilities)
        top = int(order[0])
        weakest = min(recorded, key=lambda label: probabilities[label])
        probability = float(probabilities[weakest])
        normalised = probabilities / max(probabilities.sum(), 1e-9)
        count = self.counts[weakest]
        typical = (self.own_probability_sums[weakest] + 2 * self.typical_prior) / (
            count + 2
        )
        smoothing = 5.0
        confusion_prior = (
            self.confusion[top, weakest] + smoothing * self.prior[weakest]
        ) / (self.top_counts[top] + smoothing)
        return [
            probability,
            math.log(probability + 1e-6),
            float(min(int(np.where(order == weakest)[0][0]), 20)),
            float(probabilities[top]),
            math.log(probabilities[top] + 1e-6) - math.log(probability + 1e-6),
            float(confusion_prior),
            probability / max(typical, 1e-3),
            math.log1p(count),
            math.log1p(self.counts[top]),
            float(self.confusable[weakest, top]),
            float(self.same_chapter[weakest, top]),
            cue_fraction(text, self.labels[weakest]),
            cue_fraction(text, self.labels[top]) if top != weakest else -1.0,
            float(len(recorded)),
            float(probabilities[order[1]]) if len(order) > 1 else 0.0,
            float(-(normalised * np.log(normalised + 1e-12)).sum()),
            float(max(probabilities[label] for label in recorded)),
            float(top in recorded),
            float(sum(1 for label in recorded if label in order[:3])),
            math.log1p(len(text)),
            float(min(len(_OFFENCE_MARKER.findall(text)), 10)),
            self.name_overlap(weakest, text[:FACTS_LIMIT]),
            self.name_overlap(top, text[:FACTS_LIMIT]) if top != weakest else -1.0,
        ]


def _flag_classifier(seed: int) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(
        learning_rate=0.05,
        max_iter=250,
        max_leaf_nodes=15,
        min_samples_leaf=30,
        l2_regularization=1.0,
        random_state=seed,
    )


# --- the checker ----------------------------------------------------------------


class CheckResult(NamedTuple):
    """The verdict on one case: are its recorded charges probably wrong for its facts?

    ``confidence`` is the estimated probability that a recorded charge is wrong
    (calibrated for one wrong case in five); ``flag`` is ``confidence`` at or
    above the model's threshold. ``suggested`` lists the likeliest charges, best
    first. Recorded charges the model was not trained on are not judged (see
    `ChargeChecker.unjudged`); with none left, ``flag`` is false and
    ``confidence`` 0.
    """

    flag: bool
    suggested: list[str]
    confidence: float


class ModelMissingError(FileNotFoundError):
    """The model file has not been trained yet (``jiancha train-charge-model``)."""


def default_model_path(filename: str = MODEL_FILENAME) -> Path:
    from django.conf import settings

    return Path(settings.MODEL_DIR) / filename


def metadata_path(path: Path) -> Path:
    return path.with_suffix(".json")


def model_save(model: Any, path: Path, metadata: dict[str, Any]) -> None:
    """Pickle ``model`` to ``path`` and write ``metadata`` beside it as JSON (same stem)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    with open(temporary, "wb") as handle:
        pickle.dump(model, handle, protocol=pickle.HIGHEST_PROTOCOL)
    temporary.replace(path)
    metadata_path(path).write_text(
        json.dumps(metadata, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )


def model_load(path: Path, kind: type) -> Any:
    """Unpickle a model written by `model_save`; the file must be one's own (pickle runs code)."""
    if not path.is_file():
        raise ModelMissingError(str(path))
    with open(path, "rb") as handle:
        model = pickle.load(handle)  # a local file written by train-charge-model
    if not isinstance(model, kind) or getattr(model, "version", None) != MODEL_VERSION:
        raise ValueError(
            f"{path} is not a version {MODEL_VERSION} {kind.__name__} file"
        )
    return model


@dataclass
class ChargeChecker:
    """The trained charge check: suggestion model, flag model and its threshold."""

    labels: list[str]
    vectorizer: TfidfVectorizer
    linear: _LinearScores
    calibration: tuple[float, float]
    statistics: _FlagStatistics
    flag_model: HistGradientBoostingClassifier
    threshold: float
    metadata: dict[str, Any] = field(default_factory=dict)
    version: int = MODEL_VERSION

    @classmethod
    def load(cls, path: str | Path | None = None) -> "ChargeChecker":
        """Load from ``path`` (default ``settings.MODEL_DIR / "charge_model.pkl"``); `ModelMissingError` if absent."""
        return model_load(Path(path) if path else default_model_path(), cls)

    def save(self, path: str | Path | None = None) -> Path:
        target = Path(path) if path else default_model_path()
        model_save(self, target, self.metadata)
        return target

    def probabilities(self, facts: Sequence[str]) -> np.ndarray:
        """(cases, labels): probability that each label is among the case's charges."""
        slope, intercept = self.calibration
        return _sigmoid(
            slope * self.linear.scores(self.vectorizer.transform(facts)) + intercept
        )

    def suggest(self, probabilities: np.ndarray, limit: int = 3) -> list[str]:
        order = np.argsort(-probabilities)[:limit]
        return [
            self.labels[index]
            for rank, index in enumerate(order)
            if rank == 0 or probabilities[index] >= SUGGESTION_FLOOR
        ]

    def check(self, facts: str, charges: Sequence[str]) -> CheckResult:
        return self.check_many([(facts, charges)])[0]

    def check_many(
        self, cases: Iterable[tuple[str, Sequence[str]]]
    ) -> list[CheckResult]:
        """`check` for many (facts, charges) pairs at once (one vectorisation, one flag-model call)."""
        cases = [
            (
                facts or "",
                [charge_normalize(name) for name in charges if name and name.strip()],
            )
            for facts, charges in cases
        ]
        if not cases:
            return []
        probabilities = self.probabilities([facts for facts, _charges in cases])
        index = {label: position for position, label in enumerate(self.labels)}
        rows, features = [], []
        results: list[CheckResult] = []
        for row, (facts, charges) in enumerate(cases):
            known = [index[name] for name in dict.fromkeys(charges) if name in index]
            suggested = self.suggest(probabilities[row]) if facts.strip() else []
            results.append(CheckResult(False, suggested, 0.0))
            if known and facts.strip():
                rows.append(row)
                features.append(
                    self.statistics.features(
                        probabilities[row], known, text_normalize(facts)
                    )
                )
        if rows:
            with threadpool_limits(1):  # a few rows: threads cost more than they save
                wrong = self.flag_model.predict_proba(np.array(features))[:, 1]
            for row, probability in zip(rows, wrong, strict=True):
                results[row] = CheckResult(
                    bool(probability >= self.threshold),
                    results[row].suggested,
                    round(float(probability), 4),
                )
        return results

    def unjudged(self, charges: Sequence[str]) -> list[str]:
        """The charges (normalised) the model was not trained on, so `check` ignores them."""
        known = set(self.labels)
        return [
            name
            for name in (charge_normalize(charge) for charge in charges)
            if name and name not in known
        ]


def _fit_linear(
    features: sparse.csr_matrix,
    targets: np.ndarray,
    *,
    c: float,
    folds: int,
    seed: int,
    progress: Callable[[str], None],
) -> tuple[_LinearScores, np.ndarray]:
    """The final per-label SVMs and the out-of-fold scores of every training case."""
    rng = np.random.default_rng(seed)
    fold_of = rng.permutation(features.shape[0]) % folds
    out_of_fold = np.zeros(targets.shape, dtype=np.float64)
    for fold in range(folds):
        progress(f"suggestion model: fold {fold + 1}/{folds}")
        inside = fold_of != fold
        out_of_fold[~inside] = _LinearScores.fit(
            features[inside], targets[inside], c=c
        ).scores(features[~inside])
    progress("suggestion model: all training cases")
    return _LinearScores.fit(features, targets, c=c), out_of_fold


def _calibrate(scores: np.ndarray, targets: np.ndarray) -> tuple[float, float]:
    model = LogisticRegression(C=1.0).fit(scores.reshape(-1, 1), targets.reshape(-1))
    return float(model.coef_[0, 0]), float(model.intercept_[0])


def _fold_statistics(
    statistics: _FlagStatistics,
    probabilities: np.ndarray,
    targets: np.ndarray,
    texts: Sequence[str],
    fold_of: np.ndarray,
) -> list[_FlagStatistics]:
    """Per fold, the tables of the other folds scaled to the full size (see `_FlagStatistics`)."""
    tables = []
    for fold in range(int(fold_of.max()) + 1):
        others = fold_of != fold
        tables.append(
            _FlagStatistics.build(
                statistics.labels,
                probabilities[others],
                targets[others],
                texts,
                scale=len(fold_of) / max(int(others.sum()), 1),
                name_bigrams=statistics.name_bigrams,
            )
        )
    return tables


def _flag_training_set(
    tables: Sequence[_FlagStatistics],
    fold_of: np.ndarray,
    probabilities: np.ndarray,
    charge_sets: Sequence[tuple[str, ...]],
    texts: Sequence[str],
    *,
    seed: int,
    swaps: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Features, wrong-or-not labels, weights and case groups: every case as recorded plus ``swaps`` corruptions.

    A case's features read ``tables[fold_of[case]]``.
    """
    rng = random.Random(seed)
    labels = tables[0].labels
    index = {label: position for position, label in enumerate(labels)}
    features, wrong, weights, groups = [], [], [], []
    # Weights make wrong cases one in five, as in the goal, so the output is calibrated for it.
    wrong_weight = CORRUPTION_RATE / (1 - CORRUPTION_RATE) / swaps
    for row, charges in enumerate(charge_sets):
        known = [index[name] for name in charges if name in index]
        if not known:
            continue
        text = text_normalize(texts[row])
        statistics = tables[fold_of[row]]
        features.append(statistics.features(probabilities[row], known, text))
        wrong.append(0)
        weights.append(1.0)
        groups.append(row)
        for _swap in range(swaps):
            recorded = list(charges)
            position = rng.randrange(len(recorded))
            swap = plausible_wrong_charge(
                recorded[position], labels, rng, exclude=recorded
            )
            if swap is None:
                continue
            recorded[position] = swap[0]
            features.append(
                statistics.features(
                    probabilities[row],
                    [index[name] for name in recorded if name in index],
                    text,
                )
            )
            wrong.append(1)
            weights.append(wrong_weight)
            groups.append(row)
    return np.array(features), np.array(wrong), np.array(weights), np.array(groups)


def _recall_threshold(scores: np.ndarray, wrong: np.ndarray, recall: float) -> float:
    """The highest threshold that still flags ``recall`` of the wrong cases."""
    flagged = np.sort(scores[wrong == 1])[::-1]
    if not len(flagged):
        return 0.5
    position = min(len(flagged) - 1, max(0, math.ceil(recall * len(flagged)) - 1))
    return float(flagged[position])


@dataclass
class _SuggestionStage:
    """The trained suggestion model plus its out-of-fold scores on the training cases."""

    labels: list[str]
    vectorizer: TfidfVectorizer
    linear: _LinearScores
    out_of_fold: np.ndarray
    targets: np.ndarray


def _suggestion_stage_train(
    judgments: Sequence[Judgment],
    *,
    seed: int,
    folds: int,
    c: float,
    progress: Callable[[str], None],
) -> _SuggestionStage:
    texts = [judgment.facts for judgment in judgments]
    charge_sets = [judgment.charges for judgment in judgments]
    labels = sorted({charge for charges in charge_sets for charge in charges})
    targets = _targets(charge_sets, labels)
    progress(f"vectorising {len(texts)} facts texts")
    vectorizer = _vectorizer()
    features = vectorizer.fit_transform(texts)
    vectorizer.stop_words_ = (
        None  # the dropped n-grams are not needed and would bloat the file
    )
    linear, out_of_fold = _fit_linear(
        features, targets, c=c, folds=folds, seed=seed, progress=progress
    )
    return _SuggestionStage(labels, vectorizer, linear, out_of_fold, targets)


def _flag_stage_train(
    stage: _SuggestionStage,
    judgments: Sequence[Judgment],
    *,
    seed: int,
    folds: int,
    swaps: int,
    target_recall: float,
    progress: Callable[[str], None],
) -> ChargeChecker:
    texts = [judgment.facts for judgment in judgments]
    charge_sets = [judgment.charges for judgment in judgments]
    labels, targets = stage.labels, stage.targets
    calibration = _calibrate(stage.out_of_fold, targets)
    probabilities = _sigmoid(calibration[0] * stage.out_of_fold + calibration[1])
    statistics = _FlagStatistics.build(labels, probabilities, targets, texts)
    table_of = np.random.default_rng(seed + 2).permutation(len(charge_sets)) % folds
    tables = _fold_statistics(statistics, probabilities, targets, texts, table_of)

    progress("flag model")
    flag_features, wrong, weights, groups = _flag_training_set(
        tables, table_of, probabilities, charge_sets, texts, seed=seed, swaps=swaps
    )
    # Threshold from inner cross-validation, grouped by case so a case's swaps stay together.
    fold_of = (
        np.random.default_rng(seed + 1).permutation(len(charge_sets))[groups] % folds
    )
    scores = np.zeros(len(wrong))
    # One thread: the boosting's OpenMP threads crawl on a busy shared machine.
    with threadpool_limits(1):
        for fold in range(folds):
            inside = fold_of != fold
            model = _flag_classifier(seed).fit(
                flag_features[inside], wrong[inside], sample_weight=weights[inside]
            )
            scores[~inside] = model.predict_proba(flag_features[~inside])[:, 1]
        flag_model = _flag_classifier(seed).fit(
            flag_features, wrong, sample_weight=weights
        )
    threshold = _recall_threshold(scores, wrong, target_recall)

    counts = Counter(charge for charges in charge_sets for charge in charges)
    metadata = {
        "version": MODEL_VERSION,
        "kind": "charge",
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "trained_on": "",
        "n": len(judgments),
        "seed": seed,
        "threshold": threshold,
        "target_recall": target_recall,
        "labels": labels,
        "label_counts": [counts[label] for label in labels],
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
    }
    return ChargeChecker(
        labels,
        stage.vectorizer,
        stage.linear,
        calibration,
        statistics,
        flag_model,
        threshold,
        metadata,
    )


def charge_checker_train(
    judgments: Sequence[Judgment],
    *,
    seed: int = 0,
    folds: int = 5,
    c: float = 1.0,
    swaps: int = 2,
    target_recall: float = TARGET_RECALL,
    progress: Callable[[str], None] = lambda message: None,
) -> ChargeChecker:
    """Train both stages on ``judgments`` (the training split; nothing else is read)."""
    stage = _suggestion_stage_train(
        judgments, seed=seed, folds=folds, c=c, progress=progress
    )
    return _flag_stage_train(
        stage,
        judgments,
        seed=seed,
        folds=folds,
        swaps=swaps,
        target_recall=target_recall,
        progress=progress,
    )


# --- evaluation -------------------------------------------------------------------


@dataclass(frozen=True)
class ChargeEvaluation:
    """Figures of a charge model on held-out judgments (issue 3, item 5)."""

    cases: int
    top1: float
    top3: float
    macro_f1: float
    planted: int
    flagged: int
    precision: float
    recall: float
    recall_by_kind: dict[str, float]
    false_alarm_rate: float

    def lines(self) -> list[str]:
        by_kind = ", ".join(
            f"{kind} {value:.3f}" for kind, value in sorted(self.recall_by_kind.items())
        )
        return [
            f"held-out cases {self.cases}: top-1 {self.top1:.3f}  top-3 {self.top3:.3f}  macro-F1 {self.macro_f1:.3f}",
            f"wrong charge planted in {self.planted}: flagged {self.flagged}, precision {self.precision:.3f}, recall {self.recall:.3f} ({by_kind}), false alarms on correct cases {self.false_alarm_rate:.3f}",
        ]


def suggestion_figures(
    ranked: Sequence[Sequence[str]], truths: Sequence[Sequence[str]]
) -> tuple[float, float, float]:
    """top-1, top-3 and macro-F1 of ranked suggestions against the true charge sets.

    Macro-F1 treats each case as single-label: the prediction is the top
    suggestion and the truth is that suggestion if it is one of the true charges,
    else the first true charge; averaged over every label seen in either.
    """
    top1 = float(
        np.mean(
            [
                bool(ranking) and ranking[0] in truth
                for ranking, truth in zip(ranked, truths, strict=True)
            ]
        )
    )
    top3 = float(
        np.mean(
            [
                any(name in truth for name in ranking[:3])
                for ranking, truth in zip(ranked, truths, strict=True)
            ]
        )
    )
    predicted = [ranking[0] if ranking else "" for ranking in ranked]
    actual = [
        guess if guess in truth else truth[0]
        for guess, truth in zip(predicted, truths, strict=True)
    ]
    return (
        top1,
        top3,
        float(f1_score(actual, predicted, average="macro", zero_division=0)),
    )


def flag_figures(
    flags: Sequence[bool], kinds: Sequence[str]
) -> tuple[int, int, float, float, dict[str, float], float]:
    """planted, flagged, precision, recall, recall per kind of swap, false-alarm rate."""
    flags_array = np.array(flags, dtype=bool)
    planted = np.array([bool(kind) for kind in kinds])
    true_positive = int((flags_array & planted).sum())
    precision = true_positive / max(int(flags_array.sum()), 1)
    recall = true_positive / max(int(planted.sum()), 1)
    by_kind = {
        kind: float(flags_array[[item == kind for item in kinds]].mean())
        for kind in sorted(set(kinds) - {""})
    }
    false_alarms = float(flags_array[~planted].mean()) if (~planted).any() else 0.0
    return (
        int(planted.sum()),
        int(flags_array.sum()),
        precision,
        recall,
        by_kind,
        false_alarms,
    )


def charge_checker_evaluate(
    checker: ChargeChecker,
    judgments: Sequence[Judgment],
    *,
    seed: int = 0,
    rate: float = CORRUPTION_RATE,
    recorded: Sequence[tuple[tuple[str, ...], str]] | None = None,
) -> ChargeEvaluation:
    """Suggestion and flag figures on held-out ``judgments``, ``rate`` of them given a wrong charge.

    ``recorded`` (from `corrupt_charges`) fixes the planted charges, so that
    several models can be compared on the same cases.
    """
    truths = [judgment.charges for judgment in judgments]
    if recorded is None:
        recorded = corrupt_charges(truths, labels=checker.labels, rate=rate, seed=seed)
    results = checker.check_many(
        [
            (judgment.facts, charges)
            for judgment, (charges, _kind) in zip(judgments, recorded, strict=True)
        ]
    )
    probabilities = checker.probabilities([judgment.facts for judgment in judgments])
    ranked = [
        [checker.labels[index] for index in np.argsort(-row)[:3]]
        for row in probabilities
    ]
    top1, top3, macro_f1 = suggestion_figures(ranked, truths)
    planted, flagged, precision, recall, by_kind, false_alarms = flag_figures(
        [result.flag for result in results], [kind for _charges, kind in recorded]
    )
    return ChargeEvaluation(
        len(judgments),
        top1,
        top3,
        macro_f1,
        planted,
        flagged,
        precision,
        recall,
        by_kind,
        false_alarms,
    )
