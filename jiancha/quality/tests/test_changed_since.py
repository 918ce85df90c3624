"""``evaluate --since`` finds the cases changed on or after the day, in local time."""

import datetime
import zoneinfo

import pytest

from jiancha.cases.importer import import_records
from jiancha.cases.models import Case
from jiancha.quality.services import changed_case_ids
from jiancha.quality.tests.test_rules_cases import prosecution

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("updated", "found"),
    [
        (
            datetime.datetime(2025, 6, 2, 0, 30, tzinfo=SHANGHAI),
            True,
        ),  # 1 Jun 16:30 UTC
        (datetime.datetime(2025, 6, 2, 7, 59, tzinfo=SHANGHAI), True),
        (datetime.datetime(2025, 6, 1, 23, 59, tzinfo=SHANGHAI), False),
    ],
)
def test_a_case_changed_early_on_the_day_is_found(updated, found) -> None:
    record = prosecution()  # closed in 2024: found only by its change
    import_records([record], notify=False)
    Case.objects.filter(case_id=record["case_id"]).update(updated_at=updated)
    case = Case.objects.get(case_id=record["case_id"])
    assert (case.pk in changed_case_ids(datetime.date(2025, 6, 2))) is found
