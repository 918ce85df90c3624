"""Computing indicators per unit and period, and publishing frozen reports.

``indicator_compute`` is the library call: definitions in, numerators and denominators out,
for any set of units (each with its whole subtree rolled up, and its own cases alone) and
periods. ``indicator_report`` adds what a reader needs beside a number: the previous year's
value, the parent unit's and the national value, the published SPP value and the reference
range issued by a higher unit, and whether the sample is large enough to show a rate.
``report_publish`` freezes such a table with the definition version and the data hash.
"""

import datetime
import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import orjson
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jiancha.accounts.models import Department, Unit
from jiancha.core.audit import audit_record
from jiancha.core.errors import BusinessError
from jiancha.indicators.compiler import (
    BY_VALUES,
    CaseScope,
    QueryBuilder,
    indicator_terms,
    term_key,
)
from jiancha.indicators.definitions import (
    DEFAULT_SET,
    Indicator,
    definition_set,
    select_indicators,
)
from jiancha.indicators.engines import Engine
from jiancha.indicators.models import PublishedReport, ReferenceRange
from jiancha.indicators.rollup import rollup

ROOT_CODE = "000000"
CASE_LIST_LIMIT = 500


# Periods ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    label: str
    date_from: datetime.date
    date_to: datetime.date


def _month_end(day: datetime.date) -> datetime.date:
    following = (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return following - datetime.timedelta(days=1)


def period_list(date_from: datetime.date, date_to: datetime.date, by: str | None) -> list[Period]:
    """The periods of a range, clipped to it; one period for the whole range without ``by``."""
    if by is None:
        return [Period(f"{date_from.isoformat()}/{date_to.isoformat()}", date_from, date_to)]
    if by not in BY_VALUES:
        raise ValueError(by)
    periods = []
    start = date_from
    while start <= date_to:
        if by == "month":
            end = _month_end(start)
            label = start.strftime("%Y-%m")
        elif by == "quarter":
            quarter = (start.month - 1) // 3 + 1
            end = _month_end(datetime.date(start.year, quarter * 3, 1))
            label = f"{start.year}-Q{quarter}"
        else:
            end = datetime.date(start.year, 12, 31)
            label = str(start.year)
        periods.append(Period(label, start, min(end, date_to)))
        start = end + datetime.timedelta(days=1)
    return periods


def year_earlier(day: datetime.date) -> datetime.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def year_to_date(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    return datetime.date(today.year, 1, 1), today


# Computing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorFilters:
    """The dashboard's dimensions besides unit and period."""

    business_line: str = ""
    department: Department | None = None
    procurator: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "business_line": self.business_line,
            "department": self.department.pk if self.department else None,
            "procurator": self.procurator,
        }


def case_scope(
    *,
    targets: Sequence[int] | None,
    filters: IndicatorFilters,
    unit_only: int | None = None,
) -> CaseScope:
    lines: tuple[str, ...] = ()
    if filters.business_line:
        lines = (filters.business_line,)
    if filters.department is not None:
        department_lines = tuple(filters.department.business_lines)
        lines = tuple(line for line in department_lines if not lines or line in lines) or ("-",)
        unit_only = filters.department.unit_id
    if filters.procurator and unit_only is None:
        raise BusinessError(_("A procurator is identified within one unit: choose the unit's own cases."), code="procurator_needs_unit")
    paths: tuple[str, ...] | None = None
    if targets is not None:
        rows = list(Unit.objects.filter(pk__in=list(targets)).values_list("path", "parent_id"))
        paths = None if any(parent is None for _path, parent in rows) else tuple(path for path, _parent in rows)
    return CaseScope(
        targets=paths,
        business_lines=lines,
        unit_only=unit_only,
        procurator=filters.procurator,
    )


@dataclass
class IndicatorTable:
    """Numerators and denominators: one row per (unit, period), one column per indicator.

    ``numerator``/``denominator`` are the unit's whole subtree; ``own_numerator``/
    ``own_denominator`` its own cases only.
    """

    indicators: list[Indicator]
    unit_ids: np.ndarray
    buckets: list[str]
    numerator: np.ndarray
    denominator: np.ndarray
    own_numerator: np.ndarray
    own_denominator: np.ndarray
    seconds: float = 0.0
    _index: dict[tuple[int, str], int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._index = {(int(unit_id), bucket): row for row, (unit_id, bucket) in enumerate(zip(self.unit_ids, self.buckets, strict=True))}

    def __len__(self) -> int:
        return len(self.buckets)

    def get(self, unit_id: int, bucket: str, column: int, *, own: bool = False) -> tuple[int, int]:
        row = self._index.get((unit_id, bucket))
        if row is None:
            return 0, 0
        if own:
            return int(self.own_numerator[row, column]), int(self.own_denominator[row, column])
        return int(self.numerator[row, column]), int(self.denominator[row, column])


def _term_matrix(indicators: Sequence[Indicator], index: dict[str, int], side: str) -> np.ndarray:
    matrix = np.zeros((len(index), len(indicators)), dtype=np.int64)
    for column, indicator in enumerate(indicators):
        measure = indicator.numerator if side == "numerator" else indicator.denominator
        for term in measure.terms:
            matrix[index[term_key(term)], column] += 1
    return matrix


def indicator_compute(
    *,
    indicators: Sequence[Indicator],
    date_from: datetime.date,
    date_to: datetime.date,
    by: str | None,
    engine: Engine,
    targets: Sequence[int] | None,
    outputs: Sequence[int] | None,
    filters: IndicatorFilters | None = None,
    unit_only: int | None = None,
) -> IndicatorTable:
    """Numerators and denominators of ``indicators`` for the ``outputs`` units.

    ``targets`` limits the cases read to those units' subtrees (``None``: every unit);
    ``outputs`` are the units reported, each with its subtree rolled up (``None``: every
    unit). An event counts in the period its date falls in.
    """
    import time

    started = time.perf_counter()
    filters = filters or IndicatorFilters()
    scope = case_scope(targets=targets, filters=filters, unit_only=unit_only)
    compiled = QueryBuilder(engine.dialect).compile(indicator_terms(indicators), date_from=date_from, date_to=date_to, by=by, scope=scope)
    leaf = engine.run(compiled)
    unit_ids, parent_ids = engine.unit_tree()
    raw = rollup(leaf, unit_ids, parent_ids, outputs)
    numerator = _term_matrix(indicators, compiled.term_index, "numerator")
    denominator = _term_matrix(indicators, compiled.term_index, "denominator")
    return IndicatorTable(
        indicators=list(indicators),
        unit_ids=raw.unit_ids,
        buckets=raw.buckets,
        numerator=raw.subtree @ numerator,
        denominator=raw.subtree @ denominator,
        own_numerator=raw.own @ numerator,
        own_denominator=raw.own @ denominator,
        seconds=time.perf_counter() - started,
    )


def indicator_case_ids(
    *,
    indicator: Indicator,
    side: str,
    unit: Unit,
    subtree: bool,
    date_from: datetime.date,
    date_to: datetime.date,
    engine: Engine,
    filters: IndicatorFilters | None = None,
    limit: int = CASE_LIST_LIMIT,
) -> list[int]:
    """Ids of the cases behind a numerator or denominator (at most ``limit`` + 1)."""
    measure = indicator.numerator if side == "numerator" else indicator.denominator
    scope = case_scope(targets=[unit.pk], filters=filters or IndicatorFilters(), unit_only=None if subtree else unit.pk)
    compiled = QueryBuilder(engine.dialect).compile_cases(measure.terms, date_from=date_from, date_to=date_to, scope=scope, limit=limit)
    return engine.case_ids(compiled.sql)


# Presenting a value ----------------------------------------------------------------------


def indicator_value(numerator: int, denominator: int) -> float | None:
    return None if denominator == 0 else numerator / denominator


def format_value(indicator: Indicator, value: float | None) -> str:
    if value is None:
        return "—"
    if indicator.format == "ratio":
        return f"1:{value:.2f}"
    if indicator.format == "days":
        return _("%(days)s days") % {"days": f"{value:.1f}"}
    percent = value * 100
    return f"{percent:.2f}%" if 0 < percent < 1 else f"{percent:.1f}%"


def is_sufficient(indicator: Indicator, denominator: int) -> bool:
    return denominator >= indicator.min_denominator


def display_value(indicator: Indicator, numerator: int, denominator: int) -> str:
    """The value as shown: a small denominator shows "insufficient sample" (样本不足)."""
    if denominator == 0:
        return _("No cases")
    if not is_sufficient(indicator, denominator):
        return _("Insufficient sample")
    return format_value(indicator, indicator_value(numerator, denominator))


def rankings_enabled(indicator_id: str) -> bool:
    """Rankings are off unless ``INDICATORS_RANKINGS`` lists the indicator (or ``"*"``)."""
    enabled = getattr(settings, "INDICATORS_RANKINGS", ())
    return "*" in enabled or indicator_id in enabled


@dataclass
class IndicatorValue:
    """One indicator for one unit and period, with what to compare it with."""

    indicator: str
    name: str
    unit_code: str
    unit_name: str
    period: str
    numerator: int
    denominator: int
    value: float | None
    sufficient: bool
    display: str
    format: str
    direction: str
    counting_unit: str
    set: str
    definition_version: str
    own_numerator: int
    own_denominator: int
    previous_year_value: float | None = None
    previous_year_display: str = ""
    parent_value: float | None = None
    parent_display: str = ""
    national_value: float | None = None
    national_display: str = ""
    published_value: float | None = None
    published_period: str = ""
    reference_low: float | None = None
    reference_high: float | None = None
    reference_issued_by: str = ""
    outside_reference: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class IndicatorReport:
    """Everything the dashboard, the API and the command show for one query."""

    unit: Unit
    date_from: datetime.date
    date_to: datetime.date
    by: str | None
    set_name: str
    set_fingerprint: str
    periods: list[Period]
    indicators: list[Indicator]
    rows: list[IndicatorValue]
    children: list[Unit]
    child_rows: list[IndicatorValue]
    engine: str
    data_hash: str
    as_of: datetime.datetime | None
    subtree: bool
    filters: IndicatorFilters

    def table_rows(self) -> list[dict[str, Any]]:
        return [row.as_dict() for row in self.rows]


def _cached_compute(engine: Engine, key_parts: dict[str, Any], compute: Any) -> IndicatorTable:
    """Snapshot results never change for a given data hash: cache them (national values)."""
    if engine.name != "snapshot":
        return compute()  # type: ignore[no-any-return]
    key = "indicators:" + hashlib.sha256(orjson.dumps({**key_parts, "hash": engine.data_hash()}, option=orjson.OPT_SORT_KEYS, default=str)).hexdigest()
    table = cache.get(key)
    if table is None:
        table = compute()
        cache.set(key, table, 3600)
    return table  # type: ignore[no-any-return]


def reference_ranges(unit: Unit, indicator_ids: Sequence[str], year: int) -> dict[str, ReferenceRange]:
    """The reference range that applies to ``unit``: issued by it or its nearest ancestor."""
    ancestors = [code for code in unit.path.strip("/").split("/") if code]
    ranges = ReferenceRange.objects.filter(indicator__in=list(indicator_ids), year=year, issued_by_unit__code__in=ancestors).select_related("issued_by_unit")
    chosen: dict[str, ReferenceRange] = {}
    for item in ranges:
        current = chosen.get(item.indicator)
        if current is None or item.issued_by_unit.level > current.issued_by_unit.level:
            chosen[item.indicator] = item
    return chosen


def indicator_report(
    *,
    unit: Unit,
    subtree: bool,
    date_from: datetime.date,
    date_to: datetime.date,
    by: str | None,
    engine: Engine,
    set_name: str = DEFAULT_SET,
    indicator_ids: Sequence[str] | None = None,
    filters: IndicatorFilters | None = None,
    children: bool = False,
    compare: bool = True,
) -> IndicatorReport:
    """Values of the unit (whole subtree, or its own cases when ``subtree`` is False).

    ``children`` adds one row per child unit (drill-down); ``compare`` adds the previous
    year's, the parent unit's and the national values. Parent and national values are
    shown as rates only, never as the cases behind them.
    """
    if date_from > date_to:
        raise BusinessError(_("The start date is after the end date."), code="invalid_range")
    filters = filters or IndicatorFilters()
    definitions = definition_set(set_name)
    indicators = select_indicators(definitions, indicator_ids)
    periods = period_list(date_from, date_to, by)
    if filters.procurator or filters.department is not None:
        subtree = False  # a procurator or a department is identified within one unit
    child_units = list(unit.children.order_by("code")) if (children and subtree) else []
    unit_only = None if subtree else unit.pk
    outputs = [unit.pk] + [child.pk for child in child_units]
    current = indicator_compute(
        indicators=indicators, date_from=date_from, date_to=date_to, by=by, engine=engine,
        targets=[unit.pk], outputs=outputs, filters=filters, unit_only=unit_only,
    )
    previous = parent = national = None
    previous_periods = period_list(year_earlier(date_from), year_earlier(date_to), by)
    if compare:
        previous = indicator_compute(
            indicators=indicators, date_from=previous_periods[0].date_from, date_to=previous_periods[-1].date_to, by=by,
            engine=engine, targets=[unit.pk], outputs=[unit.pk], filters=filters, unit_only=unit_only,
        )
        if not filters.procurator and filters.department is None:
            root = Unit.objects.filter(code=ROOT_CODE).first() or unit
            comparison_units = [root.pk] + ([unit.parent_id] if unit.parent_id else [])
            key = {"set": set_name, "ids": [i.id for i in indicators], "from": date_from, "to": date_to, "by": by, "outputs": sorted(comparison_units), "filters": filters.as_dict()}
            wide = _cached_compute(
                engine,
                key,
                lambda: indicator_compute(
                    indicators=indicators, date_from=date_from, date_to=date_to, by=by, engine=engine,
                    targets=None, outputs=comparison_units, filters=filters,
                ),
            )
            national = (wide, root.pk)
            if unit.parent_id:
                parent = (wide, unit.parent_id)
    ranges = reference_ranges(unit, [i.id for i in indicators], date_to.year)

    def value_row(target: Unit, period: Period, column: int, indicator: Indicator) -> IndicatorValue:
        numerator, denominator = current.get(target.pk, period.label, column, own=not subtree)
        own_numerator, own_denominator = current.get(target.pk, period.label, column, own=True)
        value = indicator_value(numerator, denominator)
        row = IndicatorValue(
            indicator=indicator.id,
            name=indicator.name,
            unit_code=target.code,
            unit_name=target.name,
            period=period.label,
            numerator=numerator,
            denominator=denominator,
            value=value,
            sufficient=is_sufficient(indicator, denominator),
            display=display_value(indicator, numerator, denominator),
            format=indicator.format,
            direction=indicator.direction,
            counting_unit=indicator.counting_unit,
            set=indicator.set_name,
            definition_version=indicator.version,
            own_numerator=own_numerator,
            own_denominator=own_denominator,
        )
        published = indicator.published
        if published:
            row.published_value = float(published["value"])
            row.published_period = str(published.get("period", ""))
        return row

    rows: list[IndicatorValue] = []
    for index, period in enumerate(periods):
        for column, indicator in enumerate(indicators):
            row = value_row(unit, period, column, indicator)
            if previous is not None:
                p_num, p_den = previous.get(unit.pk, previous_periods[index].label, column, own=not subtree)
                row.previous_year_value = indicator_value(p_num, p_den) if is_sufficient(indicator, p_den) else None
                row.previous_year_display = display_value(indicator, p_num, p_den)
            for attribute, pair in (("parent", parent), ("national", national)):
                if pair is None:
                    continue
                table, unit_id = pair
                c_num, c_den = table.get(unit_id, period.label, column)
                setattr(row, f"{attribute}_value", indicator_value(c_num, c_den) if is_sufficient(indicator, c_den) else None)
                setattr(row, f"{attribute}_display", display_value(indicator, c_num, c_den))
            reference = ranges.get(indicator.id)
            if reference is not None:
                row.reference_low = reference.low
                row.reference_high = reference.high
                row.reference_issued_by = reference.issued_by_unit.name
                if row.value is not None and row.sufficient:
                    row.outside_reference = (reference.low is not None and row.value < reference.low) or (
                        reference.high is not None and row.value > reference.high
                    )
            rows.append(row)
    child_rows = [
        value_row(child, period, column, indicator)
        for child in child_units
        for period in periods
        for column, indicator in enumerate(indicators)
    ]
    return IndicatorReport(
        unit=unit,
        date_from=date_from,
        date_to=date_to,
        by=by,
        set_name=set_name,
        set_fingerprint=definitions.fingerprint,
        periods=periods,
        indicators=indicators,
        rows=rows,
        children=child_units,
        child_rows=child_rows,
        engine=engine.name,
        data_hash=engine.data_hash(),
        as_of=engine.as_of(),
        subtree=subtree,
        filters=filters,
    )


# Publishing ------------------------------------------------------------------------------


def _content_hash(payload: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


FROZEN_FIELDS = (
    "indicator", "name", "unit_code", "unit_name", "period", "numerator", "denominator", "value", "sufficient",
    "display", "format", "direction", "definition_version", "previous_year_display", "parent_display", "national_display",
)


@transaction.atomic
def report_publish(*, report: IndicatorReport, title: str, actor: Any, note: str = "") -> PublishedReport:
    """Freeze a report's table with its definition version and the hash of its data.

    The frozen rows are stored as computed, so the table circulated on a date can be shown
    again exactly, even after the data or the definitions change.
    """
    if not title.strip():
        raise BusinessError(_("A published report needs a title."), code="title_required")
    rows = [{key: getattr(row, key) for key in FROZEN_FIELDS} for row in report.rows + report.child_rows]
    payload = {
        "unit": report.unit.code,
        "from": report.date_from.isoformat(),
        "to": report.date_to.isoformat(),
        "by": report.by or "",
        "set": report.set_name,
        "set_fingerprint": report.set_fingerprint,
        "data_hash": report.data_hash,
        "filters": report.filters.as_dict(),
        "rows": rows,
    }
    published = PublishedReport(
        title=title.strip()[:200],
        unit=report.unit,
        date_from=report.date_from,
        date_to=report.date_to,
        by=report.by or "",
        set_name=report.set_name,
        definition_fingerprint=report.set_fingerprint,
        definition_versions=sorted({indicator.version for indicator in report.indicators}),
        engine=report.engine,
        data_hash=report.data_hash,
        data_as_of=report.as_of,
        filters=report.filters.as_dict(),
        table=rows,
        content_hash=_content_hash(payload),
        note=note[:1000],
        published_by=actor if getattr(actor, "pk", None) else None,
        published_at=timezone.now(),
    )
    published.full_clean()
    published.save()
    audit_record(
        actor=actor,
        verb="indicators.publish",
        target=published,
        details={"unit": report.unit.code, "from": payload["from"], "to": payload["to"], "set": report.set_name, "data_hash": report.data_hash, "content_hash": published.content_hash},
    )
    return published


def published_report_verify(published: PublishedReport) -> bool:
    """True when the stored table still matches the hash recorded when it was published."""
    payload = {
        "unit": published.unit.code,
        "from": published.date_from.isoformat(),
        "to": published.date_to.isoformat(),
        "by": published.by,
        "set": published.set_name,
        "set_fingerprint": published.definition_fingerprint,
        "data_hash": published.data_hash,
        "filters": published.filters,
        "rows": published.table,
    }
    return _content_hash(payload) == published.content_hash


@transaction.atomic
def reference_range_issue(
    *, indicator_id: str, unit: Unit, year: int, low: float | None, high: float | None, actor: Any, note: str = ""
) -> ReferenceRange:
    """A higher unit issues a reference range (参考值) for its subtree, for one year."""
    definition_set(DEFAULT_SET).get(indicator_id)
    if low is None and high is None:
        raise BusinessError(_("A reference range needs a lower or an upper bound."), code="empty_range")
    if low is not None and high is not None and low > high:
        raise BusinessError(_("The lower bound is above the upper bound."), code="invalid_range")
    item, _created = ReferenceRange.objects.update_or_create(
        indicator=indicator_id,
        issued_by_unit=unit,
        year=year,
        defaults={"low": low, "high": high, "note": note, "issued_by": actor if getattr(actor, "pk", None) else None, "issued_at": timezone.now()},
    )
    audit_record(actor=actor, verb="indicators.reference_range", target=item, details={"indicator": indicator_id, "unit": unit.code, "year": year, "low": low, "high": high})
    return item


def json_rows(rows: Sequence[IndicatorValue]) -> bytes:
    return orjson.dumps([row.as_dict() for row in rows], option=orjson.OPT_INDENT_2)
