"""The one access path for the organisation (STYLE.md §4, issue 2 §4).

A user's *scope* says which units' records it may see:

* ``case_manager``, ``chief``, ``department_head`` and ``admin`` see their unit's whole subtree;
* ``procurator``, ``political`` and ``discipline`` see their own unit only;
* ``supervisor`` (external 人民监督员) sees no unit's records, only what is assigned to it.

Every view, API endpoint, export and command filters through :func:`user_scope`.
"""

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from jiancha.accounts.choices import SUBTREE_ROLES, Role
from jiancha.accounts.models import Unit


@dataclass(frozen=True)
class Scope:
    """What part of the unit tree a user may see."""

    kind: str  # "subtree" | "unit" | "assigned" | "none"
    unit: Unit | None

    @property
    def is_everything(self) -> bool:
        return self.kind == "subtree" and self.unit is not None and self.unit.parent_id is None

    def unit_ids(self) -> list[int] | None:
        """The unit ids in scope, or ``None`` when the scope is the whole tree."""
        if self.is_everything:
            return None
        if self.kind == "subtree" and self.unit is not None:
            return list(Unit.objects.subtree_of(self.unit).values_list("id", flat=True))
        if self.kind == "unit" and self.unit is not None:
            return [self.unit.pk]
        return []

    def contains(self, unit: Unit) -> bool:
        if self.unit is None:
            return False
        if self.kind == "subtree":
            return unit.is_within(self.unit)
        if self.kind == "unit":
            return unit.pk == self.unit.pk
        return False


def user_scope(user: Any) -> Scope:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope("none", None)
    unit = getattr(user, "unit", None)
    if unit is None:
        return Scope("none", None)
    if user.role == Role.SUPERVISOR:
        return Scope("assigned", unit)
    if user.role in SUBTREE_ROLES:
        return Scope("subtree", unit)
    if user.role in Role.values:
        return Scope("unit", unit)
    return Scope("none", None)


def unit_visible_to(user: Any) -> QuerySet[Unit]:
    """Units whose records the user may see (a supervisor sees only its own unit's name)."""
    scope = user_scope(user)
    if scope.kind == "subtree" and scope.unit is not None:
        return Unit.objects.subtree_of(scope.unit)
    if scope.kind in {"unit", "assigned"} and scope.unit is not None:
        return Unit.objects.filter(pk=scope.unit.pk)
    return Unit.objects.none()


def access_unit(user: Any, code: str) -> Unit:
    """The unit with this org code if the user may see it; 404 otherwise."""
    return get_object_or_404(unit_visible_to(user), code=code)
