"""Key-case criteria (重点评查) as data: each id names a rule that picks cases.

The list follows the local 每案必查 lists in DOMAIN.md §4.1 (non-arrest, non-prosecution,
withdrawn prosecution, acquittal) plus the cases on which the automatic checks raised a
``failure`` finding (read through :mod:`jiancha.quality.selectors`). A plan stores the ids it
uses (``ReviewPlan.criteria``); adding a criterion is adding a row to ``CRITERIA``.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from jiancha.cases.choices import EventType
from jiancha.cases.models import Case, Event

# (cases, plan, actor) -> the subset of cases that meet the criterion
Picker = Callable[[QuerySet[Case], Any, Any], QuerySet[Case]]


@dataclass(frozen=True)
class Criterion:
    id: str
    label: Promise
    pick: Picker


def _with_event(event_type: str, **details: str) -> Picker:
    def pick(cases: QuerySet[Case], plan: Any, actor: Any) -> QuerySet[Case]:
        events = Event.objects.filter(
            type=event_type,
            **{f"details__{key}": value for key, value in details.items()},
        )
        return cases.filter(id__in=events.values("case_id"))

    return pick


def _failure_findings(cases: QuerySet[Case], plan: Any, actor: Any) -> QuerySet[Case]:
    """Cases with a current ``failure`` finding of the automatic checks, read through the
    quality selectors (so through the same access path as the quality pages)."""
    from jiancha.quality.choices import Severity
    from jiancha.quality.selectors import FindingFilters, finding_list

    filters = FindingFilters(unit=plan.unit.code, severity=Severity.FAILURE)
    findings = finding_list(user=actor, filters=filters).order_by().values("case_id")
    return cases.filter(id__in=findings)


CRITERIA: tuple[Criterion, ...] = (
    Criterion(
        "arrest_not_approved",
        _("arrest not approved"),
        _with_event(EventType.ARREST_DECIDED, decision="not_approved"),
    ),
    Criterion(
        "not_prosecuted",
        _("not prosecuted"),
        _with_event(EventType.PROSECUTION_DECIDED, decision="not_prosecute"),
    ),
    Criterion(
        "withdrawn", _("prosecution withdrawn"), _with_event(EventType.WITHDRAWN)
    ),
    Criterion(
        "acquitted",
        _("acquitted"),
        _with_event(EventType.JUDGMENT, verdict="acquitted"),
    ),
    Criterion(
        "failure_findings",
        _("failure found by the automatic checks"),
        _failure_findings,
    ),
)

CRITERION_IDS: tuple[str, ...] = tuple(criterion.id for criterion in CRITERIA)


def criterion_for(criterion_id: str) -> Criterion | None:
    for criterion in CRITERIA:
        if criterion.id == criterion_id:
            return criterion
    return None
