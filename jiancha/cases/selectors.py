"""Reading cases: the filtered case list shared by the web UI, the Excel export and the API.

Every list starts from ``Case.objects.visible_to(user)`` (the one access path).
"""

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Paginator
from django.db.models import BooleanField, Exists, ExpressionWrapper, F, Func, OuterRef, Q, QuerySet
from django.utils.functional import cached_property
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

# A charge named on more cases than this is filtered by probing each case in sort order (the
# first page is found after a few rows); a rarer one by reading its cases from the charge index.
FREQUENT_CHARGE = 5_000


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


class Likely(Func):
    """SQLite's ``likely(X)``: tells its planner that a condition holds for most rows, so that
    it walks the sort index instead of a weak index on that condition (``closed_on IS NULL``
    looks selective to SQLite's statistics, as all NULLs count as one value). PostgreSQL has
    real statistics: the condition is passed through unchanged there."""

    function = "likely"
    output_field = BooleanField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return compiler.compile(self.source_expressions[0])


def case_list(*, user: Any, filters: CaseFilters | None = None) -> QuerySet[Case]:
    """The cases the user may see, filtered and sorted.

    A ``unit`` filter outside the user's scope yields no cases (never an error that would
    reveal whether the unit has cases).
    """
    return case_list_for_paging(user=user, filters=filters)[0]


def case_list_for_paging(*, user: Any, filters: CaseFilters | None = None) -> tuple[QuerySet[Case], QuerySet[Case]]:
    """The sorted list and an unsorted queryset of the same cases for counting them.

    They differ only for a frequent charge: the list probes each case in sort order (the
    first page is found after a few rows), the count reads the charge's cases from its index.
    """
    filters = filters or CaseFilters()
    queryset = Case.objects.visible_to(user)
    if filters.unit:
        unit = Unit.objects.filter(code=filters.unit).first()
        if unit is None:
            return queryset.none(), queryset.none()
        scope = user_scope(user)
        if scope.kind != "assigned" and not scope.contains(unit) and not (scope.unit and scope.unit.is_within(unit)):
            return queryset.none(), queryset.none()
        if unit.parent_id is not None:
            queryset = queryset.filter(unit_id__in=Unit.objects.subtree_of(unit).values("id"))
    if filters.business_line:
        queryset = queryset.filter(business_line=filters.business_line)
    if filters.procedure:
        queryset = queryset.filter(procedure=filters.procedure)
    if filters.status == CaseStatus.OPEN:
        queryset = queryset.filter(Likely(ExpressionWrapper(Q(closed_on__isnull=True), output_field=BooleanField())))
    elif filters.status == CaseStatus.CLOSED:
        queryset = queryset.filter(closed_on__isnull=False)
    if filters.received_from:
        queryset = queryset.filter(received_on__gte=filters.received_from)
    if filters.received_to:
        queryset = queryset.filter(received_on__lte=filters.received_to)
    if filters.procurator:
        queryset = queryset.filter(procurator_id=filters.procurator)
    if filters.q:
        # A range instead of LIKE so that the case-number index is used on both databases.
        upper = filters.q + "\U0010ffff"
        queryset = queryset.filter(Q(case_id__gte=filters.q, case_id__lt=upper) | Q(matter_id=filters.q))
    counting = queryset
    if filters.charge:
        named = CaseCharge.objects.filter(charge=filters.charge)
        # Counting streams the charge's index and stops at the cap (a join; (case, charge) is
        # unique, so no case is counted twice); "id IN (…)" would first collect every case
        # of the charge.
        counting = queryset.filter(charge_rows__charge=filters.charge)
        if named[:FREQUENT_CHARGE].count() < FREQUENT_CHARGE:
            queryset = queryset.filter(id__in=named.values("case_id"))
        else:
            queryset = queryset.filter(Exists(named.filter(case_id=OuterRef("pk"))))
    ordered = queryset.select_related("unit").order_by(*SORTS.get(filters.sort, SORTS[DEFAULT_SORT]))
    return ordered, counting.order_by()


class CaseListPaginator(Paginator):
    """Pages of a case list that stay fast on millions of rows.

    * The count stops at ``count_cap``: beyond it the list says "more than …" and
      ``count_capped`` is true (an exact count of a million filtered rows costs up to half a
      second; ``case_count`` gives it on request).
    * A page is read in two steps: the ids of the page first, which the composite indexes
      (unit, received_on, id) and (received_on, id) answer without touching the table, then
      the rows of those ids ("deferred join").
    """

    count_cap = 10_000

    def __init__(self, object_list: Any, per_page: int, *, counting: QuerySet[Case] | None = None) -> None:
        super().__init__(object_list, per_page)
        self.counting = counting if counting is not None else object_list.order_by()

    @cached_property
    def counted(self) -> int:
        """Rows counted, at most ``count_cap + 1``."""
        return self.counting[: self.count_cap + 1].count()

    @cached_property
    def count(self) -> int:  # type: ignore[override]
        return min(self.counted, self.count_cap)

    @property
    def count_capped(self) -> bool:
        return self.counted > self.count_cap

    @cached_property
    def num_pages(self) -> int:  # type: ignore[override]
        if self.count_capped:
            return max(1, -(-self.count_cap // self.per_page))
        return super().num_pages

    def page(self, number: Any) -> Any:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        ids = list(self.object_list.values_list("pk", flat=True)[bottom : bottom + self.per_page])
        position = {pk: index for index, pk in enumerate(ids)}
        # The ids come from the user's filtered list; the rows are read by primary key alone
        # (with the list's other conditions SQLite may pick a worse index for 50 rows).
        rows_query = self.object_list.model._default_manager.filter(pk__in=ids)
        rows_query.query.select_related = self.object_list.query.select_related
        rows_query.query.deferred_loading = self.object_list.query.deferred_loading
        rows = sorted(rows_query, key=lambda case: position[case.pk])
        return self._get_page(rows, number, self)


def case_count(*, user: Any, filters: CaseFilters | None = None) -> int:
    """The exact number of cases of a list (may take a while on millions of rows)."""
    return case_list_for_paging(user=user, filters=filters)[1].count()


def case_persons(case: Case) -> list[Person]:
    return list(case.persons.order_by("position"))


def case_events(case: Case) -> list[Event]:
    """Events in date order; ties keep their order in the exchange record."""
    return sorted(case.events.all(), key=lambda event: (event.on, event.position))
