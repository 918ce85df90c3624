"""Reading cases: the filtered case list shared by the web UI, the Excel export and the API.

Every list starts from ``Case.objects.visible_to(user)`` (the one access path).
"""

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext as _

from jiancha.accounts.access import user_scope
from jiancha.accounts.models import Unit
from jiancha.cases.choices import BusinessLine, CaseStatus, Procedure
from jiancha.cases.models import Case, CaseCharge, Event, Person

# Sort keys offered to users, mapped to an indexed ordering.
# Open cases (no closing date) sort last either way, on SQLite and PostgreSQL alike.
SORTS: dict[str, list[Any]] = {
    "-received_on": ["-received_on", "-id"],
    "received_on": ["received_on", "id"],
    "-closed_on": [F("closed_on").desc(nulls_last=True), "-id"],
    "closed_on": [F("closed_on").asc(nulls_last=True), "id"],
    "case_id": ["case_id", "id"],
    "-case_id": ["-case_id", "-id"],
}
DEFAULT_SORT = "-received_on"


class FilterError(ValueError):
    """A filter value is not valid; ``field`` names the filter."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


@dataclass
class CaseFilters:
    """The filters of the case list (UI, export and API accept the same names)."""

    unit: str = ""  # an org code: that unit and its subtree
    business_line: str = ""
    procedure: str = ""
    status: str = ""  # open | closed
    received_from: datetime.date | None = None
    received_to: datetime.date | None = None
    procurator: str = ""
    charge: str = ""
    q: str = ""  # case number or matter number (prefix)
    sort: str = DEFAULT_SORT
    errors: dict[str, str] = field(default_factory=dict)

    NAMES = ("unit", "business_line", "procedure", "status", "received_from", "received_to", "procurator", "charge", "q", "sort")

    @classmethod
    def from_params(cls, params: Any) -> "CaseFilters":
        """Parse query parameters; invalid values are collected in ``errors``, not raised."""
        filters = cls()
        for name in ("unit", "procurator", "charge", "q"):
            setattr(filters, name, (params.get(name) or "").strip()[:64])
        for name, choices in (("business_line", BusinessLine.values), ("procedure", Procedure.values), ("status", CaseStatus.values)):
            value = (params.get(name) or "").strip()
            if value and value not in choices:
                filters.errors[name] = _("Unknown value “%(value)s”.") % {"value": value}
            elif value:
                setattr(filters, name, value)
        for name in ("received_from", "received_to"):
            value = (params.get(name) or "").strip()
            if value:
                try:
                    setattr(filters, name, datetime.date.fromisoformat(value))
                except ValueError:
                    filters.errors[name] = _("Enter a date as YYYY-MM-DD.")
        sort = (params.get("sort") or "").strip()
        if sort:
            if sort in SORTS:
                filters.sort = sort
            else:
                filters.errors["sort"] = _("Unknown sort order.")
        return filters

    def as_params(self) -> dict[str, str]:
        params = {}
        for name in self.NAMES:
            value = getattr(self, name)
            if value and not (name == "sort" and value == DEFAULT_SORT):
                params[name] = value.isoformat() if isinstance(value, datetime.date) else str(value)
        return params


def case_list(*, user: Any, filters: CaseFilters | None = None) -> QuerySet[Case]:
    """The cases the user may see, filtered and sorted.

    A ``unit`` filter outside the user's scope yields no cases (never an error that would
    reveal whether the unit has cases).
    """
    filters = filters or CaseFilters()
    queryset = Case.objects.visible_to(user)
    if filters.unit:
        unit = Unit.objects.filter(code=filters.unit).first()
        if unit is None:
            return queryset.none()
        scope = user_scope(user)
        if scope.kind != "assigned" and not scope.contains(unit) and not (scope.unit and scope.unit.is_within(unit)):
            return queryset.none()
        if unit.parent_id is not None:
            queryset = queryset.filter(unit_id__in=Unit.objects.subtree_of(unit).values("id"))
    if filters.business_line:
        queryset = queryset.filter(business_line=filters.business_line)
    if filters.procedure:
        queryset = queryset.filter(procedure=filters.procedure)
    if filters.status == CaseStatus.OPEN:
        queryset = queryset.filter(closed_on__isnull=True)
    elif filters.status == CaseStatus.CLOSED:
        queryset = queryset.filter(closed_on__isnull=False)
    if filters.received_from:
        queryset = queryset.filter(received_on__gte=filters.received_from)
    if filters.received_to:
        queryset = queryset.filter(received_on__lte=filters.received_to)
    if filters.procurator:
        queryset = queryset.filter(procurator_id=filters.procurator)
    if filters.charge:
        queryset = queryset.filter(id__in=CaseCharge.objects.filter(charge=filters.charge).values("case_id"))
    if filters.q:
        # A range instead of LIKE so that the case-number index is used on both databases.
        upper = filters.q + "\U0010ffff"
        queryset = queryset.filter(Q(case_id__gte=filters.q, case_id__lt=upper) | Q(matter_id=filters.q))
    return queryset.select_related("unit").order_by(*SORTS.get(filters.sort, SORTS[DEFAULT_SORT]))


def case_persons(case: Case) -> list[Person]:
    return list(case.persons.order_by("position"))


def case_events(case: Case) -> list[Event]:
    """Events in date order; ties keep their order in the exchange record."""
    return sorted(case.events.all(), key=lambda event: (event.on, event.position))
