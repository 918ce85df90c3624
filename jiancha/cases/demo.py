"""Demo cases: a deterministic, streaming generator of case-exchange records.

``generate_cases(count, seed)`` yields ``count`` records (dicts in the exchange format,
docs/exchange-format.md) one at a time, so that millions of cases can be written without
holding them in memory. The same ``count``, ``seed`` and date range always give the same
records, byte for byte once serialised.

What the records model:

* the national mix of the four functions (四大检察), criminal charges weighted like the
  national caseload (危险驾驶罪, 盗窃罪, 帮助信息网络犯罪活动罪 ... first) with the articles of
  the packaged charge list;
* 捕诉一体: about half of the criminal matters start with an arrest review; most of those
  are followed by a prosecution review of the same matter (``matter_id``), the same persons,
  in the same unit, handled by the same procurator;
* the statutory limits of DOMAIN.md §2 (checked by :mod:`jiancha.cases.deadlines`): every
  decision is on time unless the record carries a deliberate defect;
* national rates calibrated to the published SPP figures for 2024, packaged with their
  sources in ``data/demo_calibration.json`` (不捕率, 不诉率, 诉前羁押率, 认罪认罚适用率,
  确定刑占比, 量刑建议采纳率, acquittals ...);
* a small, known share of defects (late decisions, missing rights notices, a third return
  for supplementary investigation, an article that does not match the charge ...), reported
  by :func:`generate_cases_with_defects` and never written into the records.

The data is a snapshot at the end of the date range: cases received in the last weeks are
still open, and events after that day are not there yet.
"""

import datetime
import json
import math
import random
from bisect import bisect
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from itertools import accumulate
from operator import itemgetter
from pathlib import Path
from typing import Any

from jiancha.accounts.demo import DemoUnit, demo_units, unit_procurators
from jiancha.core.calendar import add_months, is_working_day, next_working_day
from jiancha.law.reference import CRIMINAL_LAW, article_numbers, current_charges

CALIBRATION_FILE = Path(__file__).resolve().parent / "data" / "demo_calibration.json"
DEFAULT_FROM = datetime.date(2023, 1, 1)
DEFAULT_TO = datetime.date(2025, 12, 31)

# Defect labels, as reported by generate_cases_with_defects and ``demo-data --manifest``.
LATE_ARREST_DECISION = "late_arrest_decision"
LATE_PROSECUTION_DECISION = "late_prosecution_decision"
MISSING_RIGHTS_NOTIFIED = "missing_rights_notified"
LATE_RIGHTS_NOTIFIED = "late_rights_notified"
THIRD_RETURN = "third_return"
LATE_RESUBMISSION = "late_resubmission"
ARTICLE_MISMATCH = "article_mismatch"
LATE_SUPERVISION_DECISION = "late_supervision_decision"
# What each defect looks like in a record (docs and tests).
DEFECT_DESCRIPTIONS = {
    LATE_ARREST_DECISION: "arrest_decided after the 7/15/20-day limit",
    LATE_PROSECUTION_DECISION: "prosecution_decided after the review period",
    MISSING_RIGHTS_NOTIFIED: "a suspect of a closed prosecution review was never notified",
    LATE_RIGHTS_NOTIFIED: "a suspect was notified after the 3-day limit",
    THIRD_RETURN: "a third return for supplementary investigation (at most two)",
    LATE_RESUBMISSION: "the police resubmitted more than a month after a return",
    ARTICLE_MISMATCH: "a person's articles are not those of the charges",
    LATE_SUPERVISION_DECISION: "civil/administrative supervision closed after 3 months",
}
DEFECTS = (
    LATE_ARREST_DECISION,
    LATE_PROSECUTION_DECISION,
    MISSING_RIGHTS_NOTIFIED,
    LATE_RIGHTS_NOTIFIED,
    THIRD_RETURN,
    LATE_RESUBMISSION,
    ARTICLE_MISMATCH,
    LATE_SUPERVISION_DECISION,
)


@cache
def calibration() -> dict[str, Any]:
    """The packaged calibration targets and defect shares (``data/demo_calibration.json``)."""
    data: dict[str, Any] = json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))
    return data


def target(name: str) -> float:
    return float(calibration()["targets"][name]["value"])


# --- charges -----------------------------------------------------------------------------------

# Relative caseload by charge (persons prosecuted, roughly as in SPP and court reports of
# 2023-2024). Every other charge of the current list gets a small weight (OTHER_CHARGE_WEIGHT).
CHARGE_WEIGHTS: dict[str, float] = {
    "危险驾驶罪": 30.0, "盗窃罪": 19.0, "帮助信息网络犯罪活动罪": 13.0, "诈骗罪": 11.0,
    "故意伤害罪": 7.0, "开设赌场罪": 6.0, "掩饰、隐瞒犯罪所得、犯罪所得收益罪": 5.5,
    "走私、贩卖、运输、制造毒品罪": 4.5, "寻衅滋事罪": 4.5, "交通肇事罪": 4.0,
    "妨害信用卡管理罪": 1.3, "非法经营罪": 1.2, "聚众斗殴罪": 1.2, "强奸罪": 1.2,
    "非法吸收公众存款罪": 1.5, "信用卡诈骗罪": 1.0, "抢劫罪": 1.0, "敲诈勒索罪": 1.0,
    "赌博罪": 1.0, "妨害公务罪": 1.0, "侵犯公民个人信息罪": 1.0, "拒不执行判决、裁定罪": 1.0,
    "虚开增值税专用发票、用于骗取出口退税、抵扣税款发票罪": 1.0, "组织、领导传销活动罪": 0.8,
    "合同诈骗罪": 0.8, "容留他人吸毒罪": 0.8, "职务侵占罪": 0.8, "受贿罪": 0.8,
    "故意杀人罪": 0.6, "袭警罪": 0.6, "非法捕捞水产品罪": 0.6, "滥伐林木罪": 0.6,
    "重大责任事故罪": 0.6, "非法拘禁罪": 0.6, "非法采矿罪": 0.5, "污染环境罪": 0.5,
    "拒不支付劳动报酬罪": 0.5, "非法持有毒品罪": 0.5, "故意毁坏财物罪": 0.4,
    "猥亵儿童罪": 0.4, "强制猥亵、侮辱罪": 0.4, "生产、销售有毒、有害食品罪": 0.4,
    "非法占用农用地罪": 0.4, "贪污罪": 0.4, "失火罪": 0.3, "组织卖淫罪": 0.3,
    "生产、销售伪劣产品罪": 0.3, "走私普通货物、物品罪": 0.3, "挪用资金罪": 0.3,
    "伪造、变造、买卖国家机关公文、证件、印章罪": 0.3, "非法狩猎罪": 0.3, "行贿罪": 0.3,
    "协助组织卖淫罪": 0.2, "抢夺罪": 0.2, "假冒注册商标罪": 0.2, "销售假冒注册商标的商品罪": 0.2,
    "骗取贷款、票据承兑、金融票证罪": 0.2, "集资诈骗罪": 0.2, "非国家工作人员受贿罪": 0.2,
    "招摇撞骗罪": 0.2, "窝藏、包庇罪": 0.2, "危害珍贵、濒危野生动物罪": 0.2,
    "滥用职权罪": 0.15, "玩忽职守罪": 0.15, "侵犯著作权罪": 0.1, "挪用公款罪": 0.1,
    "组织参与国（境）外赌博罪": 0.1, "非法侵入住宅罪": 0.1, "组织、领导、参加黑社会性质组织罪": 0.1,
    "组织考试作弊罪": 0.05, "单位行贿罪": 0.05, "伪证罪": 0.05, "利用影响力受贿罪": 0.03,
}  # fmt: skip
OTHER_CHARGE_WEIGHT = 0.004

# Serious violent and organised crime goes to the major-crime line (第二检察部).
MAJOR_CRIMES = frozenset(
    {
        "故意杀人罪", "抢劫罪", "强奸罪", "走私、贩卖、运输、制造毒品罪", "组织、领导、参加黑社会性质组织罪",
        "绑架罪", "放火罪", "爆炸罪", "投放危险物质罪", "以危险方法危害公共安全罪", "拐卖妇女、儿童罪",
    }
)  # fmt: skip
# How likely the police ask for an arrest, relative (scaled to the calibrated share of
# criminal matters with an arrest review). 危险驾驶罪 carries only 拘役: never an arrest.
ARREST_PROPENSITY: dict[str, float] = {
    "危险驾驶罪": 0.0, "交通肇事罪": 0.15, "帮助信息网络犯罪活动罪": 0.45, "盗窃罪": 0.5,
    "掩饰、隐瞒犯罪所得、犯罪所得收益罪": 0.4, "开设赌场罪": 0.55, "诈骗罪": 0.7, "故意伤害罪": 0.5,
    "寻衅滋事罪": 0.6, "妨害信用卡管理罪": 0.5, "非法捕捞水产品罪": 0.1, "滥伐林木罪": 0.1,
    "失火罪": 0.1, "拒不支付劳动报酬罪": 0.2, "重大责任事故罪": 0.15, "污染环境罪": 0.3,
    "拒不执行判决、裁定罪": 0.2, "非法占用农用地罪": 0.1, "非法狩猎罪": 0.1,
}  # fmt: skip
DEFAULT_ARREST_PROPENSITY = 0.55
MAJOR_ARREST_PROPENSITY = 1.0
# Typical sentence range in months, for sentencing recommendations and judgments.
SENTENCE_MONTHS: dict[str, tuple[int, int]] = {
    "危险驾驶罪": (1, 6), "交通肇事罪": (6, 36), "盗窃罪": (3, 36), "帮助信息网络犯罪活动罪": (6, 24),
    "诈骗罪": (6, 60), "故意伤害罪": (6, 48), "开设赌场罪": (6, 60), "掩饰、隐瞒犯罪所得、犯罪所得收益罪": (6, 36),
    "走私、贩卖、运输、制造毒品罪": (6, 180), "寻衅滋事罪": (6, 36), "故意杀人罪": (120, 240),
    "抢劫罪": (36, 120), "强奸罪": (36, 120), "组织、领导、参加黑社会性质组织罪": (36, 180),
    "贪污罪": (12, 120), "受贿罪": (12, 120), "行贿罪": (6, 60),
}  # fmt: skip
DEFAULT_SENTENCE_MONTHS = (6, 36)
FAST_TRACK_MAX_MONTHS = 36  # 速裁 for cases likely sentenced to three years or less


@dataclass(frozen=True)
class ChargeProfile:
    """A charge as the generator uses it."""

    name: str
    articles: tuple[str, ...]
    business_line: str
    weight: float
    arrest_propensity: float
    months: tuple[int, int]
    fast_track: bool


def _charge_line(chapter: str, name: str) -> str:
    if name in MAJOR_CRIMES or chapter.startswith("第一章"):
        return "major_crime"
    if chapter.startswith(("第八章", "第九章")):
        return "duty_crime"
    if chapter.startswith("第三章"):
        return "economic_crime"
    return "ordinary_crime"


@cache
def charge_profiles() -> tuple[ChargeProfile, ...]:
    """Every charge the demo may use (the current list without military and wartime charges)."""
    names = {row.name for row in current_charges()}
    missing = sorted(set(CHARGE_WEIGHTS) - names)
    if missing:
        raise ValueError(
            f"demo charges not in the current charge list: {', '.join(missing)}"
        )
    profiles = []
    for row in current_charges():
        if row.chapter.startswith("第十章") or "战时" in row.name or not row.articles:
            continue
        line = _charge_line(row.chapter, row.name)
        if line == "duty_crime":
            propensity = (
                0.0  # referred by a supervisory commission: prosecution review only
            )
        elif line == "major_crime":
            propensity = MAJOR_ARREST_PROPENSITY
        else:
            propensity = ARREST_PROPENSITY.get(row.name, DEFAULT_ARREST_PROPENSITY)
        months = SENTENCE_MONTHS.get(row.name, DEFAULT_SENTENCE_MONTHS)
        profiles.append(
            ChargeProfile(
                name=row.name,
                articles=row.articles,
                business_line=line,
                weight=CHARGE_WEIGHTS.get(row.name, OTHER_CHARGE_WEIGHT),
                arrest_propensity=propensity,
                months=months,
                fast_track=months[1] <= FAST_TRACK_MAX_MONTHS and line != "duty_crime",
            )
        )
    return tuple(profiles)


# --- fixed shape parameters (not calibration targets) ----------------------------------------

PERSONS_PER_CASE = ((1, 0.74), (2, 0.17), (3, 0.09))
# Matters with a juvenile suspect (handled by the juvenile line)
JUVENILE_CASE_SHARE = 0.05
JUVENILE_CO_SUSPECT = 0.6  # the other suspects of such a matter are juveniles too
# Police requests for arrest of a suspect in criminal detention
DETAINED_AT_ARREST_REVIEW = 0.9
# Approved as major/complex (the extension is then applied to most)
COMPLEX_SHARE = 0.05
FAST_TRACK_SHARE = 0.5  # of eligible cases where every suspect pleads
# Matters with an approved arrest that reach prosecution review, and with none approved
# (bail, or dropped by the police).
PROSECUTION_AFTER_ARREST = 0.97
PROSECUTION_AFTER_NON_ARREST = 0.55
# 免予刑事处罚, of persons prosecuted without a sentencing recommendation.
EXEMPTED_SHARE = 0.05
WITHDRAWN_SHARE = 0.0015  # 撤回起诉, of persons prosecuted
PROTEST_SHARE_PLEA, PROTEST_SHARE_OTHER = 0.001, 0.005
RECONSIDERATION_SHARE = 0.02  # police ask to reconsider a non-arrest / non-prosecution
# Record mix (四大检察 84:7:5:4, criminal split into arrest/prosecution reviews, execution and
# complaints).
RECORD_MIX = (
    ("criminal", 0.78),
    ("execution", 0.03),
    ("complaint", 0.03),
    ("civil", 0.07),
    ("administrative", 0.05),
    ("public_interest", 0.04),
)
# Where each kind of matter is handled: shares of (basic, prefecture, provincial) units.
LEVEL_SHARES: dict[str, tuple[float, float, float]] = {
    "ordinary_crime": (0.965, 0.03, 0.005),
    "economic_crime": (0.93, 0.06, 0.01),
    "juvenile": (0.97, 0.025, 0.005),
    "major_crime": (0.55, 0.43, 0.02),
    "duty_crime": (0.70, 0.28, 0.02),
    "execution": (0.85, 0.12, 0.03),
    "complaint": (0.60, 0.30, 0.10),
    "civil": (0.50, 0.40, 0.10),
    "administrative": (0.55, 0.37, 0.08),
    "public_interest": (0.85, 0.13, 0.02),
}
PROCEDURE_PREFIX = {
    "arrest_review": "刑捕受",
    "prosecution_review": "刑诉受",
    "civil_supervision": "民监受",
    "administrative_supervision": "行监受",
    "public_interest": "公益受",
    "criminal_complaint": "刑申受",
    "other": "执检受",
}
PERSON_IDS = ("A", "B", "C")

# Day ranges (inclusive) of the timelines; the calibration below uses their means.
AR_DAYS_DETAINED = (2, 7)
AR_DAYS_NOT_DETAINED = (3, 15)
LAG_AFTER_ARREST = (20, 60)  # arrest → the police transfer the case for prosecution
LAG_AFTER_NON_ARREST = (20, 150)
PR_DAYS = (5, 27)  # prosecution review, ordinary (1 month is at least 28 days)
PR_DAYS_FAST = (3, 10)
# received / resubmitted → returned for supplementary investigation
RETURN_AFTER = (8, 25)
RESUBMIT_AFTER = (12, 27)  # returned → resubmitted (at most one month)
# civil/administrative review (3 months are at least 89 days)
SUPERVISION_DAYS = (20, 85)


def _mean(bounds: tuple[int, int]) -> float:
    return (bounds[0] + bounds[1]) / 2


@dataclass(frozen=True)
class Rates:
    """Per-person probabilities and matter shares derived from the calibration targets."""

    non_arrest_adult: float
    non_arrest_juvenile: float
    non_prosecution_adult: float
    non_prosecution_juvenile: float
    arrest_review_share: float  # of criminal matters (not duty crimes)
    criminal_matter_weight: float  # record mix weight of a criminal matter


def _juvenile_person_share(duty_share: float) -> float:
    mean_persons = sum(n * p for n, p in PERSONS_PER_CASE)
    juvenile_persons = 1 + JUVENILE_CO_SUSPECT * (mean_persons - 1)
    return JUVENILE_CASE_SHARE * (1 - duty_share) * juvenile_persons / mean_persons


def _split(total: float, juvenile: float, share: float) -> float:
    """The adult rate that, mixed with the juvenile rate at this share, gives the total."""
    return max(0.0, min(1.0, (total - share * juvenile) / (1 - share)))


def derive_rates(span_days: int) -> Rates:
    """Solve the matter shares so that the national rates come out of the generated records.

    诉前羁押率 compares persons approved for arrest with persons decided at prosecution
    review, so the share of matters that start with an arrest review follows from it and from
    how many of them go on to prosecution. Matters received near the end of the range are
    still open, which removes more prosecution decisions than arrest decisions: ``span_days``
    corrects for that.
    """
    profiles = charge_profiles()
    total_weight = sum(p.weight for p in profiles)
    duty_share = (
        sum(p.weight for p in profiles if p.business_line == "duty_crime")
        / total_weight
    )
    juvenile_share = _juvenile_person_share(duty_share)
    non_arrest = target("non_arrest_rate")
    non_arrest_juvenile = target("juvenile_non_arrest_rate")
    non_arrest_adult = _split(non_arrest, non_arrest_juvenile, juvenile_share)
    non_prosecution_juvenile = target("juvenile_non_prosecution_rate")
    non_prosecution_adult = _split(
        target("non_prosecution_rate"), non_prosecution_juvenile, juvenile_share
    )
    detention_rate = target("pre_prosecution_detention_rate")
    mean_persons = sum(n * p for n, p in PERSONS_PER_CASE)

    def onward(n: int) -> float:
        none_approved = non_arrest**n
        return (
            PROSECUTION_AFTER_ARREST * (1 - none_approved)
            + PROSECUTION_AFTER_NON_ARREST * none_approved
        )

    onward_persons = sum(p * n * onward(n) for n, p in PERSONS_PER_CASE) / mean_persons
    onward_cases = sum(p * onward(n) for n, p in PERSONS_PER_CASE)
    # Mean days from a matter's first record to the prosecution decision (for the end-of-range
    # correction); returns add about two review periods.
    returns = target("return_rate") * (1 + target("second_return_share"))
    # About a third of the reviews are fast-track (速裁).
    review = (
        0.35 * _mean(PR_DAYS_FAST)
        + 0.65 * _mean(PR_DAYS)
        + returns * (_mean(RETURN_AFTER) + _mean(RESUBMIT_AFTER))
    )
    arrest_days = DETAINED_AT_ARREST_REVIEW * _mean(AR_DAYS_DETAINED) + (
        1 - DETAINED_AT_ARREST_REVIEW
    ) * _mean(AR_DAYS_NOT_DETAINED)
    lag = (1 - non_arrest) * _mean(LAG_AFTER_ARREST) + non_arrest * _mean(
        LAG_AFTER_NON_ARREST
    )
    kept_arrest = 1 - arrest_days / span_days
    kept_after_arrest = max(0.05, 1 - (arrest_days + lag + review) / span_days)
    kept_direct = max(0.05, 1 - review / span_days)
    approved = (1 - non_arrest) * kept_arrest
    # A = (1-d) x approved;  P = (1-d)(x f k1 + (1-x) k2) + d k2;  A = rate * P.
    share = (
        detention_rate
        * kept_direct
        / (
            (1 - duty_share)
            * (
                approved
                - detention_rate * (onward_persons * kept_after_arrest - kept_direct)
            )
        )
    )
    share = max(0.0, min(1.0, share))
    records_per_criminal_matter = 1 + (1 - duty_share) * share * onward_cases * max(
        0.0, 1 - (arrest_days + lag) / span_days
    )
    criminal_share = dict(RECORD_MIX)["criminal"]
    return Rates(
        non_arrest_adult=non_arrest_adult,
        non_arrest_juvenile=non_arrest_juvenile,
        non_prosecution_adult=non_prosecution_adult,
        non_prosecution_juvenile=non_prosecution_juvenile,
        arrest_review_share=share,
        criminal_matter_weight=criminal_share / records_per_criminal_matter,
    )


def _propensity_scale(profiles: tuple[ChargeProfile, ...], share: float) -> float:
    """The factor k with sum(w * min(1, k * a)) / sum(w) = share over non-duty charges."""
    weighted = [
        (p.weight, p.arrest_propensity)
        for p in profiles
        if p.business_line != "duty_crime"
    ]
    total = sum(w for w, _a in weighted)
    reachable = sum(w for w, a in weighted if a > 0) / total
    if share >= reachable:
        return math.inf
    low, high = 0.0, 1000.0
    for _step in range(80):
        middle = (low + high) / 2
        if sum(w * min(1.0, middle * a) for w, a in weighted) / total < share:
            low = middle
        else:
            high = middle
    return high


def _cumulative(weights: list[float]) -> tuple[list[float], float]:
    cumulative = list(accumulate(weights))
    return cumulative, cumulative[-1]


# --- the generator ------------------------------------------------------------------------------


# Surnames for the anonymised suspect names of documents (张某, 李某某).
_SUSPECT_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩邓冯曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹"
SUSPECT_NAMES = tuple(name + "某" for name in _SUSPECT_SURNAMES) * 4 + tuple(
    name + "某某" for name in _SUSPECT_SURNAMES
)
_ON = itemgetter("on")


class _Generator:
    """The precomputed tables of one run; :meth:`records` yields (record, defect labels).

    Dates are day ordinals until :meth:`finish` turns them into ISO strings, and random
    choices are bisections of precomputed cumulative weights: the generator makes tens of
    thousands of records per second on one core.
    """

    def __init__(
        self, count: int, seed: int, date_from: datetime.date, date_to: datetime.date
    ) -> None:
        if date_to < date_from:
            raise ValueError("date_to is before date_from")
        self.count = count
        self.rng = random.Random(seed)
        self.first = date_from.toordinal()
        self.as_of = date_to.toordinal()
        span = self.as_of - self.first + 1
        self.rates = rates = derive_rates(max(span, 30))
        shares = {name: float(calibration()["defects"][name]) for name in DEFECTS}
        self.defect_share = shares
        # Every day up to the snapshot as an ISO string; cases are received on working days.
        self.iso = [
            datetime.date.fromordinal(o).isoformat()
            for o in range(self.first, self.as_of + 1)
        ]
        self.years = [int(text[:4]) for text in self.iso]
        days = [
            o
            for o in range(self.first, self.as_of + 1)
            if is_working_day(datetime.date.fromordinal(o))
        ]
        self.working_days = days or list(range(self.first, self.as_of + 1))
        self._month_end: dict[int, int] = {}
        # Units per level, weighted by size (functional-zone procuratorates get no demo cases).
        self.unit_tiers: list[tuple[list[DemoUnit], list[float], float]] = []
        for kinds in (
            ("basic",),
            ("prefecture", "provincial_branch"),
            ("provincial", "special_provincial"),
        ):
            chosen = [unit for unit in demo_units() if unit.kind in kinds]
            cumulative, total = _cumulative([unit.size for unit in chosen])
            self.unit_tiers.append((chosen, cumulative, total))
        self.level_cumulative = {
            line: list(accumulate(level_shares))
            for line, level_shares in LEVEL_SHARES.items()
        }
        self._procurators: dict[
            tuple[int, str], tuple[tuple[str, ...], list[float], float]
        ] = {}
        # Charges, and how likely a matter of each starts with an arrest review.
        profiles = charge_profiles()
        self.charges = profiles
        self.charge_cumulative, self.charge_total = _cumulative(
            [p.weight for p in profiles]
        )
        scale = _propensity_scale(profiles, rates.arrest_review_share)
        self.arrest_probability = [
            min(1.0, scale * p.arrest_propensity) if p.arrest_propensity else 0.0
            for p in profiles
        ]
        common = [index for index, p in enumerate(profiles) if p.weight >= 0.3]
        self.second_charges = [profiles[index] for index in common]
        self.second_charge_cumulative, self.second_charge_total = _cumulative(
            [p.weight for p in self.second_charges]
        )
        known_articles = article_numbers(CRIMINAL_LAW)
        self.mismatch_articles = [
            a for a in MISMATCH_ARTICLES if not known_articles or a in known_articles
        ]
        # Record mix.
        mix = [
            (kind, rates.criminal_matter_weight if kind == "criminal" else share)
            for kind, share in RECORD_MIX
        ]
        self.mix_kinds = [kind for kind, _share in mix]
        self.mix_cumulative, self.mix_total = _cumulative(
            [share for _kind, share in mix]
        )
        self.person_cumulative, self.person_total = _cumulative(
            [p for _n, p in PERSONS_PER_CASE]
        )
        # Case and matter numbers: per unit, procedure and year.
        self.numbers: dict[tuple[int, str, int], int] = {}
        self.matters: dict[tuple[int, int], int] = {}
        self.plea = target("plea_leniency_rate")
        self.fixed = target("fixed_sentence_share")
        self.adopted = target("recommendation_adoption_rate")
        # Acquittals happen (almost) only without a plea.
        self.acquitted = min(1.0, target("acquittal_rate") / max(0.01, 1 - self.plea))
        self.appeal_plea = 1 - target("plea_acceptance_rate")
        self.appeal_other = min(0.9, self.appeal_plea + 0.36)
        self.protest_change = target("protest_change_rate")
        self.return_rate = target("return_rate")
        self.second_return = target("second_return_share")
        self.extension = min(1.0, target("extension_rate") / COMPLEX_SHARE)
        # One draw decides whether (and which) defect a record gets: cumulative thresholds.
        self.arrest_defects = _thresholds(
            shares, (LATE_ARREST_DECISION, ARTICLE_MISMATCH)
        )
        self.review_defects = _thresholds(
            shares,
            (
                THIRD_RETURN,
                LATE_RESUBMISSION,
                LATE_PROSECUTION_DECISION,
                MISSING_RIGHTS_NOTIFIED,
                LATE_RIGHTS_NOTIFIED,
                ARTICLE_MISMATCH,
            ),
        )

    # -- small helpers ---------------------------------------------------------------------------

    def month_end(self, ordinal: int) -> int:
        """The last day of a one-month period from ``ordinal`` in custody (no holiday shift):
        the earliest reading of "one month", so that anything up to it is on time."""
        value = self._month_end.get(ordinal)
        if value is None:
            value = add_months(datetime.date.fromordinal(ordinal), 1).toordinal()
            self._month_end[ordinal] = value
        return value

    @staticmethod
    def latest_end(ordinal: int, *, days: int = 0, months: int = 0) -> int:
        """The last day of a period counted outside custody (moved past holidays): a day
        after it is late under either reading."""
        end = datetime.date.fromordinal(ordinal)
        if months:
            end = add_months(end, months)
        return next_working_day(end + datetime.timedelta(days=days)).toordinal()

    def pick_unit(self, line: str) -> DemoUnit:
        rnd = self.rng.random
        cumulative = self.level_cumulative[line]
        units, weights, total = self.unit_tiers[
            min(2, bisect(cumulative, rnd() * cumulative[-1]))
        ]
        return units[bisect(weights, rnd() * total)]

    def pick_procurator(self, unit: DemoUnit, line: str) -> str:
        key = (unit.index, line)
        entry = self._procurators.get(key)
        if entry is None:
            numbers = unit_procurators(unit.code).get(line) or ("P0001",)
            # The head of the department (the first) handles fewer cases; the others vary.
            cumulative, total = _cumulative(
                [0.4] + [1.0 + (i * 7919 % 5) / 5 for i in range(1, len(numbers))]
            )
            entry = self._procurators[key] = (numbers, cumulative, total)
        numbers, cumulative, total = entry
        return numbers[bisect(cumulative, self.rng.random() * total)]

    def case_number(self, unit: DemoUnit, procedure: str, received: int) -> str:
        year = self.years[received - self.first]
        prefix = PROCEDURE_PREFIX[procedure]
        key = (unit.index, prefix, year)
        number = self.numbers[key] = self.numbers.get(key, 0) + 1
        return f"{unit.code}{prefix}〔{year}〕{number}号"

    def matter_number(self, unit: DemoUnit, received: int) -> str:
        year = self.years[received - self.first]
        key = (unit.index, year)
        number = self.matters[key] = self.matters.get(key, 0) + 1
        return f"A{unit.code}{year}{number:06d}"

    def finish(
        self, record: dict[str, Any], events: list[dict[str, Any]], closed: int | None
    ) -> dict[str, Any]:
        """Cut the record at the snapshot day, order its events and write ISO dates."""
        as_of, first, iso = self.as_of, self.first, self.iso
        events.sort(key=_ON)
        while events and events[-1]["on"] > as_of:
            events.pop()
        for event in events:
            event["on"] = iso[event["on"] - first]
        record["received_on"] = iso[record["received_on"] - first]
        if closed is not None and closed <= as_of:
            record["closed_on"] = iso[closed - first]
        record["events"] = events
        return record

    def mismatch(self, persons: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A copy of the persons where one person's articles do not match the charges."""
        rnd = self.rng.random
        persons = [dict(person) for person in persons]
        person = persons[int(rnd() * len(persons))]
        wrong = [a for a in self.mismatch_articles if a not in person["articles"]]
        person["articles"] = [wrong[int(rnd() * len(wrong))]]
        return persons

    # -- criminal matters --------------------------------------------------------------------------

    def criminal_matter(self, received: int) -> list[tuple[dict[str, Any], list[str]]]:
        rnd = self.rng.random
        charge_index = bisect(self.charge_cumulative, rnd() * self.charge_total)
        profile = self.charges[charge_index]
        juvenile_case = (
            rnd() < JUVENILE_CASE_SHARE and profile.business_line != "duty_crime"
        )
        count = PERSONS_PER_CASE[
            bisect(self.person_cumulative, rnd() * self.person_total)
        ][0]
        persons = []
        plea = self.plea
        for position in range(count):
            charges = [profile.name]
            articles = list(profile.articles)
            if rnd() < 0.05:  # a second charge (数罪)
                other = self.second_charges[
                    bisect(
                        self.second_charge_cumulative, rnd() * self.second_charge_total
                    )
                ]
                if other.name != profile.name:
                    charges.append(other.name)
                    articles.extend(a for a in other.articles if a not in articles)
            persons.append(
                {
                    "person_id": PERSON_IDS[position],
                    "name": SUSPECT_NAMES[int(rnd() * len(SUSPECT_NAMES))],
                    "juvenile": juvenile_case
                    and (position == 0 or rnd() < JUVENILE_CO_SUSPECT),
                    "charges": charges,
                    "articles": articles,
                    "plea_leniency": rnd() < plea,
                }
            )
        line = "juvenile" if juvenile_case else profile.business_line
        unit = self.pick_unit(line)
        procurator = self.pick_procurator(unit, line)
        matter_id = self.matter_number(unit, received)
        if rnd() >= self.arrest_probability[charge_index]:
            detained = profile.business_line == "duty_crime" or rnd() < 0.03
            return [
                self.prosecution_review(
                    unit,
                    line,
                    procurator,
                    matter_id,
                    received,
                    persons,
                    profile,
                    detained,
                )
            ]
        record, defects, decided, approved = self.arrest_review(
            unit, line, procurator, matter_id, received, persons
        )
        out = [(record, defects)]
        if decided is not None and rnd() < (
            PROSECUTION_AFTER_ARREST if approved else PROSECUTION_AFTER_NON_ARREST
        ):
            low, high = LAG_AFTER_ARREST if approved else LAG_AFTER_NON_ARREST
            pr_received = decided + low + int(rnd() * (high - low + 1))
            if pr_received <= self.as_of:
                copies = [dict(person) for person in persons]
                out.append(
                    self.prosecution_review(
                        unit,
                        line,
                        procurator,
                        matter_id,
                        pr_received,
                        copies,
                        profile,
                        approved,
                    )
                )
        return out

    def arrest_review(
        self,
        unit: DemoUnit,
        line: str,
        procurator: str,
        matter_id: str,
        received: int,
        persons: list[dict[str, Any]],
    ) -> tuple[dict[str, Any], list[str], int | None, bool]:
        """An arrest review: every suspect decided on the same day within 7 days (detained)
        or 15/20 days (not detained / major or complex)."""
        rnd = self.rng.random
        defects: list[str] = []
        detained = rnd() < DETAINED_AT_ARREST_REVIEW
        complex_ = not detained and rnd() < 0.1
        low, high = AR_DAYS_DETAINED if detained else AR_DAYS_NOT_DETAINED
        decided = received + low + int(rnd() * (high - low + 1))
        if complex_:
            decided += int(rnd() * 5)
        record_persons = persons
        draw = rnd()
        late_share, mismatch_share = self.arrest_defects
        if draw < late_share:
            late = (
                self.latest_end(
                    received, days=7 if detained else (20 if complex_ else 15)
                )
                + 2
                + int(rnd() * 12)
            )
            if late <= self.as_of:
                decided = late
                defects.append(LATE_ARREST_DECISION)
        elif draw < mismatch_share:
            record_persons = self.mismatch(persons)
            defects.append(ARTICLE_MISMATCH)
        events: list[dict[str, Any]] = [{"type": "received", "on": received}]
        add = events.append
        rates = self.rates
        approved_any = False
        for person in persons:
            pid = person["person_id"]
            if rnd() < (
                rates.non_arrest_juvenile
                if person["juvenile"]
                else rates.non_arrest_adult
            ):
                draw = rnd()
                reason = (
                    "no_necessity"
                    if draw < 0.56
                    else ("insufficient_evidence" if draw < 0.96 else "no_crime")
                )
                add(
                    {
                        "type": "arrest_decided",
                        "on": decided,
                        "person": pid,
                        "decision": "not_approved",
                        "reason": reason,
                    }
                )
                if rnd() < RECONSIDERATION_SHARE:
                    add(
                        {
                            "type": "arrest_reconsideration",
                            "on": decided + 5 + int(rnd() * 15),
                            "person": pid,
                            "changed": rnd() < 0.1,
                        }
                    )
            else:
                approved_any = True
                add(
                    {
                        "type": "arrest_decided",
                        "on": decided,
                        "person": pid,
                        "decision": "approved",
                    }
                )
                if rnd() < 0.03:
                    add(
                        {
                            "type": "detention_extended",
                            "on": decided + 50 + int(rnd() * 8),
                            "person": pid,
                        }
                    )
        record = {
            "case_id": self.case_number(unit, "arrest_review", received),
            "unit_code": unit.code,
            "matter_id": matter_id,
            "business_line": line,
            "procedure": "arrest_review",
            "procurator_id": procurator,
            "received_on": received,
            "closed_on": None,
            "detained": detained,
            "fast_track": False,
            "complex": complex_,
            "persons": record_persons,
            "events": events,
        }
        self.finish(record, events, decided)
        if decided > self.as_of:
            return record, defects, None, False
        return record, defects, decided, approved_any

    def prosecution_review(
        self,
        unit: DemoUnit,
        line: str,
        procurator: str,
        matter_id: str,
        received: int,
        persons: list[dict[str, Any]],
        profile: ChargeProfile,
        detained: bool,
    ) -> tuple[dict[str, Any], list[str]]:
        """A prosecution review: rights notices within 3 days, returns for supplementary
        investigation, the decision within the review period, then the courts."""
        rnd = self.rng.random
        as_of = self.as_of
        fast_track = profile.fast_track and rnd() < FAST_TRACK_SHARE
        if fast_track:
            for person in persons:
                if not person["plea_leniency"]:
                    fast_track = False
                    break
        complex_ = not fast_track and rnd() < COMPLEX_SHARE
        returns = 0
        if not fast_track and rnd() < self.return_rate:
            returns = 2 if rnd() < self.second_return else 1
        draw = rnd()
        wanted = ""
        if draw < self.review_defects[-1]:
            wanted = REVIEW_DEFECTS[bisect(self.review_defects, draw)]
            if fast_track and wanted in (
                THIRD_RETURN,
                LATE_RESUBMISSION,
                LATE_PROSECUTION_DECISION,
            ):
                wanted = ""
        events, start, decided, returns, defects = self.review_timeline(
            received, fast_track, complex_, returns, wanted
        )
        if defects and decided > as_of:
            # Still open at the snapshot: the defect would not show, so do without it.
            events, start, decided, returns, defects = self.review_timeline(
                received, fast_track, complex_, min(returns, 2), ""
            )
        closed = decided if decided <= as_of else None
        add = events.append
        # Rights notices: within 3 days of receipt, unless a defect says otherwise.
        notice = received + (0 if rnd() < 0.6 else int(rnd() * 4))
        odd_person = persons[int(rnd() * len(persons))]["person_id"] if wanted else ""
        late_notice = 0
        record_persons = persons
        if closed is not None and wanted == MISSING_RIGHTS_NOTIFIED:
            defects.append(MISSING_RIGHTS_NOTIFIED)
        elif closed is not None and wanted == LATE_RIGHTS_NOTIFIED:
            late_notice = self.latest_end(received, days=3) + 1 + int(rnd() * 4)
            if late_notice <= decided:
                defects.append(LATE_RIGHTS_NOTIFIED)
            else:
                late_notice = 0
        elif wanted == ARTICLE_MISMATCH:
            record_persons = self.mismatch(persons)
            defects.append(ARTICLE_MISMATCH)
        rates = self.rates
        for person in persons:
            pid = person["person_id"]
            if pid != odd_person or not defects:
                add({"type": "rights_notified", "on": notice, "person": pid})
            elif late_notice:
                add({"type": "rights_notified", "on": late_notice, "person": pid})
            elif MISSING_RIGHTS_NOTIFIED not in defects:
                add({"type": "rights_notified", "on": notice, "person": pid})
            if person["plea_leniency"]:
                add(
                    {
                        "type": "plea_agreement_signed",
                        "on": max(start, decided - int(rnd() * 6)),
                        "person": pid,
                    }
                )
            if rnd() < (
                rates.non_prosecution_juvenile
                if person["juvenile"]
                else rates.non_prosecution_adult
            ):
                if returns >= 2:
                    kind = "evidentiary"  # after the second return: 存疑不起诉 (CPL Art. 175)
                elif person["juvenile"] and rnd() < 0.45:
                    kind = "conditional"
                else:
                    draw = rnd()
                    kind = (
                        "discretionary"
                        if draw < 0.85
                        else ("evidentiary" if draw < 0.96 else "statutory")
                    )
                add(
                    {
                        "type": "prosecution_decided",
                        "on": decided,
                        "person": pid,
                        "decision": "not_prosecute",
                        "kind": kind,
                    }
                )
                draw = rnd()
                if draw < RECONSIDERATION_SHARE:
                    add(
                        {
                            "type": "non_prosecution_reconsideration",
                            "on": decided + 7 + int(rnd() * 20),
                            "person": pid,
                            "changed": rnd() < 0.05,
                        }
                    )
                elif draw < RECONSIDERATION_SHARE + 0.01:
                    add({"type": "complaint", "on": decided + 7 + int(rnd() * 50)})
            else:
                self.prosecuted(add, person, profile, decided, fast_track)
        record = {
            "case_id": self.case_number(unit, "prosecution_review", received),
            "unit_code": unit.code,
            "matter_id": matter_id,
            "business_line": line,
            "procedure": "prosecution_review",
            "procurator_id": procurator,
            "received_on": received,
            "closed_on": None,
            "detained": detained,
            "fast_track": fast_track,
            "complex": complex_,
            "persons": record_persons,
            "events": events,
        }
        return self.finish(record, events, closed), defects

    def review_timeline(
        self, received: int, fast_track: bool, complex_: bool, returns: int, wanted: str
    ) -> tuple[list[dict[str, Any]], int, int, int, list[str]]:
        """Returns for supplementary investigation, extension and the decision day of a
        prosecution review, with the ``wanted`` timing defect built in when it can be."""
        rnd = self.rng.random
        defects: list[str] = []
        events: list[dict[str, Any]] = [{"type": "received", "on": received}]
        if wanted == THIRD_RETURN:
            returns = 3
            defects.append(THIRD_RETURN)
        elif wanted == LATE_RESUBMISSION:
            returns = max(returns, 1)
            defects.append(LATE_RESUBMISSION)
        start = received
        for number in range(returns):
            returned = (
                start
                + RETURN_AFTER[0]
                + int(rnd() * (RETURN_AFTER[1] - RETURN_AFTER[0] + 1))
            )
            events.append({"type": "returned_for_investigation", "on": returned})
            if number == 0 and wanted == LATE_RESUBMISSION:
                start = self.latest_end(returned, months=1) + 3 + int(rnd() * 20)
            else:
                start = (
                    returned
                    + RESUBMIT_AFTER[0]
                    + int(rnd() * (RESUBMIT_AFTER[1] - RESUBMIT_AFTER[0] + 1))
                )
            events.append({"type": "resubmitted", "on": start})
        # The last (re)start's review period; a major/complex case may be extended by 15 days.
        extended = complex_ and rnd() < self.extension
        if fast_track:
            decided = (
                start
                + PR_DAYS_FAST[0]
                + int(rnd() * (PR_DAYS_FAST[1] - PR_DAYS_FAST[0] + 1))
            )
        elif extended:
            events.append(
                {
                    "type": "review_extended",
                    "on": start + 20 + int(rnd() * 7),
                    "days": 15,
                }
            )
            decided = self.month_end(start) + 1 + int(rnd() * 14)
        else:
            decided = start + PR_DAYS[0] + int(rnd() * (PR_DAYS[1] - PR_DAYS[0] + 1))
        if wanted == LATE_PROSECUTION_DECISION:
            late = (
                self.latest_end(start, months=1, days=15 if extended else 0)
                + 2
                + int(rnd() * 15)
            )
            if late <= self.as_of:
                decided = late
                defects.append(LATE_PROSECUTION_DECISION)
        elif wanted == LATE_RIGHTS_NOTIFIED:
            # Room for a late notice before the decision, still within the review period.
            decided = max(
                decided,
                min(
                    self.month_end(start) if not fast_track else start + 10,
                    received + 18,
                ),
            )
        return events, start, decided, returns, defects

    def prosecuted(
        self,
        add: Any,
        person: dict[str, Any],
        profile: ChargeProfile,
        decided: int,
        fast_track: bool,
    ) -> None:
        """Prosecution, the sentencing recommendation and what the courts made of it."""
        rnd = self.rng.random
        pid = person["person_id"]
        plea = person["plea_leniency"]
        add(
            {
                "type": "prosecution_decided",
                "on": decided,
                "person": pid,
                "decision": "prosecute",
            }
        )
        low, high = profile.months
        months = low + int(rnd() * rnd() * (high - low + 1))
        recommended = plea or rnd() < 0.5
        if recommended:
            if rnd() < self.fixed:
                low = high = months
                add(
                    {
                        "type": "sentencing_recommended",
                        "on": decided,
                        "person": pid,
                        "kind": "fixed",
                        "months": months,
                    }
                )
            else:
                low, high = months, months + max(1, months // 4)
                add(
                    {
                        "type": "sentencing_recommended",
                        "on": decided,
                        "person": pid,
                        "kind": "range",
                        "min_months": low,
                        "max_months": high,
                    }
                )
        if rnd() < WITHDRAWN_SHARE:
            add(
                {
                    "type": "withdrawn",
                    "on": decided + 20 + int(rnd() * 40),
                    "person": pid,
                }
            )
            return
        if fast_track:
            judged = decided + 7 + int(rnd() * 9)
        else:
            judged = decided + (15 + int(rnd() * 45) if plea else 30 + int(rnd() * 120))
        if judged > self.as_of:
            return
        adopted = False
        if not plea and rnd() < self.acquitted:
            verdict, sentence, charges = "acquitted", 0, []
        elif not recommended and rnd() < EXEMPTED_SHARE:
            verdict, sentence, charges = "exempted", 0, person["charges"]
        else:
            verdict, charges = "guilty", person["charges"]
            if not recommended:
                sentence = months
            elif rnd() < self.adopted:
                adopted = True
                sentence = low + int(rnd() * (high - low + 1))
            elif low <= 1 or rnd() < 0.4:
                sentence = high + 1 + int(rnd() * max(1, high // 5))
            else:
                sentence = max(1, low - 1 - int(rnd() * max(1, low // 5)))
        judgment = {
            "type": "judgment",
            "on": judged,
            "person": pid,
            "instance": 1,
            "verdict": verdict,
            "months": sentence,
            "charges": charges,
        }
        if recommended:
            judgment["recommendation_adopted"] = adopted
        add(judgment)
        if rnd() < (self.appeal_plea if plea else self.appeal_other):
            appealed = judged + 2 + int(rnd() * 8)
            add({"type": "appeal", "on": appealed, "person": pid})
            second = sentence if rnd() < 0.9 else max(0, sentence - 1 - int(rnd() * 6))
            add(
                {
                    "type": "judgment",
                    "on": appealed + 40 + int(rnd() * 60),
                    "person": pid,
                    "instance": 2,
                    "verdict": verdict,
                    "months": second,
                    "charges": charges,
                }
            )
        if rnd() < (PROTEST_SHARE_PLEA if plea else PROTEST_SHARE_OTHER):
            protested = judged + 2 + int(rnd() * 8)
            add({"type": "protest", "on": protested, "person": pid})
            add(
                {
                    "type": "protest_result",
                    "on": protested + 60 + int(rnd() * 60),
                    "person": pid,
                    "changed": rnd() < self.protest_change,
                }
            )

    # -- the other functions -----------------------------------------------------------------------

    def base_record(self, line: str, procedure: str, received: int) -> dict[str, Any]:
        unit = self.pick_unit(line)
        return {
            "case_id": self.case_number(unit, procedure, received),
            "unit_code": unit.code,
            "business_line": line,
            "procedure": procedure,
            "procurator_id": self.pick_procurator(unit, line),
            "received_on": received,
            "closed_on": None,
            "detained": False,
            "fast_track": False,
            "complex": False,
            "persons": [],
            "events": [],
        }

    def supervision(self, line: str, received: int) -> tuple[dict[str, Any], list[str]]:
        """Civil or administrative litigation supervision, decided within 3 months."""
        rnd = self.rng.random
        record = self.base_record(
            line,
            "civil_supervision" if line == "civil" else "administrative_supervision",
            received,
        )
        events: list[dict[str, Any]] = [{"type": "received", "on": received}]
        defects: list[str] = []
        decided = (
            received
            + SUPERVISION_DAYS[0]
            + int(rnd() * (SUPERVISION_DAYS[1] - SUPERVISION_DAYS[0] + 1))
        )
        if rnd() < self.defect_share[LATE_SUPERVISION_DECISION]:
            late = self.latest_end(received, months=3) + 2 + int(rnd() * 30)
            if late <= self.as_of:
                decided = late
                defects.append(LATE_SUPERVISION_DECISION)
        draw = rnd()
        if draw < 0.55:
            pass  # 不支持监督申请: closed without a measure
        elif draw < 0.67:
            events.append(
                {"type": "recommendation_issued", "on": decided, "kind": "retrial"}
            )
            events.append(
                {
                    "type": "reply_received",
                    "on": decided + 30 + int(rnd() * 60),
                    "adopted": rnd() < target("retrial_recommendation_adoption"),
                }
            )
        elif draw < 0.72:
            events.append({"type": "protest", "on": decided})
            events.append(
                {
                    "type": "protest_result",
                    "on": decided + 60 + int(rnd() * 120),
                    "changed": rnd() < 0.85,
                }
            )
        elif draw < 0.97:
            kind = (
                "social_governance"
                if line == "administrative" and rnd() < 0.15
                else "violation"
            )
            adoption = target(
                "civil_violation_recommendation_adoption"
                if line == "civil"
                else "administrative_recommendation_adoption"
            )
            events.append(
                {"type": "recommendation_issued", "on": decided, "kind": kind}
            )
            events.append(
                {
                    "type": "reply_received",
                    "on": decided + 20 + int(rnd() * 40),
                    "adopted": rnd() < adoption,
                }
            )
        else:
            events.append({"type": "terminated", "on": decided})
        return self.finish(record, events, decided), defects

    def public_interest(self, received: int) -> tuple[dict[str, Any], list[str]]:
        """Administrative PIL (a pre-litigation recommendation, the reply within 2 months) or
        civil PIL (a 30-day public notice, then a suit)."""
        rnd = self.rng.random
        record = self.base_record("public_interest", "public_interest", received)
        events: list[dict[str, Any]] = [{"type": "received", "on": received}]
        support = target("public_interest_support_rate")
        if rnd() < 0.85:
            if rnd() < 0.08:
                closed = received + 20 + int(rnd() * 60)
                events.append({"type": "terminated", "on": closed})
                return self.finish(record, events, closed), []
            issued = received + 15 + int(rnd() * 60)
            replied = issued + 20 + int(rnd() * 38)  # two months are at least 59 days
            adopted = rnd() < target("pre_litigation_rectification_rate")
            events.append(
                {
                    "type": "recommendation_issued",
                    "on": issued,
                    "kind": "pre_litigation",
                }
            )
            events.append({"type": "reply_received", "on": replied, "adopted": adopted})
            closed = replied
            if not adopted:
                closed = replied + 10 + int(rnd() * 50)
                events.append({"type": "suit_filed", "on": closed})
                events.append(
                    {
                        "type": "judgment",
                        "on": closed + 60 + int(rnd() * 120),
                        "supported": rnd() < support,
                    }
                )
            return self.finish(record, events, closed), []
        started = received + 10 + int(rnd() * 50)
        ended = self.latest_end(started, days=30) + int(rnd() * 3)
        events.append({"type": "public_notice_started", "on": started})
        events.append({"type": "public_notice_ended", "on": ended})
        if rnd() < 0.75:
            closed = ended + 5 + int(rnd() * 35)
            events.append({"type": "suit_filed", "on": closed})
            events.append(
                {
                    "type": "judgment",
                    "on": closed + 60 + int(rnd() * 120),
                    "supported": rnd() < support,
                }
            )
        else:  # a qualified organisation sued instead
            closed = ended + 1 + int(rnd() * 10)
            events.append({"type": "terminated", "on": closed})
        return self.finish(record, events, closed), []

    def complaint(self, received: int) -> tuple[dict[str, Any], list[str]]:
        """A criminal complaint (刑事申诉), sometimes with a state compensation application."""
        rnd = self.rng.random
        record = self.base_record("complaint", "criminal_complaint", received)
        events: list[dict[str, Any]] = [
            {"type": "received", "on": received},
            {"type": "complaint", "on": received},
        ]
        if rnd() < 0.05:
            events.append(
                {"type": "state_compensation", "on": received + 5 + int(rnd() * 30)}
            )
        return self.finish(record, events, received + 20 + int(rnd() * 65)), []

    def execution(self, received: int) -> tuple[dict[str, Any], list[str]]:
        """Criminal execution supervision (刑事执行检察): a correction recommendation."""
        rnd = self.rng.random
        record = self.base_record("execution", "other", received)
        issued = received + 5 + int(rnd() * 35)
        events: list[dict[str, Any]] = [
            {"type": "received", "on": received},
            {"type": "recommendation_issued", "on": issued, "kind": "violation"},
            {
                "type": "reply_received",
                "on": issued + 15 + int(rnd() * 30),
                "adopted": rnd() < 0.95,
            },
        ]
        return self.finish(record, events, issued), []

    # -- the stream --------------------------------------------------------------------------------

    def records(self) -> Iterator[tuple[dict[str, Any], list[str]]]:
        count = self.count
        days = self.working_days
        day_count = len(days)
        rnd = self.rng.random
        mix_cumulative, mix_total, kinds = (
            self.mix_cumulative,
            self.mix_total,
            self.mix_kinds,
        )
        produced = 0
        while produced < count:
            # Received dates advance with the stream, so case numbers follow the calendar.
            received = days[produced * day_count // count]
            kind = kinds[bisect(mix_cumulative, rnd() * mix_total)]
            if kind == "criminal":
                batch = self.criminal_matter(received)
            elif kind == "civil" or kind == "administrative":
                batch = [self.supervision(kind, received)]
            elif kind == "public_interest":
                batch = [self.public_interest(received)]
            elif kind == "complaint":
                batch = [self.complaint(received)]
            else:
                batch = [self.execution(received)]
            for item in batch:
                if produced >= count:
                    return
                produced += 1
                yield item


REVIEW_DEFECTS = (
    THIRD_RETURN,
    LATE_RESUBMISSION,
    LATE_PROSECUTION_DECISION,
    MISSING_RIGHTS_NOTIFIED,
    LATE_RIGHTS_NOTIFIED,
    ARTICLE_MISMATCH,
)
# Articles a wrong citation is taken from (commonly confused ones: 盗窃 264 / 诈骗 266 ...).
MISMATCH_ARTICLES = (
    "264",
    "266",
    "234",
    "293",
    "303",
    "312",
    "287-2",
    "133-1",
    "347",
    "263",
)


def _thresholds(shares: dict[str, float], names: tuple[str, ...]) -> tuple[float, ...]:
    return tuple(accumulate(shares[name] for name in names))


def generate_cases_with_defects(
    count: int,
    seed: int = 1,
    *,
    date_from: datetime.date = DEFAULT_FROM,
    date_to: datetime.date = DEFAULT_TO,
) -> Iterator[tuple[dict[str, Any], list[str]]]:
    """Yield ``count`` demo records with the defect labels each carries (usually none).

    Lazy: records are made as they are consumed, so the stream may be millions long.
    """
    if count <= 0:
        return iter(())
    return _Generator(count, seed, date_from, date_to).records()


def generate_cases(
    count: int,
    seed: int = 1,
    *,
    date_from: datetime.date = DEFAULT_FROM,
    date_to: datetime.date = DEFAULT_TO,
) -> Iterator[dict[str, Any]]:
    """Yield ``count`` demo records in the case exchange format (see the module docstring)."""
    return (
        record
        for record, _defects in generate_cases_with_defects(
            count, seed, date_from=date_from, date_to=date_to
        )
    )
