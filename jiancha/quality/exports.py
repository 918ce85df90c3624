"""The review queue (current findings, filtered) as an Excel workbook.

Same shape as the case list's export (:mod:`jiancha.cases.exports`): write-only openpyxl,
headers and labels in the active language, at most ``EXPORT_LIMIT`` rows with the
truncation said on the sheet and on the info sheet.
"""

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from jiancha.cases.exports import EXPORT_LIMIT, Export, sheet_start, workbook_finish
from jiancha.quality.choices import Severity
from jiancha.quality.models import Finding
from jiancha.quality.selectors import finding_view


def _headers() -> list[tuple[str, int]]:
    return [
        (_("Severity"), 8),
        (_("Rule"), 8),
        (_("Rule name"), 30),
        (_("Case number"), 30),
        (_("Unit"), 28),
        (_("Org code"), 10),
        (_("Procurator"), 12),
        (_("Period"), 12),
        (_("Subject"), 8),
        (_("Explanation"), 70),
        (_("Legal basis"), 36),
        (_("Rule set"), 8),
        (_("Raised"), 18),
    ]


def finding_export_workbook(
    queryset: QuerySet[Finding],
    *,
    language: str,
    limit: int = EXPORT_LIMIT,
    exported_by: str = "",
    filters: list[tuple[str, str]] | None = None,
) -> Export:
    """Write the findings of ``queryset`` (already scoped, filtered and sorted) to an xlsx
    file, each explained as on the case page (``language``)."""
    severities = {key: str(label) for key, label in Severity.choices}
    workbook = Workbook(write_only=True)
    sheet = sheet_start(workbook, _("Findings"), _headers())
    rows = 0
    truncated = False
    findings = queryset.select_related("case", "unit")[: limit + 1]
    for finding in findings.iterator(chunk_size=2000):
        if rows == limit:
            truncated = True
            break
        view = finding_view(finding, language=language)
        sheet.append(
            [
                severities.get(finding.severity, finding.severity),
                finding.rule_id,
                str(view.rule_name),
                finding.case.case_id,
                finding.unit.name,
                finding.unit.code,
                finding.procurator_id,
                finding.period,
                finding.subject,
                view.message,
                view.legal_basis,
                finding.ruleset_version,
                timezone.localtime(finding.raised_at).replace(
                    microsecond=0, tzinfo=None
                )
                if finding.raised_at
                else None,
            ]
        )
        rows += 1
    return workbook_finish(
        workbook,
        sheet,
        title=_("Review queue export"),
        counted=(_("Findings exported"), rows),
        truncated=truncated,
        truncation_note=_(
            "Only the first %(limit)s findings were exported. Narrow the filters to export the rest."
        )
        % {"limit": f"{limit:,}"},
        exported_by=exported_by,
        filters=filters,
    )
