"""Statutory deadlines of a case, computed from its events (DOMAIN.md §2).

Interface (stable): ``case_deadlines(case, events) -> list[Deadline]``.
"""

import datetime
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Deadline:
    """One statutory time limit applied to a case and whether it was met."""

    key: str  # e.g. "arrest_review", "prosecution_review", "rights_notice"
    label: str  # translated name, e.g. 审查逮捕期限
    basis: str  # legal basis, e.g. "刑事诉讼法 第91条"
    limit: str  # translated limit, e.g. "7 days"
    start: datetime.date
    due: datetime.date
    ended_on: datetime.date | None  # when the clock stopped (decision etc.), None if still running
    start_event_id: int | None
    end_event_id: int | None
    status: str  # "met" | "missed" | "running" | "overdue"

    @property
    def met(self) -> bool:
        return self.status == "met"


def case_deadlines(case: Any, events: list[Any]) -> list[Deadline]:
    return []
