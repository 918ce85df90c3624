"""The indicator table as an Excel workbook (headers and labels in the active language)."""

import tempfile
from dataclasses import dataclass
from typing import IO

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from jiancha.indicators.services import IndicatorReport, IndicatorValue

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class IndicatorExport:
    file: IO[bytes]
    rows: int


def _percent(value: float | None) -> float | None:
    return None if value is None else value


def _header(sheet: object, titles: list[tuple[str, int]]) -> None:
    for index, (title, width) in enumerate(titles, start=1):
        cell = sheet.cell(row=1, column=index, value=title)  # type: ignore[attr-defined]
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="1F3A68")
        cell.alignment = Alignment(vertical="center", wrap_text=True)
        sheet.column_dimensions[get_column_letter(index)].width = width  # type: ignore[attr-defined]
    sheet.freeze_panes = "A2"  # type: ignore[attr-defined]


def _rows(sheet: object, rows: list[IndicatorValue]) -> None:
    for row in rows:
        value = row.value if row.sufficient else None
        sheet.append(  # type: ignore[attr-defined]
            [
                row.name,
                row.indicator,
                row.unit_name,
                row.unit_code,
                row.period,
                row.numerator,
                row.denominator,
                value,
                row.display,
                row.previous_year_display,
                row.parent_display,
                row.national_display,
                row.definition_version,
            ]
        )
        if value is not None and row.format == "rate":
            sheet.cell(row=sheet.max_row, column=8).number_format = "0.0%"  # type: ignore[attr-defined]


def indicator_export_workbook(report: IndicatorReport, *, exported_by: str = "") -> IndicatorExport:
    """The unit's values, its child units' values and an "about" sheet with the hashes."""
    workbook = Workbook()
    titles = [
        (_("Indicator"), 28),
        (_("Id"), 30),
        (_("Unit"), 26),
        (_("Org code"), 10),
        (_("Period"), 24),
        (_("Numerator"), 11),
        (_("Denominator"), 12),
        (_("Value"), 10),
        (_("Shown as"), 14),
        (_("Previous year"), 14),
        (_("Parent unit"), 14),
        (_("National"), 14),
        (_("Definition version"), 16),
    ]
    sheet = workbook.active
    sheet.title = _("Indicators")
    _header(sheet, titles)
    _rows(sheet, report.rows)
    if report.child_rows:
        children = workbook.create_sheet(_("Units below"))
        _header(children, titles)
        _rows(children, report.child_rows)
    info = workbook.create_sheet(_("About this export"))
    info.column_dimensions["A"].width = 24
    info.column_dimensions["B"].width = 80
    for label, value in [
        (_("Unit"), f"{report.unit.name} ({report.unit.code})"),
        (_("Whole subtree"), _("yes") if report.subtree else _("no")),
        (_("From"), report.date_from.isoformat()),
        (_("To"), report.date_to.isoformat()),
        (_("Definition set"), report.set_name),
        (_("Definition fingerprint"), report.set_fingerprint),
        (_("Computed on"), report.engine),
        (_("Data hash"), report.data_hash),
        (_("Data as of"), timezone.localtime(report.as_of).replace(tzinfo=None) if report.as_of else ""),
        (_("Exported at"), timezone.localtime().replace(microsecond=0, tzinfo=None)),
        (_("Exported by"), exported_by),
        (_("Note"), _("Values with a small denominator are shown as “insufficient sample” and left empty in the Value column.")),
    ]:
        info.append([label, value])
    file = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115 (FileResponse closes it)
    workbook.save(file)
    file.seek(0)
    return IndicatorExport(file=file, rows=len(report.rows) + len(report.child_rows))
