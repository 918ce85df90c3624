"""Signals that numbers are being managed rather than cases (数据美容).

The SPP stopped using the indicators for appraisal in October 2024 because localities
improved the numbers instead of the work: not returning cases that needed more
investigation to keep 案-件比 low, rushing decisions into the period, pre-negotiating
sentences so that every recommendation is "adopted" (DOMAIN.md §3.1). Each signal below
looks for the footprint of one such practice, explains it in plain words, and links to the
cases behind it so that a person, not the number, decides.

A signal is a reason to look, never a finding of misconduct: small units are skipped
(minimum samples), and the thresholds are deliberately conservative.
"""

import datetime
import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jiancha.accounts.models import Unit
from jiancha.indicators.compiler import CaseScope, QueryBuilder
from jiancha.indicators.definitions import Measure, parse_measure
from jiancha.indicators.engines import Engine
from jiancha.indicators.rollup import rollup
from jiancha.indicators.services import IndicatorFilters, case_scope

LAST_DAYS = 3  # "just before the period ends": the last three days of a month
MIN_RETURNS_BEFORE = 3
MIN_DECISIONS = 40
MIN_RECOMMENDATIONS = 20
BUNCHING_FACTOR = 2.0
BUNCHING_Z = 3.0

_ARRESTED_EARLIER = [{"event": {"type": "arrest_decided", "decision": "approved"}, "present": True}]
MEASURES: dict[str, dict] = {  # type: ignore[type-arg]
    "returns": {"count": "cases", "event": {"type": "returned_for_investigation"}, "case": {"procedure": "prosecution_review"}},
    "post_arrest_non_prosecutions": {
        "count": "persons",
        "event": {"type": "prosecution_decided", "decision": "not_prosecute"},
        "earlier_in_matter": _ARRESTED_EARLIER,
    },
    "decisions": {"count": "events", "event": {"type": ["arrest_decided", "prosecution_decided"]}},
    "late_decisions": {"count": "events", "event": {"type": ["arrest_decided", "prosecution_decided"]}, "last_days_of_month": LAST_DAYS},
    "recommendations": {"count": "persons", "event": {"type": "sentencing_recommended"}},
    "range_recommendations": {"count": "persons", "event": {"type": "sentencing_recommended", "kind": "range"}},
    "adopted": {"count": "persons", "event": {"type": "judgment", "instance": 1, "recommendation_adopted": True}},
}


def signal_measure(name: str) -> Measure:
    return parse_measure(MEASURES[name], ())


@dataclass(frozen=True)
class SignalKind:
    code: str
    title: object
    explanation: object
    cases_measure: str  # which measure's cases the finding links to


SIGNAL_KINDS = {
    kind.code: kind
    for kind in (
        SignalKind(
            "returns_vanish",
            gettext_lazy("Returns for supplementary investigation stopped while non-prosecutions after arrest rose"),
            gettext_lazy(
                "Returning a case to the police for supplementary investigation adds a procedural step and worsens the "
                "case-to-proceeding ratio. When returns drop to zero from one period to the next while more arrested "
                "persons are not prosecuted, cases that needed more investigation may have been closed instead. "
                "Read the non-prosecutions after arrest listed below."
            ),
            "post_arrest_non_prosecutions",
        ),
        SignalKind(
            "deadline_bunching",
            gettext_lazy("Decisions bunch in the last days of the month"),
            gettext_lazy(
                "Arrest and prosecution decisions fall in the last three days of a month far more often than the "
                "calendar explains. Decisions rushed to count in a period, or held back until its end, suggest the "
                "period's figures drive the work. Read the decisions listed below."
            ),
            "late_decisions",
        ),
        SignalKind(
            "perfect_adoption",
            gettext_lazy("Every sentencing recommendation adopted, and ranges never used"),
            gettext_lazy(
                "Courts adopted every sentencing recommendation and not one recommendation was a range. An adoption "
                "rate of 100% together with fixed terms only can mean sentences agreed with the judge beforehand "
                "rather than recommended on the merits. Read the recommendations listed below."
            ),
            "recommendations",
        ),
    )
}


@dataclass
class SignalFinding:
    kind: SignalKind
    unit: Unit
    evidence: str
    date_from: datetime.date
    date_to: datetime.date

    @property
    def code(self) -> str:
        return self.kind.code


def _month_end(day: datetime.date) -> datetime.date:
    return (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1) - datetime.timedelta(days=1)


def previous_window(date_from: datetime.date, date_to: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The window just before ``date_from``: as many whole months, or as many days."""
    if date_from.day == 1 and date_to == _month_end(date_to):
        months = (date_to.year - date_from.year) * 12 + date_to.month - date_from.month + 1
        index = date_from.year * 12 + date_from.month - 1 - months
        start = datetime.date(index // 12, index % 12 + 1, 1)
        return start, date_from - datetime.timedelta(days=1)
    length = date_to - date_from
    before_to = date_from - datetime.timedelta(days=1)
    return before_to - length, before_to


def expected_last_days_share(date_from: datetime.date, date_to: datetime.date, last_days: int = LAST_DAYS) -> float:
    """Share of the range's days that fall in the last ``last_days`` days of their month."""
    total = late = 0
    day = date_from
    while day <= date_to:
        month_end = _month_end(day)
        total += 1
        late += day > month_end - datetime.timedelta(days=last_days)
        day += datetime.timedelta(days=1)
    return late / total if total else 0.0


def _counts(engine: Engine, scope: CaseScope, outputs: Sequence[int], date_from: datetime.date, date_to: datetime.date) -> dict[int, dict[str, int]]:
    terms = [signal_measure(name).terms[0] for name in MEASURES]
    compiled = QueryBuilder(engine.dialect).compile(terms, date_from=date_from, date_to=date_to, by=None, scope=scope)
    leaf = engine.run(compiled)
    unit_ids, parent_ids = engine.unit_tree()
    rolled = rollup(leaf, unit_ids, parent_ids, outputs)
    result: dict[int, dict[str, int]] = {unit_id: dict.fromkeys(MEASURES, 0) for unit_id in outputs}
    for row, unit_id in enumerate(rolled.unit_ids):
        for position, name in enumerate(MEASURES):
            result[int(unit_id)][name] = int(rolled.subtree[row, compiled.term_index[repr(terms[position])]])
    return result


def gaming_signals(
    *,
    unit: Unit,
    subtree: bool,
    date_from: datetime.date,
    date_to: datetime.date,
    engine: Engine,
    filters: IndicatorFilters | None = None,
) -> list[SignalFinding]:
    """The signals found for the unit and (with ``subtree``) each of its child units."""
    filters = filters or IndicatorFilters()
    units = [unit] + (list(unit.children.order_by("code")) if subtree else [])
    scope = case_scope(targets=[unit.pk], filters=filters, unit_only=None if subtree else unit.pk)
    outputs = [item.pk for item in units]
    now = _counts(engine, scope, outputs, date_from, date_to)
    before = _counts(engine, scope, outputs, *previous_window(date_from, date_to))
    expected = expected_last_days_share(date_from, date_to)
    findings = []
    for item in units:
        current, previous = now[item.pk], before[item.pk]
        if (
            previous["returns"] >= MIN_RETURNS_BEFORE
            and current["returns"] == 0
            and current["post_arrest_non_prosecutions"] > previous["post_arrest_non_prosecutions"]
        ):
            evidence = _(
                "Returns: %(returns_before)s in the previous period, none now. Non-prosecutions after arrest: "
                "%(before)s, now %(now)s."
            ) % {"returns_before": previous["returns"], "before": previous["post_arrest_non_prosecutions"], "now": current["post_arrest_non_prosecutions"]}
            findings.append(SignalFinding(SIGNAL_KINDS["returns_vanish"], item, evidence, date_from, date_to))
        decisions, late = current["decisions"], current["late_decisions"]
        if decisions >= MIN_DECISIONS and 0 < expected < 1:
            share = late / decisions
            z = (late - decisions * expected) / math.sqrt(decisions * expected * (1 - expected))
            if share >= BUNCHING_FACTOR * expected and z >= BUNCHING_Z:
                evidence = _(
                    "%(late)s of %(decisions)s decisions (%(share)s) fell in the last %(days)s days of a month; "
                    "the calendar explains about %(expected)s."
                ) % {"late": late, "decisions": decisions, "share": f"{share:.0%}", "days": LAST_DAYS, "expected": f"{expected:.0%}"}
                findings.append(SignalFinding(SIGNAL_KINDS["deadline_bunching"], item, evidence, date_from, date_to))
        recommendations = current["recommendations"]
        if recommendations >= MIN_RECOMMENDATIONS and current["range_recommendations"] == 0 and current["adopted"] >= recommendations:
            evidence = _("%(adopted)s of %(recommendations)s recommendations adopted; no range recommendation.") % {
                "adopted": current["adopted"],
                "recommendations": recommendations,
            }
            findings.append(SignalFinding(SIGNAL_KINDS["perfect_adoption"], item, evidence, date_from, date_to))
    return findings
