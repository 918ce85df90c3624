"""Who sees and acts on review plans and reviews: the one access path (STYLE.md §4).

Built on :func:`jiancha.accounts.access.user_scope`, the organisation's access path:

* plans: ``case_manager``, ``chief``, ``department_head`` and ``admin`` see the plans whose
  organising unit is in their subtree; ``case_manager``, ``chief`` and ``admin`` organise them
  (``manage``: create, draw, assign, close);
* reviews (``view``): a reviewer sees its own assignments; the subtree roles see the reviews of
  plans in their subtree and of cases of units in their subtree; the handling procurator (the
  user whose staff number is the case's ``procurator_id`` in the case's unit) sees the reviews
  of its cases, so that it can object; a people's supervisor sees only its own assignments,
  with persons' names masked (``names_hidden_for``);
* ``submit``: the reviewer only; ``object``: the handling procurator only; ``decide``: the
  committee roles (chief, department head, case manager) at the plan's unit or above, never
  the reviewer or the handling procurator of that case.

Anything else is a 404, never a 403, so that a record's existence does not leak.
"""

from typing import Any

from django.db.models import Q
from django.shortcuts import get_object_or_404

from jiancha.accounts.access import user_scope
from jiancha.accounts.choices import SUBTREE_ROLES, Role
from jiancha.accounts.models import Unit
from jiancha.cases.access import names_hidden_for
from jiancha.reviews.choices import COMMITTEE_ROLES, PLAN_ROLES
from jiancha.reviews.models import Review, ReviewPlan

NOTHING = Q(pk__in=[])

__all__ = [
    "access_plan",
    "access_review",
    "handler_q",
    "is_handling_procurator",
    "may_decide",
    "may_manage_plans",
    "names_hidden_for",
    "plan_filter",
    "review_filter",
]


def _subtree_q(user: Any, field: str) -> Q | None:
    """``field`` (a unit path lookup) inside the user's subtree; ``Q()`` for the whole tree;
    ``None`` when the user has no subtree scope."""
    scope = user_scope(user)
    if scope.kind != "subtree" or scope.unit is None:
        return None
    if scope.is_everything:
        return Q()
    return Q(**{f"{field}__path__startswith": scope.unit.path})


def plan_filter(user: Any, action: str = "view") -> Q:
    """The condition on ``ReviewPlan`` for ``action`` (``view`` or ``manage``)."""
    role = getattr(user, "role", None)
    allowed = (action == "view" and role in SUBTREE_ROLES) or (
        action == "manage" and role in PLAN_ROLES
    )
    condition = _subtree_q(user, "unit") if allowed else None
    # An empty Q (the whole tree) is falsy, so compare with None.
    return NOTHING if condition is None else condition


def _staff_of(user: Any) -> Any:
    if not getattr(user, "staff_id", None):
        return None
    return user.staff


def handler_q(user: Any, *, prefix: str = "") -> Q | None:
    """Reviews whose case the user handles (by staff number in the case's unit)."""
    staff = _staff_of(user)
    if staff is None:
        return None
    return Q(
        **{
            f"{prefix}case_unit_id": staff.unit_id,
            f"{prefix}procurator_id": staff.staff_number,
        }
    )


def review_filter(user: Any, action: str = "view") -> Q:
    """The condition on ``Review`` for ``action``: ``view``, ``submit``, ``object`` or ``decide``."""
    scope = user_scope(user)
    if scope.kind == "none":
        return NOTHING
    role = getattr(user, "role", None)
    own = Q(reviewer=user)
    if action == "submit":
        return own
    if action == "object":
        if role == Role.SUPERVISOR:
            return NOTHING
        handled = handler_q(user)
        return NOTHING if handled is None else handled
    if action == "decide":
        if role not in COMMITTEE_ROLES:
            return NOTHING
        condition = _subtree_q(user, "plan__unit")
        if condition is None:
            return NOTHING
        condition &= ~own
        handled = handler_q(user)
        if handled is not None:
            condition &= ~handled
        return condition
    if action != "view":
        return NOTHING
    if role == Role.SUPERVISOR:
        return own
    if scope.is_everything:
        return Q()
    condition = own
    if scope.kind == "subtree" and scope.unit is not None:
        path = scope.unit.path
        condition |= Q(plan__unit__path__startswith=path) | Q(
            case_unit__path__startswith=path
        )
    handled = handler_q(user)
    if handled is not None:
        condition |= handled
    return condition


def access_plan(user: Any, pk: int, *, action: str = "view") -> ReviewPlan:
    """The plan if the user may see it (or organise it); ``Http404`` otherwise."""
    return get_object_or_404(
        ReviewPlan.objects.visible_to(user, action).select_related("unit"), pk=pk
    )


def access_review(user: Any, pk: int, *, action: str = "view") -> Review:
    """The review if the user may see it (or act on it); ``Http404`` otherwise."""
    queryset = Review.objects.visible_to(user, action).select_related(
        "plan", "plan__unit", "case", "case__unit", "case_unit", "reviewer", "objection"
    )
    return get_object_or_404(queryset, pk=pk)


def may_manage_plans(user: Any) -> bool:
    """Whether the user organises review plans at all (in its own subtree)."""
    return (
        getattr(user, "role", None) in PLAN_ROLES and user_scope(user).kind == "subtree"
    )


def may_manage_plan_unit(user: Any, unit: Unit) -> bool:
    scope = user_scope(user)
    return may_manage_plans(user) and scope.contains(unit)


def is_handling_procurator(user: Any, review: Review) -> bool:
    """The user is the procurator who handled the reviewed case (in the case's unit)."""
    staff = _staff_of(user)
    return (
        staff is not None
        and getattr(user, "is_active", False)
        and staff.unit_id == review.case_unit_id
        and staff.staff_number == review.procurator_id
    )


def may_decide(user: Any, review: Review) -> bool:
    """Committee member at the plan's unit or above, and neither reviewer nor handler."""
    if getattr(user, "role", None) not in COMMITTEE_ROLES:
        return False
    scope = user_scope(user)
    if scope.kind != "subtree" or not scope.contains(review.plan.unit):
        return False
    return review.reviewer_id != user.pk and not is_handling_procurator(user, review)
