"""The case list as an Excel workbook (openpyxl, write-only so memory stays flat), and
what every list export shares (:func:`sheet_start`, :func:`workbook_finish`,
:func:`xlsx_response`; the review queue's export uses them too).

Column headers and labels are in the active language (STYLE.md §12): the export view runs
under the user's language, and a task would wrap the call in ``translation.override``.
"""

import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, Any

from django.db.models import QuerySet
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from jiancha.cases.choices import BusinessLine, CaseStatus, Procedure
from jiancha.cases.models import Case

# openpyxl writes about 3,000 rows of 15 columns a second (measured: 100,000 rows took
# 30-40 s), so 50,000 rows finish well inside a proxy's or gunicorn's 30 s timeout.
EXPORT_LIMIT = 50_000
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Database columns read per row (no model instances: 100,000 rows stay cheap).
EXPORT_FIELDS = (
    "case_id",
    "unit__name",
    "unit__code",
    "business_line",
    "procedure",
    "procurator_id",
    "primary_charge",
    "received_on",
    "closed_on",
    "matter_id",
    "detained",
    "fast_track",
    "complex",
    "person_count",
)


@dataclass
class Export:
    """A finished workbook in a temporary file, positioned at its start."""

    file: IO[bytes]
    rows: int
    truncated: bool


def _headers() -> list[tuple[str, int]]:
    """Translated column headers and their widths."""
    return [
        (_("Case number"), 30),
        (_("Unit"), 28),
        (_("Org code"), 10),
        (_("Business line"), 16),
        (_("Procedure"), 16),
        (_("Procurator"), 12),
        (_("Charge"), 18),
        (_("Received"), 12),
        (_("Closed"), 12),
        (_("Status"), 8),
        (_("Matter"), 24),
        (_("Detained"), 8),
        (_("Fast track"), 8),
        (_("Major or complex"), 10),
        (_("Persons"), 8),
    ]


def header_cells(
    sheet: Worksheet, titles: Iterable[str], *, wrap: bool = False
) -> list[WriteOnlyCell]:
    cells = []
    for title in titles:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="1F3A68")
        cell.alignment = Alignment(vertical="center", wrap_text=wrap)
        cells.append(cell)
    return cells


def sheet_start(
    workbook: Workbook, title: str, headers: list[tuple[str, int]]
) -> Worksheet:
    """The sheet of an export's rows: column widths, the header row, frozen below it."""
    sheet = workbook.create_sheet(title)
    for index, (_name, width) in enumerate(headers):
        sheet.column_dimensions[get_column_letter(index + 1)].width = width
    sheet.freeze_panes = "A2"
    sheet.append(header_cells(sheet, [name for name, _width in headers]))
    return sheet


def workbook_finish(
    workbook: Workbook,
    sheet: Worksheet,
    *,
    title: str,
    counted: tuple[str, int],
    truncated: bool,
    truncation_note: str,
    exported_by: str,
    filters: list[tuple[str, str]] | None,
) -> Export:
    """End an export of ``counted[1]`` rows: the truncation note under the rows of
    ``sheet`` when ``truncated``, the info sheet (when, by whom, how many, which filters),
    and the saved file at its start."""
    if truncated:
        note = WriteOnlyCell(sheet, value=truncation_note)
        note.font = Font(bold=True, color="B42318")
        sheet.append([note])
    info = workbook.create_sheet(_("About this export"))
    info.column_dimensions["A"].width = 22
    info.column_dimensions["B"].width = 70
    info.append(header_cells(info, [title, ""]))
    info.append(
        [_("Exported at"), timezone.localtime().replace(microsecond=0, tzinfo=None)]
    )
    info.append([_("Exported by"), exported_by])
    info.append(list(counted))
    if truncated:
        info.append([_("Truncated"), truncation_note])
    info.append([_("Filters"), "" if filters else _("none")])
    for label, value in filters or []:
        info.append(["    " + label, value])
    file = tempfile.SpooledTemporaryFile(
        max_size=32 * 1024 * 1024
    )  # FileResponse closes it
    workbook.save(file)
    file.seek(0)
    return Export(file=file, rows=counted[1], truncated=truncated)


def xlsx_response(export: Export, stem: str) -> FileResponse:
    """The download of a finished export, named ``stem-YYYYMMDD-HHMM.xlsx``."""
    return FileResponse(
        export.file,
        as_attachment=True,
        filename=f"{stem}-{timezone.localtime():%Y%m%d-%H%M}.xlsx",
        content_type=XLSX_CONTENT_TYPE,
    )


def case_export_workbook(
    queryset: QuerySet[Case],
    *,
    limit: int = EXPORT_LIMIT,
    exported_by: str = "",
    filters: list[tuple[str, str]] | None = None,
) -> Export:
    """Write the cases of ``queryset`` (already filtered and sorted) to an xlsx file.

    At most ``limit`` rows are written; when there are more, the sheet says so in its last
    row and on the info sheet, so a truncated export is never mistaken for a complete one.
    """
    business_lines: dict[str, Any] = dict(BusinessLine.choices)
    procedures: dict[str, Any] = dict(Procedure.choices)
    business_lines = {key: str(label) for key, label in business_lines.items()}
    procedures = {key: str(label) for key, label in procedures.items()}
    status_open, status_closed = (
        str(CaseStatus.OPEN.label),
        str(CaseStatus.CLOSED.label),
    )
    yes, no = _("yes"), _("no")

    workbook = Workbook(write_only=True)
    sheet = sheet_start(workbook, _("Cases"), _headers())

    rows = 0
    truncated = False
    values = queryset.values_list(*EXPORT_FIELDS)[: limit + 1]
    for (
        case_id,
        unit_name,
        unit_code,
        business_line,
        procedure,
        procurator_id,
        primary_charge,
        received_on,
        closed_on,
        matter_id,
        detained,
        fast_track,
        complex_case,
        person_count,
    ) in values.iterator(chunk_size=2000):
        if rows == limit:
            truncated = True
            break
        sheet.append(
            [
                case_id,
                unit_name,
                unit_code,
                business_lines.get(business_line, business_line),
                procedures.get(procedure, procedure),
                procurator_id,
                primary_charge,
                received_on,
                closed_on,
                status_open if closed_on is None else status_closed,
                matter_id,
                yes if detained else no,
                yes if fast_track else no,
                yes if complex_case else no,
                person_count,
            ]
        )
        rows += 1
    return workbook_finish(
        workbook,
        sheet,
        title=_("Case list export"),
        counted=(_("Cases exported"), rows),
        truncated=truncated,
        truncation_note=_(
            "Only the first %(limit)s cases were exported. Narrow the filters to export the rest."
        )
        % {"limit": f"{limit:,}"},
        exported_by=exported_by,
        filters=filters,
    )
