"""Who sees which findings: the cases' access path, applied to the quality tables.

Findings and grades carry the unit of their case, so the scope of
:func:`jiancha.accounts.access.user_scope` applies to them directly, exactly as
``Case.objects.visible_to`` applies it to cases (a test checks both agree for every role):
a unit's subtree, the unit alone, or nothing, plus the cases granted to the user
(``cases.CaseGrant``: a people's supervisor's assignments, a cross-unit reviewer's cases).
"""

from typing import Any, TypeVar

from django.db.models import Model, Q, QuerySet

from jiancha.accounts.access import user_scope
from jiancha.accounts.models import Unit
from jiancha.cases.access import access_case
from jiancha.cases.models import Case, CaseGrant
from jiancha.quality.models import CaseEvaluation, Finding

M = TypeVar("M", bound=Model)


def _scoped[M: Model](queryset: QuerySet[M], user: Any) -> QuerySet[M]:
    scope = user_scope(user)
    if scope.kind == "none" or scope.unit is None:
        return queryset.none()
    if scope.kind == "assigned":
        return queryset.filter(
            case_id__in=CaseGrant.objects.active().filter(user=user).values("case_id")
        )
    if scope.is_everything:
        return queryset
    if scope.kind == "subtree":
        in_scope = Q(unit_id__in=Unit.objects.subtree_of(scope.unit).values("id"))
    else:
        in_scope = Q(unit_id=scope.unit.pk)
    # As in Case.objects.visible_to: the plain unit condition unless the user has grants.
    granted = CaseGrant.objects.case_ids_for(user)
    if granted:
        in_scope |= Q(case_id__in=granted)
    return queryset.filter(in_scope)


def finding_visible_to(user: Any) -> QuerySet[Finding]:
    """Findings (current and retired) of the cases the user may see."""
    return _scoped(Finding.objects.all(), user)


def evaluation_visible_to(user: Any) -> QuerySet[CaseEvaluation]:
    """Suggested grades of the cases the user may see."""
    return _scoped(CaseEvaluation.objects.all(), user)


def access_case_quality(user: Any, pk: int) -> Case:
    """The case whose findings the user asks for; ``Http404`` if it may not see the case."""
    return access_case(user, pk)
