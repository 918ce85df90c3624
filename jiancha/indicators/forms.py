"""Parsing the query of the dashboard, the API and the command (one set of rules)."""

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from jiancha.accounts.models import Department
from jiancha.cases.choices import BusinessLine
from jiancha.indicators.compiler import BY_VALUES
from jiancha.indicators.definitions import DEFAULT_SET, definition_sets

PRESETS = ("month", "quarter", "year", "ytd", "custom")
MAX_RANGE_DAYS = 366 * 5


@dataclass
class IndicatorQuery:
    unit: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    by: str | None = None
    set_name: str = DEFAULT_SET
    indicators: list[str] = field(default_factory=list)
    business_line: str = ""
    department: Department | None = None
    procurator: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def dates(self) -> tuple[datetime.date, datetime.date]:
        if self.date_from is None or self.date_to is None:
            raise ValueError("the query has errors")
        return self.date_from, self.date_to

    def as_params(self) -> dict[str, str]:
        params = {"unit": self.unit, "from": self.date_from.isoformat() if self.date_from else "", "to": self.date_to.isoformat() if self.date_to else ""}
        if self.by:
            params["by"] = self.by
        if self.set_name != DEFAULT_SET:
            params["set"] = self.set_name
        if self.business_line:
            params["business_line"] = self.business_line
        if self.department is not None:
            params["department"] = str(self.department.pk)
        if self.procurator:
            params["procurator"] = self.procurator
        return {key: value for key, value in params.items() if value}


def _date(value: str, name: str, errors: dict[str, str]) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        errors[name] = _("Enter a date as YYYY-MM-DD.")
        return None


def parse_query(params: Any, *, default_by: str | None = None, today: datetime.date | None = None) -> IndicatorQuery:
    """Read unit, from, to, by, set, indicator, business_line, department and procurator."""
    query = IndicatorQuery()
    errors = query.errors
    today = today or timezone.localdate()
    query.unit = (params.get("unit") or "").strip()
    raw_from, raw_to = (params.get("from") or "").strip(), (params.get("to") or "").strip()
    query.date_from = _date(raw_from, "from", errors) if raw_from else datetime.date(today.year, 1, 1)
    query.date_to = _date(raw_to, "to", errors) if raw_to else today
    if query.date_from and query.date_to:
        if query.date_from > query.date_to:
            errors["to"] = _("The end date is before the start date.")
        elif (query.date_to - query.date_from).days > MAX_RANGE_DAYS:
            errors["to"] = _("Choose a range of at most five years.")
    by = (params.get("by") or "").strip() or default_by
    if by in ("", "none", "all"):
        by = None
    if by is not None and by not in BY_VALUES:
        errors["by"] = _("Choose month, quarter or year.")
        by = None
    query.by = by
    set_name = (params.get("set") or DEFAULT_SET).strip()
    if set_name not in definition_sets():
        errors["set"] = _("Unknown definition set “%(name)s”.") % {"name": set_name}
        set_name = DEFAULT_SET
    query.set_name = set_name
    ids = params.getlist("indicator") if hasattr(params, "getlist") else params.get("indicator") or []
    if isinstance(ids, str):
        ids = [ids]
    ids = [item for value in ids for item in str(value).split(",") if item]
    known = set(definition_sets()[set_name].ids())
    unknown = [item for item in ids if item not in known]
    if unknown:
        errors["indicator"] = _("Unknown indicator “%(id)s” in this set.") % {"id": unknown[0]}
    query.indicators = [item for item in ids if item in known]
    line = (params.get("business_line") or "").strip()
    if line and line not in BusinessLine.values:
        errors["business_line"] = _("Unknown business line.")
        line = ""
    query.business_line = line
    department = (params.get("department") or "").strip()
    if department:
        query.department = Department.objects.filter(pk=int(department)).select_related("unit").first() if department.isdigit() else None
        if query.department is None:
            errors["department"] = _("Unknown department.")
    query.procurator = (params.get("procurator") or "").strip()[:32]
    return query
