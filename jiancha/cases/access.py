"""Access checks for cases: the one choke point for views, API, exports and commands."""

from typing import Any

from django.shortcuts import get_object_or_404

from jiancha.accounts.choices import Role
from jiancha.cases.models import Case


def access_case(user: Any, pk: int, *, action: str = "view") -> Case:
    """The case if the user may see it; ``Http404`` otherwise (never 403: no existence leak)."""
    return get_object_or_404(Case.objects.visible_to(user, action).select_related("unit"), pk=pk)


def names_hidden_for(user: Any) -> bool:
    """External people's supervisors see anonymised cases: persons' names are masked."""
    return getattr(user, "role", None) == Role.SUPERVISOR


def masked_name(name: str) -> str:
    """Keep the surname, mask the rest: 张三丰 → 张** (case page, API and exports alike)."""
    return name[:1] + "*" * (len(name) - 1) if name else ""


def mask_names(text: str, names: list[str]) -> str:
    """Mask the persons' names in free text (the facts) for users who may not see names."""
    for name in sorted({name for name in names if len(name) > 1}, key=len, reverse=True):
        text = text.replace(name, masked_name(name))
    return text
