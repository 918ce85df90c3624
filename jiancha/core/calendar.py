"""The legal calendar: how statutory periods are counted (刑事诉讼法 第105条).

* The day on which a period starts is not counted: a 7-day period from the 1st ends on the 8th.
* A period counted in months ends on the same day of the later month (the last day of that
  month when it has no such day).
* A period whose last day is a holiday ends on the next working day, *except* while the
  suspect or defendant is in custody (在押): then it ends on its last day regardless.

Holidays and make-up working days (调休) are yearly data in ``core/data/holidays.json``.
"""

import calendar
import datetime
import json
from functools import cache
from pathlib import Path

HOLIDAYS_FILE = Path(__file__).resolve().parent / "data" / "holidays.json"


@cache
def _calendar_data() -> tuple[frozenset[datetime.date], frozenset[datetime.date]]:
    data = json.loads(HOLIDAYS_FILE.read_text(encoding="utf-8"))
    holidays: set[datetime.date] = set()
    workdays: set[datetime.date] = set()
    for key, year in data.items():
        if key.startswith("_"):
            continue
        holidays.update(datetime.date.fromisoformat(day) for day in year["holidays"])
        workdays.update(datetime.date.fromisoformat(day) for day in year["workdays"])
    return frozenset(holidays), frozenset(workdays)


def is_working_day(day: datetime.date) -> bool:
    holidays, workdays = _calendar_data()
    if day in workdays:
        return True
    if day in holidays:
        return False
    return day.weekday() < 5


def next_working_day(day: datetime.date) -> datetime.date:
    while not is_working_day(day):
        day += datetime.timedelta(days=1)
    return day


def add_months(day: datetime.date, months: int) -> datetime.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def period_end(
    start: datetime.date,
    *,
    days: int = 0,
    months: int = 0,
    in_custody: bool = False,
) -> datetime.date:
    """The last day of a statutory period of ``months`` and ``days`` starting on ``start``."""
    end = add_months(start, months) if months else start
    end += datetime.timedelta(days=days)
    if in_custody:
        return end
    return next_working_day(end)
