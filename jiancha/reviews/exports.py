"""Review reports: the rows of the per-case and per-plan reports, and the Excel workbook.

The printable pages and the workbooks use the same rows, so they always agree. Labels are
in the active language (STYLE.md §12); a task would wrap the call in
``translation.override``.
"""

import tempfile
from dataclasses import dataclass
from typing import IO, Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from jiancha.accounts.choices import BusinessLine
from jiancha.cases.exports import header_cells
from jiancha.reviews.choices import (
    DimensionRating,
    ObjectionDecision,
    PlanKind,
    ReviewGrade,
    ReviewStatus,
)
from jiancha.reviews.dimensions import DIMENSIONS
from jiancha.reviews.models import Review

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class ReviewReportRow:
    """A review as the reports show it: labels resolved, one rating per dimension."""

    review: Review
    plan_name: str
    plan_kind: str
    case_number: str
    unit_name: str
    unit_code: str
    business_line: str
    procurator_id: str
    reviewer: str
    status: str
    grade: str
    final_grade: str
    objection: str
    objection_reason: str
    decision_reason: str
    ratings: list[tuple[str, str, str]]  # (dimension label, rating label, comment)
    findings: str
    submitted_at: Any


def _label(choices: Any, value: str) -> str:
    return str(dict(choices).get(value, value)) if value else ""


def report_rows(reviews: list[Review]) -> list[ReviewReportRow]:
    """Report rows for reviews already checked by the caller's access path."""
    rows = []
    for review in reviews:
        objection = review.objection if hasattr(review, "objection") else None
        objection_text = ""
        if objection is not None:
            objection_text = (
                _label(ObjectionDecision.choices, objection.decision)
                if objection.decision
                else _("pending")
            )
        scores = review.scores or {}
        rows.append(
            ReviewReportRow(
                review=review,
                plan_name=review.plan.name,
                plan_kind=_label(PlanKind.choices, review.plan.kind),
                case_number=review.case.case_id,
                unit_name=review.case_unit.name,
                unit_code=review.case_unit.code,
                business_line=_label(BusinessLine.choices, review.case.business_line),
                procurator_id=review.procurator_id,
                reviewer=str(review.reviewer),
                status=_label(ReviewStatus.choices, review.status),
                grade=_label(ReviewGrade.choices, review.grade),
                final_grade=_label(ReviewGrade.choices, review.final_grade),
                objection=objection_text,
                objection_reason=objection.reason if objection is not None else "",
                decision_reason=objection.decision_reason
                if objection is not None
                else "",
                ratings=[
                    (
                        str(dimension.label),
                        _label(
                            DimensionRating.choices,
                            str((scores.get(dimension.id) or {}).get("rating", "")),
                        ),
                        str((scores.get(dimension.id) or {}).get("comment", "")),
                    )
                    for dimension in DIMENSIONS
                ],
                findings=review.findings,
                submitted_at=review.submitted_at,
            )
        )
    return rows


def review_headers() -> list[str]:
    return [
        _("Plan"),
        _("Kind"),
        _("Case number"),
        _("Unit"),
        _("Org code"),
        _("Business line"),
        _("Procurator"),
        _("Reviewer"),
        _("Status"),
        _("Grade"),
        _("Final grade"),
        _("Objection"),
        *[str(dimension.label) for dimension in DIMENSIONS],
        pgettext("review", "Findings"),
        _("Submitted"),
    ]


def reviews_workbook(
    rows: list[ReviewReportRow],
    *,
    title: str,
    about: list[tuple[str, Any]],
    summary: list[tuple[str, int]],
) -> IO[bytes]:
    """An xlsx file with a sheet of reviews (one row each), a summary of final grades and
    a sheet saying what the report covers; returned positioned at its start."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Reviews"))
    headers = review_headers()
    for index in range(len(headers)):
        sheet.column_dimensions[get_column_letter(index + 1)].width = (
            30 if index in {0, 2} else 14
        )
    sheet.freeze_panes = "A2"
    sheet.append(header_cells(sheet, headers, wrap=True))
    for row in rows:
        ratings = [
            f"{rating}: {comment}" if comment else rating
            for _label_text, rating, comment in row.ratings
        ]
        submitted = (
            timezone.localtime(row.submitted_at).replace(tzinfo=None, microsecond=0)
            if row.submitted_at
            else None
        )
        sheet.append(
            [
                row.plan_name,
                row.plan_kind,
                row.case_number,
                row.unit_name,
                row.unit_code,
                row.business_line,
                row.procurator_id,
                row.reviewer,
                row.status,
                row.grade,
                row.final_grade,
                row.objection,
                *ratings,
                row.findings,
                submitted,
            ]
        )

    totals = workbook.create_sheet(_("Final grades"))
    totals.column_dimensions["A"].width = 24
    totals.append(header_cells(totals, [_("Final grade"), _("Reviews")], wrap=True))
    for label, count in summary:
        totals.append([label, count])

    info = workbook.create_sheet(_("About this report"))
    info.column_dimensions["A"].width = 24
    info.column_dimensions["B"].width = 70
    info.append(header_cells(info, [title, ""], wrap=True))
    for label, value in about:
        info.append([label, value])
    info.append(
        [_("Exported at"), timezone.localtime().replace(microsecond=0, tzinfo=None)]
    )

    file = tempfile.SpooledTemporaryFile(
        max_size=16 * 1024 * 1024
    )  # FileResponse closes it
    workbook.save(file)
    file.seek(0)
    return file
