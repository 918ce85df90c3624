"""Access to indicator figures: the one access path of the organisation (STYLE.md §4).

A user sees the figures of the units in its scope (``jiancha.accounts.access``): a subtree
role its unit's whole subtree, rolled up; a unit role its own unit's cases only; an external
people's supervisor no figures at all. A unit outside the scope is a 404, as for cases.
The parent unit's and the national values shown beside a figure are rates only; their
cases are never listed.
"""

from dataclasses import dataclass
from typing import Any

from django.http import Http404

from jiancha.accounts.access import access_unit, user_scope
from jiancha.accounts.choices import Role
from jiancha.accounts.models import Unit

PUBLISHER_ROLES = frozenset({Role.CHIEF, Role.CASE_MANAGER, Role.ADMIN})


@dataclass(frozen=True)
class IndicatorAccess:
    unit: Unit
    subtree: bool  # False: the unit's own cases only (a unit-scoped role)


def access_indicator_unit(user: Any, code: str | None = None) -> IndicatorAccess:
    """The unit whose figures ``user`` asked for (its own unit by default); 404 otherwise."""
    scope = user_scope(user)
    if scope.kind not in {"subtree", "unit"} or scope.unit is None:
        raise Http404("no indicator figures for this user")
    unit = access_unit(user, code) if code else scope.unit
    return IndicatorAccess(unit=unit, subtree=scope.kind == "subtree")


def may_publish(user: Any) -> bool:
    """Chiefs, case managers and administrators publish reports and issue reference ranges."""
    scope = user_scope(user)
    return scope.kind == "subtree" and getattr(user, "role", None) in PUBLISHER_ROLES


def published_visible_to(user: Any) -> Any:
    """Published reports of the units in the user's scope."""
    from jiancha.accounts.access import unit_visible_to
    from jiancha.indicators.models import PublishedReport

    scope = user_scope(user)
    if scope.kind not in {"subtree", "unit"}:
        return PublishedReport.objects.none()
    return PublishedReport.objects.filter(unit__in=unit_visible_to(user)).select_related("unit", "published_by")


def access_published_report(user: Any, pk: int) -> Any:
    report = published_visible_to(user).filter(pk=pk).first()
    if report is None:
        raise Http404("no such report")
    return report
