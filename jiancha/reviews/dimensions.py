"""The review dimensions (评查项目) as data: what a reviewer rates on every case.

The list follows DOMAIN.md §4.2 (local 每案必查 lists, e.g. Yumen, Gansu; Inner Mongolia
2026). Adding a dimension is adding a row here: stored reviews keep their ratings by id, and
a review submitted before the row existed simply has no rating for it.
"""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Dimension:
    """One thing a reviewer checks, with its Chinese name as the rules write it."""

    id: str
    label: Promise
    name_zh: str


DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("fact_finding", _("fact finding"), "事实认定"),
    Dimension("evidence", _("evidence"), "证据采信"),
    Dimension("law_application", _("application of law"), "法律适用"),
    Dimension("procedure", _("procedure and time limits"), "办案程序"),
    Dimension("risk_assessment", _("risk assessment"), "风险评估"),
    Dimension("documents", _("legal documents"), "文书制作"),
    Dimension("reasoning", _("reasoning to the parties"), "释法说理"),
    Dimension("seized_property", _("seized property"), "涉案财物处置"),
    Dimension("filing", _("case file and archiving"), "案件材料立卷归档"),
    Dimension("system_entry", _("data entry in the case system"), "办案系统应用"),
    Dimension("responsibility", _("judicial responsibility"), "落实司法责任制"),
    Dimension("effects", _("effects of the handling"), "办案效果"),
)

DIMENSION_IDS: tuple[str, ...] = tuple(dimension.id for dimension in DIMENSIONS)


def dimension_for(dimension_id: str) -> Dimension | None:
    for dimension in DIMENSIONS:
        if dimension.id == dimension_id:
            return dimension
    return None
